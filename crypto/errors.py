"""Errors raised by the crypto layer; the store turns them into user-facing messages."""

from __future__ import annotations


class CryptoError(Exception):
    """Base class for every failure of the crypto layer."""


class DecryptionFailed(CryptoError):
    """A token or wrapped key did not authenticate under the key offered."""


class SlotTampered(DecryptionFailed):
    """A key slot opened under the passphrase, but its header or key does not match the sealed copy inside."""


class BadParameters(CryptoError):
    """Stored KDF or format parameters are outside the accepted range."""


class MalformedData(CryptoError):
    """Serialized key material is not in the expected shape."""


class BundleError(CryptoError):
    """A bundle, receipt or card was refused; the message says why in one line."""

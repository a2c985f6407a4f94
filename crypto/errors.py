"""Errors raised by the crypto layer; the store turns them into user-facing messages."""

from __future__ import annotations

#: How much of an outside value an error message shows.
QUOTE_LIMIT = 40


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """An outside value (from a file, bundle or card) for an error message: `repr()`-quoted, cut to `limit`.

    `repr` escapes newlines, ESC and every other control, bidi or non-printable character, so a quoted
    value can neither break the message's one line nor reach a terminal raw. Text is cut before quoting
    (`'abc…'` keeps its quotes); other values are cut after. The crypto layer's twin of `store.text.quote`.
    """
    if isinstance(value, str):
        return repr(value[:limit]) + ("…" if len(value) > limit else "")
    shown = repr(value)
    return shown if len(shown) <= limit else shown[:limit] + "…"


class CryptoError(Exception):
    """Base class for every failure of the crypto layer."""


class DecryptionFailed(CryptoError):
    """A token or wrapped key did not authenticate under the key offered."""


class SlotTampered(DecryptionFailed):
    """A key slot opened under the passphrase, but its header or key does not match the sealed copy inside."""


class SlotParametersChanged(DecryptionFailed):
    """A key slot's KDF parameters differ from those it was written with (its parameter check does not match).

    Found before any key derivation. Without the passphrase an edited slot cannot be told from a wrong
    passphrase for certain (whoever edits the parameters can redo the check), so callers say "wrong passphrase
    or damaged key slot".
    """


class BadParameters(CryptoError):
    """Stored KDF or format parameters are outside the accepted range."""


class MalformedData(CryptoError):
    """Serialized key material is not in the expected shape."""


class BundleError(CryptoError):
    """A bundle, receipt or card was refused; the message says why in one line."""


class BadSignature(DecryptionFailed):
    """A signature (checkpoint note, audit event) is missing or does not verify under the expected key."""

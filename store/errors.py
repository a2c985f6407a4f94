"""User-facing errors of the store; each message is one line the CLI prints after `error: `."""

from __future__ import annotations


class LiaisonError(Exception):
    """A refused action or bad input; `str(exc)` is the one-line reason."""


class ValidationError(LiaisonError):
    """Input that is not acceptable (unknown domain, empty title, …)."""


class PolicyError(LiaisonError):
    """An action the rules refuse (role, four-eyes, state)."""


class NotFound(LiaisonError):
    """A reference, officer or ministry that does not exist."""


class AuthError(LiaisonError):
    """Wrong passphrase or an officer that cannot unlock."""


class StoreFileError(LiaisonError):
    """The file is not a Liaison store, is corrupt, or comes from a newer schema."""


class TamperError(LiaisonError):
    """Stored data failed authentication."""

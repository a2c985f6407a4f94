"""Structured errors of the store: what they are about (`field`, `reference`, `value`) and one plain-language line.

Messages speak no CLI vocabulary (no flags, no command names); each face — the CLI and the app — adds its
own hint from the structured attributes. `str(exc)` is the one-line reason.
"""

from __future__ import annotations


class LiaisonError(Exception):
    """A refused action or bad input; `str(exc)` is the one-line reason."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        reference: str | None = None,
        value: object = None,
    ) -> None:
        super().__init__(message)
        #: The input field the error is about (`title`, `summary`, `passphrase_file`, …), if any.
        self.field = field
        #: The record reference the error is about, if any.
        self.reference = reference
        #: The offending value as given (never printed raw: faces quote it with `store.text.quote`).
        self.value = value

    @property
    def message(self) -> str:
        """The plain-language one-line reason."""
        return str(self)


class ValidationError(LiaisonError):
    """Input that is not acceptable (unknown domain, empty title, a control character, …)."""


class PolicyError(LiaisonError):
    """An action the rules refuse (role, four-eyes, state)."""


class NotFound(LiaisonError):
    """A reference, officer or ministry that does not exist."""


class AuthError(LiaisonError):
    """Wrong passphrase or an officer that cannot unlock."""


class StoreFileError(LiaisonError):
    """The file is not a Liaison store, is corrupt, or comes from a newer schema."""


class StoreBusy(StoreFileError):
    """Another process holds the store's write lock for longer than the busy timeout."""


class TamperError(LiaisonError):
    """Stored data failed authentication."""


class IntegrityError(TamperError):
    """A stored value is not one this version can accept (unknown TLP, status, domain…), naming the record."""

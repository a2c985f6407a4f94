"""The inbox folder (`LIAISON_INBOX`): where counterparts' files arrive and the app announces them. What the app
writes itself never goes there by default: a receipt for a bundle taken from the inbox defaults to the `outbox`
folder beside it (made when first needed), so the app never announces its own receipt as an arrival."""

from __future__ import annotations

from pathlib import Path

#: The folder beside the inbox that receipts for the inbox's bundles default to.
OUTBOX = "outbox"


def folder(inbox: str) -> Path | None:
    """The inbox folder, or None when none is set."""
    return Path(inbox).expanduser().resolve() if inbox else None


def in_inbox(path: Path, inbox: str) -> bool:
    """Whether `path` lies in the inbox folder (or below it)."""
    box = folder(inbox)
    return box is not None and path.expanduser().resolve().parent.is_relative_to(box)


def outbox(inbox: str) -> Path | None:
    """The outbox beside the inbox, or None when no inbox is set."""
    box = folder(inbox)
    return None if box is None else box.parent / OUTBOX


def receipt_default(bundle: Path, sender: str, bundle_id: str, inbox: str) -> Path:
    """Where the receipt for `bundle` is offered to be written: beside the bundle, or in the outbox when the bundle
    came from the inbox."""
    name = f"receipt-{sender.lower()}-{bundle_id[:8]}.receipt"
    out = outbox(inbox)
    return out / name if out is not None and in_inbox(bundle, inbox) else bundle.with_name(name)

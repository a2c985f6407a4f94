"""Which kind of file an officer picked for import: a Liaison bundle or receipt, a STIX bundle or a MISP event."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from store.bundles import BundleRefused, file_kind
from store.interop.common import ImportResult, InteropRefused, load_json
from store.interop.misp import MISP, looks_like_misp
from store.interop.stix import STIX, looks_like_stix

if TYPE_CHECKING:
    from store.service import Session

FileFormat = Literal["bundle", "receipt", "stix", "misp"]


def file_format(path: Path) -> FileFormat:
    """The format of `path`, from its first bytes (Liaison's own) or its JSON shape (STIX, MISP)."""
    path = Path(path).expanduser()
    try:
        kind = file_kind(path)
    except BundleRefused:
        pass
    else:
        return "receipt" if kind == "receipt" else "bundle"
    try:
        document = load_json(path, "file")
    except InteropRefused as exc:
        raise InteropRefused(
            f"{exc}; it is neither a Liaison bundle or receipt, nor a STIX bundle, nor a MISP event"
        ) from None
    if looks_like_stix(document):
        return "stix"
    if looks_like_misp(document):
        return "misp"
    raise InteropRefused(f"{path.name}: neither a Liaison bundle or receipt, nor a STIX bundle, nor a MISP event")


def import_interop(
    session: Session,
    path: Path,
    *,
    as_code: str | None = None,
    tlp: str | None = None,
    domain: str | None = None,
    preview: bool = False,
) -> ImportResult:
    """Import (or, with `preview`, check and count without writing) a STIX bundle or a MISP event, whichever it is."""
    kind = file_format(path)
    if kind == "bundle" or kind == "receipt":
        raise InteropRefused(f"{Path(path).name} is a Liaison {kind}, not a STIX bundle or a MISP event")
    return (STIX if kind == "stix" else MISP).import_file(
        session, path, as_code=as_code, tlp=tlp, domain=domain, preview=preview
    )

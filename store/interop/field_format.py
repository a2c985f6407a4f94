"""One export and one import entry point for every field format (STIX, MISP): `FieldFormat`, over the shared
`run_export` (`store.interop.outgoing`) and `run_import` (`store.interop.received`). A format module gives its
builder and its parser and names the entry points (`export_stix = STIX.export`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from store.interop.outgoing import ExportData, ExportResult, run_export
from store.interop.received import ImportResult, Parser, run_import

if TYPE_CHECKING:
    from store.service import Session


@dataclass(frozen=True)
class FieldFormat:
    """A field format: what results name it (`STIX 2.1`), its action prefix (`stix`: `stix-export`,
    `stix-import`), what its files are called in errors (`STIX file`), its builder and its parser."""

    name: str
    slug: str
    file_kind: str
    build: Callable[[ExportData], tuple[bytes, int]]
    parse: Parser

    def export(
        self,
        session: Session,
        out: Path,
        *,
        max_tlp: str | None = None,
        since: datetime | None = None,
        domains: Sequence[str] = (),
        refs: Sequence[str] = (),
        force: bool = False,
    ) -> ExportResult:
        """Write one file of the records that may leave (see `store.interop.outgoing`), atomically, as one logged
        action."""
        return run_export(
            session,
            f"{self.slug}-export",
            self.name,
            out,
            self.build,
            max_tlp=max_tlp,
            since=since,
            domains=domains,
            refs=refs,
            force=force,
            file_kind=self.file_kind,
        )

    def import_file(
        self,
        session: Session,
        path: Path,
        *,
        as_code: str | None = None,
        tlp: str | None = None,
        domain: str | None = None,
        preview: bool = False,
    ) -> ImportResult:
        """Import the reports of a file as received records, all or nothing (`preview`: check and count, write
        nothing)."""
        return run_import(
            session,
            path,
            self.file_kind,
            f"{self.slug}-import",
            self.parse,
            as_code=as_code,
            tlp=tlp,
            domain=domain,
            preview=preview,
        )

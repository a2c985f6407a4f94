"""What STIX and MISP files may carry out of the store and what they may bring in, shared by both formats.

One name for the shared parts, kept so `from store.interop.common import …` goes on working; each part lives
in its own module:
- `store.interop.base`: limits, TLP ranks, derived ids, `InteropRefused`;
- `store.interop.outgoing`: what may leave — the TLP ceiling, the selection (the bundle export rules), the
  decrypted records, writing the file;
- `store.interop.incoming`: reading a file — strict bounded JSON, the text policy on every outside value,
  the store's vocabulary for mapping parties and labels;
- `store.interop.received`: writing what came in as received records, all or nothing.
"""

from __future__ import annotations

from store.bundles import NothingToExport
from store.interop.base import (
    COMMENT_TLPS,
    DEFAULT_CEILING,
    MAX_AUTHOR,
    MAX_FILE,
    MAX_OBJECTS,
    MAX_SKEW,
    MAX_TEXT,
    MAX_TITLE,
    NAMESPACE,
    RANK,
    REFERENCE,
    RESTRICTED_CEILINGS,
    InteropRefused,
    derived_uuid,
    ministry_uuid,
    most_restrictive,
)
from store.interop.incoming import (
    Incoming,
    Vocabulary,
    check_tlp_option,
    clean_block,
    clean_line,
    clean_title,
    load_json,
    parse_timestamp,
)
from store.interop.outgoing import (
    ABOVE_CEILING,
    Comment,
    ExportData,
    ExportResult,
    Outgoing,
    Selection,
    check_ceiling,
    collect,
    preview_export,
    run_export,
    select_records,
)
from store.interop.received import (
    ImportResult,
    receive,
    run_import,
)

__all__ = [
    "ABOVE_CEILING",
    "COMMENT_TLPS",
    "DEFAULT_CEILING",
    "MAX_AUTHOR",
    "MAX_FILE",
    "MAX_OBJECTS",
    "MAX_SKEW",
    "MAX_TEXT",
    "MAX_TITLE",
    "NAMESPACE",
    "RANK",
    "REFERENCE",
    "RESTRICTED_CEILINGS",
    "Comment",
    "ExportData",
    "ExportResult",
    "ImportResult",
    "Incoming",
    "InteropRefused",
    "NothingToExport",
    "Outgoing",
    "Selection",
    "Vocabulary",
    "check_ceiling",
    "check_tlp_option",
    "clean_block",
    "clean_line",
    "clean_title",
    "collect",
    "derived_uuid",
    "load_json",
    "ministry_uuid",
    "most_restrictive",
    "parse_timestamp",
    "preview_export",
    "receive",
    "run_export",
    "run_import",
    "select_records",
]

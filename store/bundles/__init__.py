"""Sharing between ministries: export bundles, imports, receipts and the sharing ledger.

The format lives in `crypto/bundle/`; the rules (what may leave, what an import accepts, who may update or
acknowledge what) in `store/policy.py`. The modules, by step:
- `export`   — `plan_export`, `export_bundle`, `record_objects`;
- `import_verify` — `file_kind`, `preview_bundle` (sender, signature, replay: nothing decrypted);
  `import_checks` — the rules on each incoming record; `import_` — `import_bundle`;
- `receipts` — `make_receipt`, `write_receipt_file`, `preview_receipt`, `process_receipt`;
- `ledger`   — `ledger`, `counts`; `common` — `BundleRefused`, `NothingToExport`.
The CLI and the app both call these, so they cannot disagree.
"""

from __future__ import annotations

from store.bundles.common import BATCH, MAX_RECEIPT_FILE, BundleRefused, NothingToExport, Progress
from store.bundles.export import ExportPlan, ExportResult, export_bundle, plan_export, record_objects
from store.bundles.import_ import ImportResult, import_bundle
from store.bundles.import_verify import BundlePreview, file_kind, preview_bundle
from store.bundles.ledger import LedgerEntry, counts, ledger
from store.bundles.receipts import (
    ReceiptPreview,
    ReceiptResult,
    make_receipt,
    preview_receipt,
    process_receipt,
    write_receipt_file,
)
from store.policy import SHAREABLE_RECEIVED_TLPS, Candidate, Exclusion, exclusion

__all__ = [
    "BATCH",
    "MAX_RECEIPT_FILE",
    "SHAREABLE_RECEIVED_TLPS",
    "BundlePreview",
    "BundleRefused",
    "Candidate",
    "Exclusion",
    "ExportPlan",
    "ExportResult",
    "ImportResult",
    "LedgerEntry",
    "NothingToExport",
    "Progress",
    "ReceiptPreview",
    "ReceiptResult",
    "counts",
    "exclusion",
    "export_bundle",
    "file_kind",
    "import_bundle",
    "ledger",
    "make_receipt",
    "plan_export",
    "preview_bundle",
    "preview_receipt",
    "process_receipt",
    "record_objects",
    "write_receipt_file",
]

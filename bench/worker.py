"""Child-process entry points of the suite (`python -m bench.worker TASK …`), so each gets its own peak RSS."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet


def raw_demo(count: int, path: Path) -> None:
    """The raw counterpart of `liaison demo`: generate the same demo records and write them with sqlite3."""
    from bench import raw
    from store.demo import demo_items

    raw.ingest(path, demo_items(count, datetime.now(UTC)), Fernet.generate_key(), os.urandom(32))


def main(argv: list[str]) -> int:
    task, *args = argv
    if task == "raw-demo":
        raw_demo(int(args[0]), Path(args[1]))
    elif task == "raw-export":
        from bench.part_bundles import raw_export_main

        raw_export_main(args)
    elif task == "raw-import":
        from bench.part_bundles import raw_import_main

        raw_import_main(args)
    elif task == "raw-rotate":
        from bench.part_keys import raw_rotate_main

        raw_rotate_main(args)
    elif task == "raw-reindex":
        from bench.part_keys import raw_reindex_main

        raw_reindex_main(args)
    elif task == "raw-audit-verify":
        from bench.part_audit import raw_verify_main

        raw_verify_main(args)
    elif task == "tui":
        from bench.part_tui import tui_main

        tui_main(args)
    else:
        print(f"unknown task {task}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The dashboard's ledger counts are read from an index, not from every ledger row (issue 13's 500 ms at 100k)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from store.jwg.stats import desk_stats
from store.service import Vault


def test_desk_stats_counts_the_ledger_from_its_covering_index(tmp_path: Path) -> None:
    """Every statement `desk_stats` sends about `bundle_items` reads it through `ix_bundle_items_ack` (migrations
    0009, 0010) alone: no scan of the ledger's rows, and no record row read for its domain."""
    path = tmp_path / "pk-moi.db"
    Vault.create(path, "PK-MOI", "admin", "a passphrase for the plan test", kdf_profile="minimum").close()
    with Vault.open(path) as vault:
        session = vault.unlock("admin", "a passphrase for the plan test")
        sent: list[tuple[str, Any]] = []

        def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
            if "bundle_items" in statement and statement.lstrip().upper().startswith("SELECT"):
                sent.append((statement, parameters))

        event.listen(vault.db.engine, "before_cursor_execute", capture)
        try:
            desk_stats(session)
        finally:
            event.remove(vault.db.engine, "before_cursor_execute", capture)
        assert len(sent) == 3, sent
        with vault.db.engine.connect() as conn:
            for statement, parameters in sent:
                plan = " | ".join(
                    str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
                )
                assert "COVERING INDEX ix_bundle_items_ack" in plan, (statement, plan)
                assert "records" not in statement, statement

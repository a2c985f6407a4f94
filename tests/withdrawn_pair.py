"""A PK-MOI/TR-MOI pair where PK-MOI shared a record with TR-MOI and then withdrew it (TR-MOI imported both)."""

from __future__ import annotations

from tests.bundles.conftest import Pair

REASON = "Source retracted the report; do not act on it."


def withdrawn_at_receiver(pair: Pair) -> str:
    """Share everything with TR-MOI, withdraw the GREEN shared record with `REASON`, deliver the notice;
    returns the reference (TR-MOI now holds it as received and withdrawn)."""
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path("1.bundle")))
    pair.tr.ok("import", str(pair.path("1.bundle")))
    ref = pair.refs["green_shared"]
    pair.pk.ok("withdraw", ref, "--reason", REASON)
    pair.pk.ok("export", "--to", "TR-MOI", "--out", str(pair.path("2.bundle")))
    pair.tr.ok("import", str(pair.path("2.bundle")))
    return ref

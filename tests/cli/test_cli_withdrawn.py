"""A record its origin withdrew says so in `show` (text) and is marked in `list` (human output)."""

from __future__ import annotations

from tests.bundles.conftest import Pair, _template, pair  # noqa: F401 (fixtures)
from tests.withdrawn_pair import REASON, withdrawn_at_receiver


def test_show_and_list_flag_a_record_its_origin_withdrew(pair: Pair) -> None:  # noqa: F811
    ref = withdrawn_at_receiver(pair)
    when = pair.tr.show(ref)["withdrawal"]["withdrawn_at"][:10]
    lines = pair.tr.ok("show", ref).out.splitlines()
    assert lines[0] == f"WITHDRAWN by PK-MOI on {when}: {REASON}"
    assert lines[1] == f"{ref}  TLP:GREEN  received"
    other = pair.refs["amber1"]
    assert "WITHDRAWN" not in pair.tr.ok("show", other).out
    listed = {line.split()[0]: line for line in pair.tr.ok("list").out.splitlines()[1:]}
    assert " received  WITHDRAWN · " in listed[ref]
    assert "WITHDRAWN" not in listed[other]

"""A counterpart's desk entries are checked like its records: dates and times out of bounds refuse the bundle, and
a meeting pack it wrote is written inert (no link, image or HTML of theirs renders in a Markdown viewer).

The counterpart is built as an attacker would: a real second store (TR-MOI) whose desk rows are set, and signed, in
states no command reaches (`desk_signed_sql`), or PK-MOI's own keys signing a crafted entry (`crafted`)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest

from crypto import bundle as fmt
from store.jwg.pack import defused
from tests.bundles.conftest import Pair
from tests.bundles.corpus import crafted
from tests.jwg.conftest import desk_signed_sql
from tests.liaison_helpers import assert_refused, store_fingerprint

FAR = "2099-01-01T00:00:00.000000Z"  # a bundle's time, far ahead
FAR_ROW = "2099-01-01 00:00:00.000000"  # the same, as a desk row holds it


def _refused_at_pk(pair: Pair, message: str) -> None:
    """TR-MOI exports to PK-MOI; PK-MOI's import is refused whole with `message` and its store is unchanged."""
    out = pair.path("hostile.bundle")
    pair.tr.ok("export", "--to", "PK-MOI", "--out", str(out))
    before = store_fingerprint(pair.pk.path)
    assert_refused(pair.pk.cli("import", str(out)), f"hostile.bundle: {message}")
    assert store_fingerprint(pair.pk.path) == before
    assert pair.pk.ok("actions", "list", "--json").json() == []


def _tr_action(pair: Pair) -> str:
    return pair.tr.ok(
        "actions", "add", "--title", "Send the manifests", "--domain", "narcotics", "--owner", "TR-MOI", "--due", "2026-12-01"
    ).out.strip()  # fmt: skip


@pytest.mark.parametrize(
    ("due", "why"), [("9999-12-31", "is outside 2000..2100"), ("1900-01-01", "is outside 2000..2100")]
)
def test_an_action_due_out_of_bounds_refuses_the_bundle(pair: Pair, due: str, why: str) -> None:
    """Threat 23: an action dated in year 9999 (or 1900) would sit at the end (or the top) of every overdue list."""
    code = _tr_action(pair)
    desk_signed_sql(pair.tr, "UPDATE jwg_actions SET due=? WHERE code=?", (due, code))
    _refused_at_pk(pair, f"action {code}: due '{due}' {why}")


@pytest.mark.parametrize(
    ("when", "why"),
    [(FAR_ROW, "is more than a day in the future"), ("1999-12-31 23:00:00.000000", "is before 2000")],
)
def test_an_action_created_out_of_bounds_refuses_the_bundle(pair: Pair, when: str, why: str) -> None:
    """Threat 23: the creation time of a counterpart's action is bounded like a record's."""
    code = _tr_action(pair)
    desk_signed_sql(pair.tr, "UPDATE jwg_actions SET created_at=? WHERE code=?", (when, code))
    shown = when.replace(" ", "T") + "Z"
    _refused_at_pk(pair, f"action {code} created_at {shown} {why}")


def test_a_status_change_dated_ahead_refuses_the_bundle(pair: Pair) -> None:
    """Threat 23: an owner's status change dated 2099 would count as the latest change for 70 years."""
    code = _tr_action(pair)
    pair.tr.ok("actions", "done", code, "--comment-file", "-", stdin="Sent\n")
    desk_signed_sql(pair.tr, "UPDATE jwg_actions SET status_at=? WHERE code=?", (FAR_ROW, code))
    _refused_at_pk(pair, f"action {code} status_at {FAR} is more than a day in the future")


def test_a_meeting_dated_out_of_bounds_refuses_the_bundle(pair: Pair) -> None:
    """Threat 23: a meeting's date is held to the years 2000..2100 like a local one."""
    pair.tr.ok(
        "meetings", "add", "--quarter", "2026-Q3", "--date", "2026-09-15", "--venue", "Ankara", "--host", "TR-MOI"
    )
    desk_signed_sql(pair.tr, "UPDATE jwg_meetings SET day='9999-12-31'")
    _refused_at_pk(pair, "meeting 2026-Q3: date '9999-12-31' is outside 2000..2100")


def _pack(text: str, *, prepared_at: str) -> dict[str, object]:
    return {
        "kind": "jwg-pack",
        "uuid": str(uuid.uuid4()),
        "meeting": "2026-Q3",
        "text": text,
        "with_titles": False,
        "origin": "PK-MOI",
        "prepared_at": prepared_at,
        "prepared_by": "alice",
    }


def test_a_pack_prepared_ahead_refuses_the_bundle(pair: Pair) -> None:
    """Threat 23: PK-MOI's own key signs a pack dated 2099 (a modified writer); TR-MOI refuses the bundle."""
    bad = pair.path("pack.bundle")
    bad.write_bytes(crafted(pair, [_pack("# Brief\n", prepared_at=FAR)]))
    before = store_fingerprint(pair.tr.path)
    assert_refused(
        pair.tr.cli("import", str(bad)),
        f"pack.bundle: meeting pack for 2026-Q3 prepared_at {FAR} is more than a day in the future",
    )
    assert store_fingerprint(pair.tr.path) == before


LIVE = re.compile(r"(?<!\\)(?:\\\\)*[\[<]")  # a `[` or `<` after an even run of backslashes renders as markup


def test_a_received_pack_is_written_inert(pair: Pair) -> None:
    """Threat 22: a pack signed by a known contact carries links, an image (a web beacon), an autolink and HTML;
    `meetings pack Q --from PK-MOI` writes them escaped, so a Markdown viewer shows them as text."""
    hostile = (
        "# Brief for 2026-Q3\n\n"
        "- [the agenda](https://evil.example/phish)\n"
        "- ![](https://evil.example/beacon.png)\n"
        "- <https://evil.example/auto> and <img src=x onerror=alert(1)>\n"
        "- already escaped \\[x\\], an escaped backslash then a live bracket \\\\[y](https://evil.example)\n"
    )
    data = crafted(pair, [_pack(hostile, prepared_at=fmt.format_time(datetime.now(UTC)))])
    sealed = pair.path("pack.bundle")
    sealed.write_bytes(data)
    assert "meeting pack for 2026-Q3 received" in pair.tr.ok("import", str(sealed)).err
    out = pair.path("theirs.md")
    pair.tr.ok("meetings", "pack", "2026-Q3", "--from", "PK-MOI", "--out", str(out))
    written = out.read_text()
    assert LIVE.search(written) is None, written
    assert "\\[the agenda\\](https\\:/\\/evil\\.example/phish)" in written
    assert "!\\[\\](https\\:/\\/evil\\.example/beacon\\.png)" in written
    assert "\\<img src=x onerror=alert(1)>" in written
    assert "already escaped \\[x\\]," in written  # not escaped twice (that would make the bracket live)
    assert "\\\\\\[y\\]" in written
    assert written.startswith("# Brief for 2026-Q3\n\n- ")  # the pack's own Markdown stays as written


def test_defused_keeps_the_text_and_kills_the_markup() -> None:
    assert defused("a [b](c) <d> \\[e\\] \\\\[f]") == "a \\[b\\](c) \\<d> \\[e\\] \\\\\\[f\\]"
    assert defused("**bold** _it_ | table | # h") == "**bold** _it_ | table | # h"
    assert LIVE.search(defused("[[[<<<]]]\\\\\\\\[")) is None


#: What a counterpart could hide in a received pack for a GFM viewer (bare URLs, `www.`, e-mail, protocol-relative
#: and entity-encoded HTML), besides CommonMark's links, images, autolinks and HTML.
GFM_HOSTILE = (
    "# Brief\n\n"
    "- see https://evil.example/beacon?x=1 and www.evil.example/track, mail spy@evil.example\n"
    "- //evil.example/p and ftp://evil.example and evil.example alone\n"
    "- &lt;img src=x onerror=alert(1)&gt; &#x3C;b&#62;bold&#x3C;/b&#62; &amp;\n"
    "- [a](https://evil.example) ![](https://evil.example/b.png) <https://evil.example/auto> <b>raw</b>\n"
    "1. a list item, version 3.5\n"
)


@pytest.mark.parametrize("fuzzy", [False, True], ids=["gfm-like", "gfm-like, fuzzy links and e-mail"])
def test_a_received_pack_is_inert_under_gfm_too(fuzzy: bool) -> None:
    """Threat 22: rendered by markdown-it-py in its GFM-like mode with linkify (and linkify-it's fuzzy domains
    and e-mail), the defused pack has no link, image, autolink, HTML or decoded entity: the text reads as sent."""
    markdown_it = pytest.importorskip("markdown_it")
    pytest.importorskip("linkify_it")
    md = markdown_it.MarkdownIt("gfm-like", {"linkify": True})
    md.linkify.set({"fuzzy_link": fuzzy, "fuzzy_email": fuzzy})
    assert "<a " in md.render(GFM_HOSTILE)  # the check bites: the raw text would link
    html = md.render(defused(GFM_HOSTILE))
    for live in ("<a ", "<img", "<b>", "&lt;b&gt;bold"):
        assert live not in html, html
    assert "&amp;lt;img src=x onerror=alert(1)&amp;gt;" in html and "&amp;#x3C;b&amp;#62;" in html
    assert "see https://evil.example/beacon?x=1 and www.evil.example/track, mail spy@evil.example" in html
    assert "<h1>Brief</h1>" in html and "<li>a list item, version 3.5</li>" in html

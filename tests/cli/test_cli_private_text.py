"""Sensitive text off the command line (issue 9 item 7): `--title-file`, `--summary-file -`, `--source-file`,
`--notes-file`, `--comment-file`, and `$EDITOR` on a template when a command runs on a terminal without them,
in a private directory that is emptied and removed afterwards. Threat 27: intelligence text in argv is readable
by every local user in /proc/PID/cmdline and lands in shell history."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.liaison_helpers import PASSPHRASES, LiaisonStore, assert_refused

LIAISON_BIN = Path(sys.executable).with_name("liaison")


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-process CLI believes a person is at the keyboard (a pty test below checks the real detection)."""
    monkeypatch.setattr("tui.cli.texts.on_terminal", lambda: True)


@pytest.fixture
def fake_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An EDITOR that records where and how it was asked to edit, then writes the prepared answer."""
    log = tmp_path / "editor.log"
    answer = tmp_path / "answer.txt"
    script = tmp_path / "fake-editor"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$1" >> "{log}"\n'
        f'stat -c "%a" "$(dirname "$1")" >> "{log}"\n'
        f'stat -c "%a" "$1" >> "{log}"\n'
        f'cp "$1" "{tmp_path}/template.txt"\n'
        f'cat "{answer}" > "$1"\n'
        'exit "${FAKE_EDITOR_STATUS:-0}"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(script))
    monkeypatch.delenv("VISUAL", raising=False)

    class Editor:
        def answer(self, text: str) -> None:
            answer.write_text(text, encoding="utf-8")

        @property
        def calls(self) -> list[tuple[Path, str, str]]:
            lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
            return [(Path(lines[i]), lines[i + 1], lines[i + 2]) for i in range(0, len(lines), 3)]

        @property
        def template(self) -> str:
            return (tmp_path / "template.txt").read_text(encoding="utf-8")

    return Editor()


def assert_private_and_gone(path: Path) -> None:
    """The editor's file was in a 0700 directory of its own (on /dev/shm when there is one), now removed."""
    if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK):
        assert path.parent.parent == Path("/dev/shm")
    assert path.parent.name.startswith("liaison-")
    assert not path.exists() and not path.parent.exists()


# ---- files and standard input ---------------------------------------------------------------------


def test_every_record_text_can_come_from_a_file_or_stdin(store: LiaisonStore, tmp_path: Path) -> None:
    (tmp_path / "title.txt").write_text("Heroin in textile bales\n", encoding="utf-8")
    (tmp_path / "source.txt").write_text("Port authority\nmanifest", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("call back Friday", encoding="utf-8")
    result = store.ok(
        "add", "--domain", "narcotics", "--tlp", "amber",
        "--title-file", str(tmp_path / "title.txt"), "--summary-file", "-",
        "--source-file", str(tmp_path / "source.txt"), "--notes-file", str(tmp_path / "notes.txt"),
        stdin="Container via Karachi\n\nSecond paragraph.\n",
    )  # fmt: skip
    shown = store.show(result.out.strip())
    assert shown["title"] == "Heroin in textile bales"  # the file's line end is not part of the title
    assert shown["summary"] == "Container via Karachi\n\nSecond paragraph.\n"
    assert shown["source"] == "Port authority\nmanifest"
    assert shown["notes"] == "call back Friday"


def test_edit_takes_files_too(store: LiaisonStore, tmp_path: Path) -> None:
    ref = store.add("Old title")
    (tmp_path / "t").write_text("New title", encoding="utf-8")
    store.ok("edit", ref, "--title-file", str(tmp_path / "t"))
    assert store.show(ref)["title"] == "New title"


def test_only_one_text_may_read_stdin(store: LiaisonStore, fingerprint) -> None:
    before = fingerprint(store.path)
    result = store.cli(
        "add", "--domain", "narcotics", "--tlp", "amber", "--title-file", "-", "--summary-file", "-", stdin="x"
    )
    assert_refused(result, "only one of --title-file, --summary-file can read standard input")
    assert fingerprint(store.path) == before


def test_inline_and_file_together_are_refused(store: LiaisonStore, tmp_path: Path) -> None:
    (tmp_path / "t").write_text("t", encoding="utf-8")
    result = store.cli(
        "add", "--domain", "narcotics", "--tlp", "amber", "--title", "a", "--title-file", str(tmp_path / "t")
    )
    assert_refused(result, "give --title or --title-file, not both")


def test_comments_can_come_from_files(team_store: LiaisonStore, tmp_path: Path) -> None:
    ref = team_store.add("Needs work", officer="carol")
    team_store.ok("submit", ref, officer="carol")
    (tmp_path / "c").write_text("Add the source grading.\n", encoding="utf-8")
    team_store.ok("review", ref, "--return", "--comment-file", str(tmp_path / "c"), officer="bob")
    reviews = team_store.show(ref)["reviews"]
    assert reviews[-1]["action"] == "return" and reviews[-1]["comment"] == "Add the source grading.\n"


def test_add_without_any_text_off_a_terminal_is_a_usage_error(store: LiaisonStore, fingerprint) -> None:
    before = fingerprint(store.path)
    result = store.cli("add", "--domain", "narcotics", "--tlp", "amber")
    assert result.code == 2
    assert result.err == (
        "error: add needs a title: give --title-file FILE (or --title TEXT), or run it on a terminal to write it in $EDITOR\n"
    )
    assert fingerprint(store.path) == before


def test_help_warns_about_inline_text() -> None:
    out = subprocess.run([str(LIAISON_BIN), "add", "--help"], capture_output=True, text=True, check=True).stdout
    assert "--title-file FILE|-" in out and "--source-file" in out and "--notes-file" in out
    assert "visible to other users" in " ".join(out.split())


# ---- $EDITOR ----------------------------------------------------------------------------------------


def test_add_on_a_terminal_opens_the_editor_like_git_commit(store: LiaisonStore, terminal: None, fake_editor) -> None:
    fake_editor.answer(
        "Falcon network at Torkham\n\nTwo trucks a week.\n# a comment line, dropped\nMore summary.\n"
        "# --- source (where it comes from; optional) ---\nPartner briefing\n"
        "# --- notes (private notes; optional) ---\nsecond source needed\n"
    )
    result = store.ok("add", "--domain", "narcotics", "--tlp", "amber")
    shown = store.show(result.out.strip())
    assert shown["title"] == "Falcon network at Torkham"
    assert shown["summary"] == "Two trucks a week.\nMore summary."
    assert shown["source"] == "Partner briefing"
    assert shown["notes"] == "second source needed"
    [(path, dir_mode, file_mode)] = fake_editor.calls
    assert (dir_mode, file_mode) == ("700", "600")
    assert_private_and_gone(path)
    assert "# The first line is the title" in fake_editor.template


@pytest.mark.parametrize(
    ("answer", "status", "message"),
    [
        ("# only comments\n\n", 0, "empty title; aborted, nothing was recorded"),
        ("", 0, "empty title; aborted, nothing was recorded"),
        ("A title\n", 3, "the editor exited with status 3; nothing was changed"),
    ],
    ids=["comments only", "emptied", "editor failed"],
)
def test_an_empty_or_failed_edit_aborts(
    store: LiaisonStore,
    terminal: None,
    fake_editor,
    fingerprint,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    status: int,
    message: str,
) -> None:
    fake_editor.answer(answer)
    monkeypatch.setenv("FAKE_EDITOR_STATUS", str(status))
    before = fingerprint(store.path)
    assert_refused(store.cli("add", "--domain", "narcotics", "--tlp", "amber"), message)
    assert fingerprint(store.path) == before
    [(path, _, _)] = fake_editor.calls
    assert_private_and_gone(path)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("A title\rHidden second line\n\nSummary\n", "a control character (U+000D) on line 1"),
        ("A title\n\nSummary\x0bmore\n", "a control character (U+000B) on line 3"),
        ("A title\n\nSummary\x0cmore\n", "a control character (U+000C) on line 3"),
        ("A title\u2028second\n\nSummary\n", "a line separator (U+2028) on line 1"),
        ("A title\n\nSummary\u2029more\n", "a line separator (U+2029) on line 3"),
        ("A title\n\nSummary\x85more\n", "a control character (U+0085) on line 3"),
    ],
    ids=["lone CR", "vertical tab", "form feed", "line separator", "paragraph separator", "NEL"],
)
def test_a_character_that_would_split_a_line_in_the_editor_is_refused(
    store: LiaisonStore, terminal: None, fake_editor, fingerprint, answer: str, message: str
) -> None:
    """Threat 21: what the editor saves is split into lines at `\\n` only; a character Python would also split at
    (and the text policy refuses in stored text) is refused naming it and its line, never made a line break."""
    fake_editor.answer(answer)
    before = fingerprint(store.path)
    assert_refused(
        store.cli("add", "--domain", "narcotics", "--tlp", "amber"),
        f"the edited text has {message}, where only a newline may end a line; nothing was changed",
    )
    assert fingerprint(store.path) == before
    [(path, _, _)] = fake_editor.calls
    assert_private_and_gone(path)


def test_windows_line_ends_from_the_editor_are_taken_as_newlines(
    store: LiaisonStore, terminal: None, fake_editor
) -> None:
    fake_editor.answer("A title\r\n\r\nFirst line\r\nsecond line\r\n")
    shown = store.show(store.ok("add", "--domain", "narcotics", "--tlp", "amber").out.strip())
    assert (shown["title"], shown["summary"]) == ("A title", "First line\nsecond line")


def test_edit_on_a_terminal_starts_from_the_current_text(store: LiaisonStore, terminal: None, fake_editor) -> None:
    ref = store.add("Old title", "--summary", "Kept summary")
    fake_editor.answer("New title\n\nKept summary\n")
    result = store.ok("edit", ref)
    assert result.out == f"{ref} revision 2\n"
    assert fake_editor.template.startswith("Old title\n\nKept summary\n")
    shown = store.show(ref)
    assert (shown["title"], shown["summary"]) == ("New title", "Kept summary")


def test_return_on_a_terminal_asks_for_the_comment_in_the_editor(
    team_store: LiaisonStore, terminal: None, fake_editor, fingerprint
) -> None:
    ref = team_store.add("Needs work", officer="carol")
    team_store.ok("submit", ref, officer="carol")
    fake_editor.answer("\n# ignored\n")
    before = fingerprint(team_store.path)
    assert_refused(
        team_store.cli("review", ref, "--return", officer="bob"), "empty comment; aborted, nothing was changed"
    )
    assert fingerprint(team_store.path) == before
    fake_editor.answer("Grade the source, please.\n# ignored\n")
    team_store.ok("review", ref, "--return", officer="bob")
    assert team_store.show(ref)["reviews"][-1]["comment"] == "Grade the source, please."
    for path, _, _ in fake_editor.calls:
        assert_private_and_gone(path)


def test_a_real_terminal_opens_the_editor(store: LiaisonStore, fake_editor) -> None:
    """The real `liaison` process with a pty as its stdin: the terminal is detected, nothing is in argv."""
    fake_editor.answer("Title typed in the editor\n\nSummary typed in the editor\n")
    leader, follower = pty.openpty()
    try:
        env = dict(os.environ, LIAISON_PASSPHRASE=PASSPHRASES["alice"])
        proc = subprocess.run(
            [str(LIAISON_BIN), "--store", str(store.path), "add", "--domain", "narcotics", "--tlp", "amber"],
            stdin=follower, capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 0, proc.stderr
    assert store.show(proc.stdout.strip())["summary"] == "Summary typed in the editor"


# ---- rough edges (issue 10) ---------------------------------------------------------------------------


def test_ctrl_d_at_a_passphrase_prompt_is_a_clean_refusal(
    store: LiaisonStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fingerprint
) -> None:
    import getpass

    from tui.cli import main

    def end_of_input(prompt: str = "", stream: object = None) -> str:
        raise EOFError

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(getpass, "getpass", end_of_input)
    monkeypatch.setattr(sys, "stdin", Terminal())
    before = fingerprint(store.path)
    for argv in (["list"], ["add", "--domain", "narcotics", "--tlp", "red", "--title", "t"]):
        assert main(["--store", str(store.path), *argv]) == 1
        err = capsys.readouterr().err
        assert err.splitlines()[-1] == "error: no passphrase given (end of input); nothing was changed"
        assert "EOFError" not in err and "Traceback" not in err
    assert fingerprint(store.path) == before


@pytest.mark.parametrize("option", ["--passphrase-file", "--summary-file"])
def test_dev_null_is_not_taken_for_an_empty_file(store: LiaisonStore, option: str) -> None:
    what = "passphrase file" if option == "--passphrase-file" else "summary file"
    if option == "--passphrase-file":
        result = store.cli("--passphrase-file", "/dev/null", "list")
    else:
        result = store.cli(
            "add", "--domain", "narcotics", "--tlp", "amber", "--title", "t", "--summary-file", "/dev/null"
        )
    assert_refused(result, f"{what} '/dev/null' is a device, not a file")


def test_tlp_white_says_it_is_taken_as_clear(store: LiaisonStore) -> None:
    result = store.ok("add", "--domain", "narcotics", "--tlp", "white", "--title", "Old label")
    assert result.err == "note: TLP:WHITE is taken as TLP:CLEAR (its TLP 2.0 name)\n"
    assert store.show(result.out.strip())["tlp"] == "CLEAR"


def test_a_removed_officer_is_not_offered(team_store: LiaisonStore) -> None:
    team_store.ok("officers", "remove", "carol")
    result = team_store.cli("list", officer="mallory", passphrase="x")
    assert_refused(result, "unknown officer mallory; officers: alice, bob")


def test_ministries_list_needs_no_officer(team_store: LiaisonStore) -> None:
    from tests.liaison_helpers import run_cli

    result = run_cli("--store", str(team_store.path), "ministries", "list")  # no officer, no passphrase
    assert result.code == 0, result
    assert any(line.startswith("PK-MOI") and "(this store)" in line for line in result.out.splitlines())
    listed = json.loads(run_cli("--store", str(team_store.path), "ministries", "list", "--json").out)
    assert {"code": "PK-MOI", "name": "Ministry of Interior, Pakistan", "self": True} in listed


@pytest.mark.parametrize(
    ("command", "expected"), [("add", ["AMBER+STRICT", "narcotics"]), ("list", ["in-review", "RED", "coast-guard"])]
)
def test_help_lists_the_valid_values(command: str, expected: list[str]) -> None:
    out = subprocess.run([str(LIAISON_BIN), command, "--help"], capture_output=True, text=True, check=True).stdout
    for value in expected:
        assert value in out


def test_list_since_and_until(store: LiaisonStore) -> None:
    old = store.add("Last year")
    new = store.add("This year")
    store.sql("UPDATE records SET created_at = '2025-03-10 12:00:00.000000' WHERE reference = ?", (old,))
    refs = lambda *extra: [r["reference"] for r in store.list_json(*extra)]  # noqa: E731
    assert refs("--until", "2025-03-10") == [old]
    assert refs("--since", "2025-03-11") == [new]
    assert refs("--since", "2025-03-10", "--until", "2025-03-10") == [old]
    assert refs("--since", "2025-03-11", "--until", "2025-03-11") == []
    assert_refused(
        store.cli("list", "--since", "10/03/2025"), "--since '10/03/2025' is not a date; expected YYYY-MM-DD"
    )


def test_one_record_is_one_record() -> None:
    from datetime import UTC, datetime

    from store.bundles import ImportResult, ReceiptResult
    from tui.present import import_summary, plural, receipt_summary

    assert plural(1, "record") == "1 record" and plural(2, "record") == "2 records"
    one = ImportResult(Path("b"), "abc", "TR-MOI", "00" * 32, 1, records=1, new=1)
    assert "1 record (1 new" in import_summary(one)
    receipt = ReceiptResult(Path("r"), "abc", "TR-MOI", 1, 0, 0, datetime(2026, 1, 2, tzinfo=UTC))
    assert "1 record acknowledged" in receipt_summary(receipt)

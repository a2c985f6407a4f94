"""End to end through the installed entry points: the `liaison` console script, `python -m tui`, and a real
terminal for the hidden passphrase prompts."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.liaison_helpers import LIAISON_BIN, PASSPHRASES, LiaisonStore, init_store, run_liaison

ALICE = {"LIAISON_PASSPHRASE": PASSPHRASES["alice"]}


def test_a_whole_session_through_the_console_script(tmp_path: Path) -> None:
    module = False
    path = str(tmp_path / "e2e.db")
    created = run_liaison(
        "--store", path, "init", "--ministry", "PK-MOI", "--officer", "alice", env=ALICE, module=module
    )
    assert created.code == 0, created
    added = run_liaison(
        "--store",
        path,
        "add",
        "--domain",
        "cybercrime",
        "--tlp",
        "tlp:green",
        "--title",
        "Phishing wave",
        "--summary-file",
        "-",
        "--submit",
        env=ALICE,
        stdin="Body from stdin\n",
        module=module,
    )
    assert added.code == 0, added
    ref = added.out.strip()
    assert added.out == f"{ref}\n"
    shown = run_liaison("--store", path, "show", ref, "--json", env=ALICE, module=module).json()
    assert shown["summary"] == "Body from stdin\n" and shown["status"] == "in-review" and shown["tlp"] == "GREEN"
    refused = run_liaison("--store", path, "review", ref, "--approve", env=ALICE, module=module)
    assert (refused.code, refused.out, refused.err) == (1, "", f"error: four-eyes policy: alice authored {ref}\n")
    usage = run_liaison("--store", path, "frobnicate", module=module)
    assert usage.code == 2 and "Traceback" not in usage.err and usage.err.splitlines()[-1].startswith("error: ")


def test_python_dash_m_tui_runs_the_same_command_line(tmp_path: Path) -> None:
    path = str(tmp_path / "m.db")
    assert (
        run_liaison("--store", path, "init", "--ministry", "TR-MOI", "--officer", "elif", env=ALICE, module=True).code
        == 0
    )
    added = run_liaison(
        "--store", path, "add", "--domain", "policing", "--tlp", "amber", "--title", "Via -m", env=ALICE, module=True
    )
    assert added.code == 0 and added.out.startswith("TR-MOI-")
    wrong = run_liaison("--store", path, "list", env={"LIAISON_PASSPHRASE": "nope"}, module=True)
    assert (wrong.code, wrong.out, wrong.err) == (1, "", "error: wrong passphrase for officer elif\n")


def test_help_through_both_entry_points() -> None:
    for module in (False, True):
        result = run_liaison("--help", module=module)
        assert result.code == 0, result
        assert "usage: liaison" in result.out


def test_unexpected_failures_are_one_line_without_a_traceback(
    store: LiaisonStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever goes wrong inside is still one line and exit 1; LIAISON_DEBUG=1 adds the traceback."""
    from store.service import Session

    def broken(self, draft, *, submit=False):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Session, "add_record", broken)
    result = store.cli("add", "--domain", "narcotics", "--tlp", "red", "--title", "x")
    assert (result.code, result.out) == (1, "")
    assert result.err == "error: unexpected RuntimeError: disk on fire (set LIAISON_DEBUG=1 for details)\n"
    debug = store.cli("add", "--domain", "narcotics", "--tlp", "red", "--title", "x", env={"LIAISON_DEBUG": "1"})
    assert (
        debug.code == 1
        and "Traceback" in debug.err
        and debug.err.rstrip().endswith("(set LIAISON_DEBUG=1 for details)")
    )


def test_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    """`liaison show REF --json | head -1` on an output larger than the pipe: no traceback, no complaint."""
    store = init_store(tmp_path / "s.db")
    ref = store.add("Long record", "--summary", "x" * 150_000)
    proc = subprocess.Popen(
        [str(LIAISON_BIN), "--store", str(store.path), "show", ref, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **ALICE},
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == b"{\n"
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


# ---- a real terminal: the hidden prompts ---------------------------------------------------------


class Terminal:
    """`liaison …` running on a pseudo-terminal that is its controlling tty, as when a person types."""

    def __init__(self, *argv: str, env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child
            # a terminal's Ctrl-C, even when the test runner was started with SIGINT ignored (inherited through exec)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.execve(str(LIAISON_BIN), [str(LIAISON_BIN), *argv], env)
        self.seen = b""

    def expect(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.seen:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"never saw {text!r}; saw {self.seen!r}"
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                assert chunk, f"the program ended before {text!r}; saw {self.seen!r}"
                self.seen += chunk

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\n")

    def finish(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    chunk = b""
                self.seen += chunk
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError(f"still running; saw {self.seen!r}")


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_") or k == "LIAISON_KDF_PROFILE"}


def test_init_asks_for_the_passphrase_twice_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "tty.db"
    term = Terminal("--store", str(path), "init", "--ministry", "PK-MOI", "--officer", "alice", env=clean_env())
    term.expect("New passphrase for alice: ")
    term.type("typed at the keyboard")
    term.expect("Again: ")
    term.type("typed at the keyboard")
    assert term.finish() == 0
    assert b"typed at the keyboard" not in term.seen  # hidden: never echoed
    assert LiaisonStore(path).cli("list", passphrase="typed at the keyboard").code == 0


def test_init_refuses_two_different_passphrases(tmp_path: Path) -> None:
    path = tmp_path / "tty.db"
    term = Terminal("--store", str(path), "init", "--ministry", "PK-MOI", "--officer", "alice", env=clean_env())
    term.expect("New passphrase for alice: ")
    term.type("first")
    term.expect("Again: ")
    term.type("second")
    assert term.finish() == 1
    assert b"error: the two passphrases differ" in term.seen
    assert not path.exists()


def test_commands_prompt_for_the_passphrase_on_a_terminal(store: LiaisonStore) -> None:
    ref = store.add("Prompted")
    term = Terminal("--store", str(store.path), "show", ref, env=clean_env())
    term.expect("Passphrase for alice: ")
    term.type(PASSPHRASES["alice"])
    assert term.finish() == 0
    assert b"Prompted" in term.seen
    assert PASSPHRASES["alice"].encode() not in term.seen


def test_officers_add_prompts_twice_for_the_new_passphrase(store: LiaisonStore) -> None:
    term = Terminal(
        "--store", str(store.path), "officers", "add", "dave", "--role", "officer", env={**clean_env(), **ALICE}
    )
    term.expect("Passphrase for new officer dave: ")
    term.type(PASSPHRASES["dave"])
    term.expect("Again: ")
    term.type(PASSPHRASES["dave"])
    assert term.finish() == 0
    assert store.cli("list", officer="dave").code == 0


def test_ctrl_c_at_the_prompt_is_a_clean_refusal(store: LiaisonStore, fingerprint) -> None:
    before = fingerprint(store.path)
    term = Terminal(
        "--store", str(store.path), "add", "--domain", "narcotics", "--tlp", "red", "--title", "x", env=clean_env()
    )
    term.expect("Passphrase for alice: ")
    os.kill(term.pid, signal.SIGINT)
    assert term.finish() == 1
    assert b"error: interrupted; nothing was changed" in term.seen
    assert b"Traceback" not in term.seen
    assert fingerprint(store.path) == before


def test_identity_rotate_asks_on_a_terminal(store: LiaisonStore) -> None:
    """Found by a new officer's pass: `identity rotate`, which cannot be undone, ran at once. On a terminal it now
    asks first (anything but yes changes nothing); a script, or `--yes`, goes on as before."""
    before = store.ok("identity", "show").out
    term = Terminal("--store", str(store.path), "identity", "rotate", env={**clean_env(), **ALICE})
    term.expect("Type yes to rotate: ")
    term.type("no")
    assert term.finish() == 1
    assert b"error: not rotated; nothing was changed" in term.seen
    assert store.ok("identity", "show").out == before
    term = Terminal("--store", str(store.path), "identity", "rotate", env={**clean_env(), **ALICE})
    term.expect("Type yes to rotate: ")
    term.type("yes")
    assert term.finish() == 0
    assert b"rotated the identity of PK-MOI" in term.seen
    after = store.ok("identity", "show").out
    assert after != before
    term = Terminal("--store", str(store.path), "identity", "rotate", "--yes", env={**clean_env(), **ALICE})
    assert term.finish() == 0 and b"Type yes" not in term.seen
    assert store.ok("identity", "show").out != after

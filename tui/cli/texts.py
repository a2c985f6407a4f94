"""Sensitive text off the command line (issue 9 item 7).

A title, summary, source, notes or comment given as an argument is readable by every user of the machine
in `/proc/PID/cmdline` and lands in shell history. So each has a `--X-file FILE|-` form, and when a command
that needs text runs on a terminal without any, `$EDITOR` opens on a template, as `git commit` does: in a
private directory (0700, on /dev/shm when it exists, so the text never reaches a disk), the file overwritten
and removed afterwards. The inline options stay for scripts.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from store.errors import ValidationError
from store.text import forbidden_kind
from tui.cli.common import Refused, UsageError, read_text_arg
from tui.present import quote

#: Where the editor's file lives: memory-backed when the system has it.
SHM = Path("/dev/shm")
#: The lines that start a section of the record template.
SOURCE_MARK = "# --- source"
NOTES_MARK = "# --- notes"

INLINE_WARNING = "inline text is visible to other users (ps, /proc) and kept in shell history; prefer"


def add_text_option(parser: argparse.ArgumentParser, name: str, what: str, *, required_note: str = "") -> None:
    """`--NAME TEXT` (for scripts, with the warning) and `--NAME-file FILE|-` (the private form)."""
    parser.add_argument(
        f"--{name}", metavar="TEXT", help=f"{what} as an argument ({INLINE_WARNING} --{name}-file){required_note}"
    )
    parser.add_argument(f"--{name}-file", metavar="FILE|-", help=f"read the {what} from FILE (- for standard input)")


def one_line(text: str | None) -> str | None:
    """A one-line text read from a file or stdin loses its line end (`echo Title > t.txt` is one line)."""
    return text.removesuffix("\n").removesuffix("\r") if text is not None else None


def required_line(args: argparse.Namespace, name: str, command: str) -> str:
    """The one-line text `--NAME TEXT` or `--NAME-file FILE|-` that `command` needs (a usage error without it)."""
    text = one_line(read_text_arg(getattr(args, name), getattr(args, f"{name}_file"), name))
    if text is None:
        raise UsageError(f"{command} needs a {name}: give --{name}-file FILE or --{name} TEXT")
    return text


def given_texts(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, str | None]:
    """Each named text from `--X` or `--X-file` (None when neither is given); at most one reads stdin."""
    stdin_users = [f"--{n}-file" for n in names if getattr(args, f"{n}_file", None) == "-"]
    if len(stdin_users) > 1:
        raise ValidationError(f"only one of {', '.join(stdin_users)} can read standard input")
    return {n: read_text_arg(getattr(args, n, None), getattr(args, f"{n}_file", None), n) for n in names}


def on_terminal() -> bool:
    """True when a person is at the keyboard (stdin is a terminal), so an editor can be opened."""
    return bool(sys.stdin) and sys.stdin.isatty()


def editor_command() -> list[str]:
    """$VISUAL, else $EDITOR, else vi — split like a shell would (`code --wait` works)."""
    chosen = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return shlex.split(chosen)


@contextlib.contextmanager
def private_file(name: str) -> Iterator[Path]:
    """A file only this user can read, in a fresh 0700 directory (on /dev/shm when it exists); its bytes are
    overwritten and the file and directory removed afterwards, whatever happens."""
    base = SHM if SHM.is_dir() and os.access(SHM, os.W_OK | os.X_OK) else None
    directory = Path(tempfile.mkdtemp(prefix="liaison-", dir=base))  # mode 0700
    path = directory / name
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        yield path
    finally:
        with contextlib.suppress(OSError):
            size = path.stat().st_size
            with path.open("r+b") as fh:
                fh.write(b"\0" * size)
                fh.flush()
                os.fsync(fh.fileno())
        for leftover in directory.iterdir() if directory.exists() else ():  # editors' swap and backup files
            with contextlib.suppress(OSError):
                leftover.unlink()
        with contextlib.suppress(OSError):
            directory.rmdir()


@contextlib.contextmanager
def _terminal() -> Iterator[int | None]:
    """The controlling terminal for the editor's input and output, or None (inherit) when there is none."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        yield None
        return
    try:
        yield fd
    finally:
        os.close(fd)


def edit_text(template: str, name: str = "LIAISON_EDIT.md") -> str:
    """Open the editor on `template` and return what the user saved."""
    with private_file(name) as path:
        path.write_text(template, encoding="utf-8")
        command = [*editor_command(), str(path)]
        try:
            with _terminal() as tty:  # `ref=$(liaison add …)` captures stdout: the editor draws on the terminal
                done = subprocess.run(command, check=False, stdin=tty, stdout=tty)
        except OSError as exc:
            raise Refused(f"cannot run the editor {quote(command[0])}: {exc.strerror}; set $EDITOR") from None
        if done.returncode != 0:
            raise Refused(f"the editor exited with status {done.returncode}; nothing was changed")
        try:
            with path.open(encoding="utf-8", newline="") as saved:  # no newline translation: a lone \r is seen
                text = saved.read()
        except UnicodeDecodeError:
            raise Refused("the edited text is not UTF-8; nothing was changed") from None
    return line_breaks_checked(text)


#: What `str.splitlines` takes for a line break besides `\n`: the text policy refuses each in stored text.
FALSE_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def line_breaks_checked(text: str) -> str:
    """The editor's text with Windows line ends (`\\r\\n`) taken as `\\n`, as the text policy takes them; any other
    character a line could be split at (a lone `\\r`, a vertical tab or form feed, the line and paragraph
    separators, …) is refused naming it and its line, instead of silently starting a new line."""
    text = text.replace("\r\n", "\n")
    if not any(ch in text for ch in FALSE_BREAKS):
        return text
    for line_number, line in enumerate(text.split("\n"), 1):
        for ch in line:
            if ch in FALSE_BREAKS:
                kind = forbidden_kind(ch, multiline=True) or "line break"
                raise Refused(
                    f"the edited text has a {kind} (U+{ord(ch):04X}) on line {line_number}, where only a newline "
                    "may end a line; nothing was changed"
                )
    return text


def strip_comments(text: str) -> str:
    """Drop the lines starting with `#` and the blank lines at both ends."""
    kept = [line for line in text.splitlines() if not line.startswith("#")]
    return "\n".join(kept).strip("\n").rstrip()


# ---- a record in the editor -------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordText:
    """The sensitive texts of a record, as written in the editor."""

    title: str
    summary: str
    source: str
    notes: str


def record_template(heading: str, current: RecordText | None = None) -> str:
    """The editor's template: title on the first line, summary after a blank line, then source and notes."""
    now = current or RecordText("", "", "", "")
    return (
        f"{now.title}\n\n{now.summary}\n"
        f"# {heading}\n"
        "# The first line is the title; after a blank line comes the summary (Markdown).\n"
        "# Lines starting with '#' are ignored. An empty title aborts: nothing is recorded.\n"
        "# Text written here stays off the command line, out of `ps` and of shell history.\n"
        f"{SOURCE_MARK} (where it comes from; optional) ---\n{now.source}\n"
        f"{NOTES_MARK} (private notes; optional) ---\n{now.notes}\n"
    )


def parse_record_text(text: str) -> RecordText:
    """Split what the editor saved into title, summary, source and notes."""
    parts = {"body": [], "source": [], "notes": []}  # type: dict[str, list[str]]
    section = "body"
    for line in text.splitlines():
        if line.startswith(SOURCE_MARK):
            section = "source"
        elif line.startswith(NOTES_MARK):
            section = "notes"
        else:
            parts[section].append(line)
    body = strip_comments("\n".join(parts["body"]))
    title, _, summary = body.partition("\n")
    return RecordText(
        title.strip(),
        summary.strip("\n"),
        strip_comments("\n".join(parts["source"])),
        strip_comments("\n".join(parts["notes"])),
    )


def record_in_editor(heading: str, current: RecordText | None = None) -> RecordText:
    """The record's texts from the editor; an empty title aborts with one `error:` line."""
    written = parse_record_text(edit_text(record_template(heading, current)))
    if not written.title:
        raise Refused("empty title; aborted, nothing was recorded")
    return written


def comment_in_editor(heading: str, *, required: bool) -> str:
    """A comment from the editor; when `required`, an empty one aborts."""
    template = f"\n# {heading}\n# Lines starting with '#' are ignored." + (
        " An empty comment aborts: nothing is changed.\n" if required else "\n"
    )
    comment = strip_comments(edit_text(template, "LIAISON_COMMENT.md"))
    if required and not comment.strip():
        raise Refused("empty comment; aborted, nothing was changed")
    return comment

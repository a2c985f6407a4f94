"""The README's command-line walk-through works pasted line by line into a shell (issue 10: it used to fail
at its third line once a second officer existed). Run by bash exactly as written, with a pty for a terminal,
a fake $EDITOR typing the record, and HOME in a temporary directory."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    """The first `sh` block of the README's "The command line" section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The command line") :]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "no sh block in the command-line section"
    return match.group(1)


def test_the_readme_walkthrough_runs_line_by_line(tmp_path: Path) -> None:
    editor = tmp_path / "editor"
    editor.write_text(
        "#!/bin/sh\nprintf 'Heroin in textile bales via Gwadar\\n\\nContainer seen at the port.\\n' > \"$1\"\n",
        encoding="utf-8",
    )
    editor.chmod(0o755)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")},
        "HOME": str(tmp_path),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "EDITOR": str(editor),
        "LIAISON_KDF_PROFILE": "minimum",
        # one passphrase for every prompt: alice's, bob's new one, bob's
        "LIAISON_PASSPHRASE": "walkthrough passphrase",
        "LIAISON_NEW_PASSPHRASE": "walkthrough passphrase",
    }
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", walkthrough()],
            stdin=follower, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, check=False,
        )  # fmt: skip
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Heroin in textile bales via Gwadar" in proc.stdout  # `list` and `show` after bob approved it
    assert "approved" in proc.stdout

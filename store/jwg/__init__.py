"""The Joint Working Group desk: quarterly meetings, their agenda and outcomes, agreed actions shared with the
counterpart, the calendar and the meeting pack.

- `quarter.py`  — `Quarter` (`2026-Q4`): parsing, boundaries, arithmetic, the quarter of a moment (UTC).
- `models.py`   — the tables (meetings, agenda items, actions, linked records, what each peer holds).
- `meetings.py` — meetings and agenda items; carry-forward; the quarters with no meeting planned.
- `actions.py`  — actions: add, list, done (owner ministry only), drop.
- `sync.py`     — meetings and actions in bundles (entry kinds `jwg-meeting`, `jwg-action`).
- `stats.py`    — counts and medians from plaintext tags and the sharing ledger (no decryption).
- `pack.py`     — the meeting pack (Markdown brief).  `calendar.py` — RFC 5545 export.
- `desk.py`     — `JwgDesk`, the Session methods the faces call (Session inherits them).
"""

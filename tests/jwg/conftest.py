"""The two-ministry stores of the bundle tests, for the desk's sharing tests, and desk set-ups no command reaches."""

from __future__ import annotations

from typing import Any

from tests.bundles.conftest import _template, pair
from tests.liaison_helpers import LiaisonStore


def desk_signed_sql(
    store: LiaisonStore, statement: str, params: tuple[Any, ...] = (), *, officer: str = "alice"
) -> None:
    """Run SQL on the desk inside a user action that signs every desk row's resulting state (a state no command
    reaches, e.g. a counterpart that breaks the rules, set up as a Liaison feature would, not as an attacker)."""
    from sqlalchemy import select

    from store.jwg.models import Action, AgendaItem, Meeting, Pack
    from store.jwg.signed import sign_rows

    session = store.session(officer)
    try:
        with session.act("test-setup", "desk") as s:
            s.connection().exec_driver_sql(statement, params)
            s.expire_all()
            sign_rows(s, [row for model in (Meeting, AgendaItem, Action, Pack) for row in s.scalars(select(model))])
    finally:
        session.vault.close()


__all__ = ["_template", "desk_signed_sql", "pair"]

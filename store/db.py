"""Opening, creating and migrating a store file, and the transaction scopes every service call uses."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from store import sqlite as dialect
from store.errors import StoreBusy, StoreFileError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"
#: The newest schema revision, known without Alembic: a store already at it opens without reading the migration
#: scripts (~0.15 s of every command). A test holds it equal to Alembic's head; any other revision goes through
#: Alembic as before.
SCHEMA_HEAD = "0011"


@cache
def _script_directory() -> tuple[Config, ScriptDirectory]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config, ScriptDirectory.from_config(config)


def known_revisions() -> set[str]:
    """Every schema revision this version of Liaison knows."""
    _, script = _script_directory()
    return {rev.revision for rev in script.walk_revisions()}


def head_revision() -> str:
    """The newest schema revision this version of Liaison knows."""
    _, script = _script_directory()
    head = script.get_current_head()
    assert head is not None
    return head


def _upgrade(engine: Engine) -> None:
    from alembic import command

    config, _ = _script_directory()
    with engine.connect().execution_options(liaison_write=True) as conn:
        config.attributes["connection"] = conn
        try:
            command.upgrade(config, "head")
        finally:
            config.attributes.pop("connection", None)
        conn.commit()


def preflight(path: Path) -> str:
    """Check, without writing a byte, that `path` is a Liaison store this version can open; return its revision."""
    if not path.exists():
        raise StoreFileError(f"no store at {path}", field="store", value=str(path))
    if not path.is_file():
        raise StoreFileError(f"{path} is not a file")
    try:
        if not dialect.has_sqlite_magic(path):
            raise StoreFileError(f"{path} is not a Liaison store")
        probe = dialect.read_only_probe(path)
        try:
            tables = {row[0] for row in probe.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "liaison_meta" not in tables or "alembic_version" not in tables:
                raise StoreFileError(f"{path} is not a Liaison store")
            row = probe.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        raise StoreFileError(f"store {path} is corrupt or unreadable ({exc})") from None
    except OSError as exc:
        raise StoreFileError(f"cannot read {path}: {exc.strerror}") from None
    revision = row[0] if row else None
    if revision is None:
        raise StoreFileError(f"{path} is not a Liaison store")
    if revision != SCHEMA_HEAD and revision not in known_revisions():
        raise StoreFileError(
            f"store {path} uses schema {revision}, newer than this Liaison knows (up to {head_revision()}); upgrade Liaison"
        )
    return str(revision)


#: SQLite's words for a lock another connection holds past the busy timeout.
_BUSY_WORDS = ("database is locked", "database table is locked", "database is busy")


def is_busy(exc: DBAPIError) -> bool:
    """True when a driver error means another process holds the store's lock (SQLITE_BUSY / SQLITE_LOCKED)."""
    return isinstance(exc, OperationalError) and any(word in str(exc.orig).lower() for word in _BUSY_WORDS)


@contextmanager
def _busy_as_store_error() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        if is_busy(exc):
            raise StoreBusy("the store is busy: another process holds its write lock; try again") from None
        raise


class Database:
    """One store file: an engine plus read and write transaction scopes."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine

    @classmethod
    def open(cls, path: Path) -> Database:
        """Open an existing store, applying pending migrations."""
        path = Path(path)
        revision = preflight(path)
        engine = dialect.make_engine(path)
        if revision != SCHEMA_HEAD and revision != head_revision():
            try:
                _upgrade(engine)
            except DBAPIError as exc:
                engine.dispose()
                raise StoreFileError(f"could not upgrade {path}: {exc.orig}") from None
        return cls(path, engine)

    @classmethod
    def create_file(cls, path: Path) -> Database:
        """Create an empty store with the current schema at a temporary name beside `path`."""
        path = Path(path)
        engine = dialect.make_engine(path)
        try:
            _upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(path, engine)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only ORM session on one consistent snapshot (a busy store raises `StoreBusy`)."""
        with _busy_as_store_error(), self.engine.connect() as conn, Session(bind=conn) as session:
            try:
                yield session
            finally:
                conn.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction for one user action: committed whole at the end, rolled back on any exception.

        A store whose write lock another process holds past the busy timeout raises `StoreBusy`.
        """
        with (
            _busy_as_store_error(),
            self.engine.connect().execution_options(liaison_write=True) as conn,
            Session(bind=conn, expire_on_commit=False) as session,
        ):
            try:
                yield session
                session.flush()
                dialect.run_before_commit(session, conn)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def checkpoint(self) -> None:
        """Fold the WAL into the main file (before a rename or a copy)."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()


def publish_no_clobber(tmp: Path, final: Path) -> None:
    """Give a finished file its final name atomically, refusing to replace anything already there."""
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise StoreFileError(f"{final} already exists; refusing to touch it") from None
    finally:
        tmp.unlink(missing_ok=True)

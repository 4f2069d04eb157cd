"""Engine, connections and schema of the store's database (SQLite or PostgreSQL).

- :func:`create_store_engine`: SQLite with WAL, busy timeout, foreign keys and
  ``BEGIN IMMEDIATE`` for writes; PostgreSQL with pre-ping.
- :class:`Database`: one engine plus the read and write connection helpers every
  repository uses, and the Alembic migration runner (:meth:`Database.upgrade`).

Nothing here reads settings or the environment: the URL and the busy timeout are
arguments (the service wires them from its settings object).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from data.exceptions import ConflictError, StorageUnavailableError
from data.tables import SeriesTable

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "DEFAULT_BUSY_TIMEOUT_MS",
    "DEFAULT_DATABASE_URL",
    "WRITE",
    "Database",
    "alembic_config",
    "create_store_engine",
    "is_sqlite",
]

logger = logging.getLogger(__name__)

#: The embedded default: an SQLite file under ``./var`` (relative to the working directory).
DEFAULT_DATABASE_URL = "sqlite:///var/tradecast.db"
#: How long an SQLite writer waits for the lock before failing.
DEFAULT_BUSY_TIMEOUT_MS = 30_000

#: Execution option marking a connection whose next transaction writes. On SQLite such a
#: transaction starts with ``BEGIN IMMEDIATE``, taking the write lock up front: two writers
#: then queue on ``busy_timeout`` instead of failing with SQLITE_BUSY when a read
#: transaction tries to upgrade to a write.
WRITE = "tradecast_write"


#: PostgreSQL advisory lock held while migrating (any constant; "tradecast" in ASCII, truncated).
MIGRATION_LOCK_KEY = 0x7472616465636173


def is_sqlite(engine: Engine) -> bool:
    """Whether ``engine`` talks to SQLite."""
    return engine.dialect.name == "sqlite"


def create_store_engine(url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, **kwargs: Any) -> Engine:
    """Build an engine for ``url`` with the store's connection settings.

    Parameters
    ----------
    url : str
        SQLAlchemy URL. ``sqlite:///relative/path.db`` creates the parent directory.
    busy_timeout_ms : int
        SQLite only: how long a connection waits for a lock.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine`.

    Returns
    -------
    Engine
    """
    sa_url = make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(sa_url, **kwargs)

    database = sa_url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("timeout", busy_timeout_ms / 1000)
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(sa_url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, emit BEGIN (see the ``begin`` hook).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            # WAL + NORMAL is durable against process crashes (SIGKILL); only an OS
            # crash can lose the last commits, never corrupt the file.
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(WRITE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def alembic_config() -> Config:
    """The Alembic configuration of the store's one migration history (``data/migrations``)."""
    from alembic.config import Config

    config = Config(str(resources.files("data") / "alembic.ini"))
    config.set_main_option("script_location", str(resources.files("data") / "migrations"))
    return config


class Database:
    """One engine on the store's database, with the connection helpers of the repositories.

    Parameters
    ----------
    engine : Engine
        From :func:`create_store_engine`.
    busy_timeout_ms : int
        The SQLite busy timeout the engine was built with (quoted in lock errors).

    Notes
    -----
    Safe to share between threads (the engine is a connection pool).
    """

    def __init__(self, engine: Engine, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> None:
        self.engine = engine
        self.busy_timeout_ms = busy_timeout_ms

    @classmethod
    def from_url(cls, url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, **engine_kwargs: Any) -> Database:
        """Build the engine for ``url`` (see :func:`create_store_engine`)."""
        return cls(create_store_engine(url, busy_timeout_ms=busy_timeout_ms, **engine_kwargs), busy_timeout_ms)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads.

        Raises
        ------
        StorageUnavailableError
            If the database cannot be reached.
        """
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise StorageUnavailableError(f"the database is unavailable: {exc.orig}") from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction (BEGIN IMMEDIATE on SQLite), committed on exit.

        Raises
        ------
        ConflictError
            If another writer held the SQLite lock for longer than the busy timeout.
        StorageUnavailableError
            If the database cannot be reached.
        """
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{WRITE: True})
                with conn.begin():
                    yield conn
        except OperationalError as exc:
            if "locked" in str(exc.orig).lower() or "busy" in str(exc.orig).lower():
                raise ConflictError(
                    "another writer held the database lock for longer than the busy timeout "
                    f"({self.busy_timeout_ms} ms); retry the upload."
                ) from exc
            raise StorageUnavailableError(f"the database is unavailable: {exc.orig}") from exc

    def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations up to ``revision`` (idempotent), in one write transaction.

        Raises
        ------
        StorageUnavailableError
            If the database cannot be reached.
        """
        from alembic import command

        config = alembic_config()
        alembic_logger = logging.getLogger("alembic")
        level = alembic_logger.level
        # Migration chatter ("Context impl SQLiteImpl") on every CLI call is noise.
        alembic_logger.setLevel(max(level, logging.WARNING))
        try:
            with self.write() as conn:
                if conn.dialect.name == "postgresql":
                    # Several service instances starting at once on one database: the first
                    # migrates, the others wait here for its commit and then find the schema at
                    # head (without the lock, both CREATE the same tables and one start fails).
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
        finally:
            alembic_logger.setLevel(level)

    def check_connection(self) -> None:
        """Raise :class:`~data.exceptions.StorageUnavailableError` if the database does not answer."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
                conn.execute(select(func.count()).select_from(SeriesTable))
        except DBAPIError as exc:
            raise StorageUnavailableError(f"the database is unavailable: {exc.orig}") from exc

"""Database engine, sessions and start-up migrations.

SQLite (the default) runs in WAL mode with a busy timeout so that concurrent requests queue instead of
failing; `synchronous=NORMAL` in WAL mode keeps every committed transaction through a process crash
(SIGKILL) — only a power loss of the host could drop the last commits, which `ADVISOR_DATABASE_URL`
pointing at PostgreSQL avoids. The schema is owned by Alembic (`api/migrations`); `migrate()` upgrades
to head at start-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from api.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, *, busy_timeout: float = 5.0, statement_timeout: float = 30.0,
                pool_timeout: float = 5.0) -> Engine:
    """An engine for `url`, tuned for the service (SQLite pragmas, PostgreSQL via psycopg 3).

    No statement waits on a lock longer than `busy_timeout` seconds (SQLite busy timeout, PostgreSQL
    `lock_timeout`), none runs longer than `statement_timeout` (PostgreSQL), and no request waits longer than
    `pool_timeout` for a pooled connection: a busy database raises `OperationalError` / `TimeoutError`,
    which the API answers 503 with Retry-After.
    """
    parsed = make_url(url)
    if parsed.drivername == "postgresql" or parsed.drivername == "postgres":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": busy_timeout},
                               pool_size=20, max_overflow=20, pool_timeout=pool_timeout)
        busy_ms = int(busy_timeout * 1000)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            # REPLACE deletes the row it replaces; with recursive triggers that delete fires the append-only
            # DELETE triggers (migration 0003 also refuses such inserts outright)
            cursor.execute("PRAGMA recursive_triggers=ON")
            cursor.close()

        return engine
    options = f"-c lock_timeout={int(busy_timeout * 1000)} -c statement_timeout={int(statement_timeout * 1000)}"
    return create_engine(parsed, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_timeout=pool_timeout,
                         connect_args={"connect_timeout": max(1, int(busy_timeout)), "options": options})


def engine_for(settings: Settings) -> Engine:
    """The service's engine with the timeouts from settings."""
    return make_engine(settings.database_url, busy_timeout=settings.db_busy_timeout_seconds,
                       statement_timeout=settings.db_statement_timeout_seconds,
                       pool_timeout=settings.db_pool_timeout_seconds)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine):
    """Programmatic Alembic configuration (no alembic.ini needed; `api/alembic.ini` is for the CLI)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


MIGRATION_LOCK_ID = 72_707_001  # PostgreSQL advisory lock key for schema migrations


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the latest migration (idempotent, safe with several workers starting at once).

    Workers serialize on a PostgreSQL advisory lock held for the migration transaction, or on an exclusive
    lock file beside an SQLite database."""
    from alembic import command

    config = alembic_config(engine)
    with _sqlite_migration_lock(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # a migration may wait for another worker's and take long
            connection.execute(text("SET LOCAL lock_timeout = 0"))
            connection.execute(text("SET LOCAL statement_timeout = 0"))
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_ID})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    import fcntl

    with open(f"{database}.migrate.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False

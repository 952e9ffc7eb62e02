"""Engines, sessions and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url


def make_engine(url: str, *, readonly: bool = False) -> Engine:
    """An engine; on SQLite, write engines begin every transaction with BEGIN IMMEDIATE.

    That makes writers queue on SQLite's single write lock instead of failing on a
    stale snapshot. Read-only engines use plain BEGIN, so readers never wait for a
    long bulk job (WAL lets them read the last commit).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30, "isolation_level": None})
        event.listen(engine, "connect", _sqlite_pragmas)
        begin = "BEGIN" if readonly else "BEGIN IMMEDIATE"
        event.listen(engine, "begin", lambda connection: connection.exec_driver_sql(begin))
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # issued credentials and revocations must survive a crash
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Large reads (candidate search groups tens of thousands of index rows): temporary b-trees in memory,
    # and the file mapped so every connection shares the operating system's page cache.
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.execute("PRAGMA cache_size=-16384")
    cursor.close()


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("microcred.storage").joinpath("migrations")))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration (what `microcred db upgrade` runs)."""
    command.upgrade(_alembic_config(engine), "head")


def ensure_schema(engine: Engine) -> None:
    """Migrate an empty database automatically; refuse one that is behind."""
    if not inspect(engine).get_table_names():
        upgrade(engine)
        return
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    if current != head:
        from microcred.errors import UsageError

        raise UsageError(f"the database is at migration {current}, the code expects {head}: run `microcred db upgrade`")

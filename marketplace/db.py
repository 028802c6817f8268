"""Database engine and request-scoped sessions (SQLModel on SQLAlchemy).

SQLite is the default (WAL, foreign keys and a busy timeout on every connection);
DATABASE_URL selects PostgreSQL (psycopg 3).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs and use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: Connections kept open per process. A web worker serves up to 8 requests at once (gunicorn
#: --threads 8); with fewer pooled connections, every extra one is opened and closed per request,
#: which on PostgreSQL means starting a server process each time.
POOL_SIZE = 10


def make_engine(url: str) -> Engine:
    """Create an engine for `url`; SQLite connections get the pragmas above."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        in_memory = make_url(url).database in (None, "", ":memory:")  # one connection per thread there
        pool = {} if in_memory else {"pool_size": POOL_SIZE, "max_overflow": POOL_SIZE}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 5}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_SIZE)
    return engine


def init_app(app: Flask) -> None:
    app.extensions["db_engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_session)


def get_engine() -> Engine:
    return current_app.extensions["db_engine"]


def get_session() -> Session:
    """The session of the current request or app context (created on first use)."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A standalone transactional session (CLI, scheduler): commit on success, roll back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

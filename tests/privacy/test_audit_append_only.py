"""Audit rows are append-only: the ORM refuses, and the database refuses even raw SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, SQLModel, create_engine, select

from marketplace.audit import audit
from marketplace.models import AuditEvent
from marketplace.models.system import AuditRowImmutable


def _one_event(session: Session) -> AuditEvent:
    event = audit(session, None, "view", "young_person", 1, case_id=1)
    session.commit()
    return event


def test_the_orm_refuses_to_change_an_audit_row(db_session: Session):
    event = _one_event(db_session)
    event.action = "update"
    db_session.add(event)
    with pytest.raises(AuditRowImmutable):
        db_session.flush()
    db_session.rollback()


def test_the_orm_refuses_to_delete_an_audit_row(db_session: Session):
    event = _one_event(db_session)
    db_session.delete(event)
    with pytest.raises(AuditRowImmutable):
        db_session.flush()
    db_session.rollback()


@pytest.mark.parametrize("statement", [
    lambda: update(AuditEvent).values(action="update"),
    lambda: delete(AuditEvent),
    lambda: text("UPDATE audit_event SET object_type = 'x'"),
    lambda: text("DELETE FROM audit_event"),
])
def test_the_database_refuses_bulk_and_raw_changes(db_session: Session, statement):
    _one_event(db_session)
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.execute(statement())
    db_session.rollback()
    assert len(db_session.exec(select(AuditEvent)).all()) == 1


def test_appending_still_works(db_session: Session):
    _one_event(db_session)
    _one_event(db_session)
    assert len(db_session.exec(select(AuditEvent)).all()) == 2


def test_postgres_refuses_truncate(db_session: Session):
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    _one_event(db_session)
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.execute(text("TRUNCATE audit_event"))
    db_session.rollback()


def test_create_all_makes_the_same_triggers(tmp_path):
    """Databases made from the models (not the migrations) are append-only too."""
    engine = create_engine(f"sqlite:///{tmp_path / 'created.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        _one_event(session)
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text("DELETE FROM audit_event"))
    engine.dispose()

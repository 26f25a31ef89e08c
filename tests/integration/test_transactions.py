"""Transactions mean the same on SQLite as on PostgreSQL: savepoints nest, locked rows queue, readers read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import DBAPIError

from storage import queries
from storage.db import Database, migrate
from storage.models import Incident

pytestmark = pytest.mark.asyncio


class Abandoned(Exception):
    """Raised inside a session to roll it back."""


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await asyncio.to_thread(migrate, database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


async def stored_incident(db: Database) -> int:
    async with db.session() as session:
        incident = Incident(request_key="transactions", title="Checkout down", severity=2, declared_by="U0ALICE")
        session.add(incident)
        await session.flush()
        assert incident.id is not None
        return incident.id


async def test_a_savepoint_rolled_back_with_its_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(Abandoned):
        async with db.session() as session:
            assert await queries.claim_delivery(session=session, key="delivery-1")
            raise Abandoned
    async with db.session() as session:
        assert not await queries.delivery_claimed(session=session, key="delivery-1")
        assert await queries.claim_delivery(session=session, key="delivery-1"), "the delivery is still unclaimed"


async def test_two_locked_changes_to_one_incident_both_land(db: Database) -> None:
    incident_id = await stored_incident(db)
    first_has_read = asyncio.Event()

    async def append(marker: str, *, first: bool) -> None:
        if not first:
            await first_has_read.wait()
        async with db.session() as session:
            incident = await queries.incident_for_update(session=session, incident_id=incident_id)
            assert incident is not None
            if first:
                first_has_read.set()
                await asyncio.sleep(0.3)  # the other change tries its read meanwhile
            incident.description += marker
            session.add(incident)

    await asyncio.wait_for(asyncio.gather(append("a", first=True), append("b", first=False)), 30)
    async with db.session(write=False) as session:
        incident = await queries.get_incident(session=session, incident_id=incident_id)
    assert incident is not None and sorted(incident.description) == ["a", "b"], "no change was lost"


async def test_a_reader_does_not_wait_for_a_writer_and_sees_only_committed_rows(db: Database) -> None:
    incident_id = await stored_incident(db)
    async with db.session() as writing:
        incident = await queries.incident_for_update(session=writing, incident_id=incident_id)
        assert incident is not None
        incident.title = "Checkout down in EU"
        writing.add(incident)
        await writing.flush()

        async def read_title() -> str:
            async with db.session(write=False) as reading:
                seen = await queries.get_incident(session=reading, incident_id=incident_id)
                assert seen is not None
                return seen.title

        assert await asyncio.wait_for(read_title(), 5) == "Checkout down"


async def test_a_read_only_session_refuses_to_write(db: Database) -> None:
    with pytest.raises(DBAPIError, match="(?i)read.?only"):
        async with db.session(write=False) as session:
            await queries.claim_delivery(session=session, key="delivery-2")

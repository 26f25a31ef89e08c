"""Helpers for integration tests: a real bot over HTTP against the local Slack."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import uvicorn
from sqlalchemy import create_engine, text

from bot.clock import Clock, SystemClock
from bot.config.settings import IncidentConfig, load_settings
from bot.context import BotContext
from bot.local_slack.requests import SignedRequests
from bot.local_slack.server import FakeSlack
from bot.runtime.runner import Runtime
from bot.runtime.scheduler import run_due_jobs, scheduled
from bot.slack.ids import Callback, DeclareField
from storage import queries
from storage.db import sync_url
from storage.models import Incident
from tests.clock import FakeClock

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"

ALICE, BOB, CAROL, DAVE = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"

MAX_STEPS = 1000
"""How many due times one :meth:`RunningBot.advance` may stop at before it calls the jobs runaway."""
RETRY_HORIZON = timedelta(seconds=10)
"""How far ahead `settled` looks for retries on the machine's clock (a retry waits 1 s, then 2, 4, 8)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_postgres_schema(base_url: str) -> tuple[str, str]:
    """A PostgreSQL URL whose search_path is a new, empty schema (one per test)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(sync_url(base_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{schema}", schema


def drop_postgres_schema(base_url: str, schema: str) -> None:
    engine = create_engine(sync_url(base_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def postgres_base_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def populate_workspace(slack: FakeSlack) -> None:
    """The people and channels most tests expect."""
    for user_id, name in [(ALICE, "alice"), (BOB, "bob"), (CAROL, "carol"), (DAVE, "dave")]:
        slack.add_user(user_id, name)
    slack.add_channel("incidents", members=[slack.bot_user_id, ALICE])
    slack.add_channel("status", members=[slack.bot_user_id])
    slack.add_channel("general", members=[slack.bot_user_id, ALICE, BOB, CAROL, DAVE])


@dataclass
class RunningBot:
    """A bot serving HTTP on 127.0.0.1, with a signed client pointed at it."""

    runtime: Runtime
    url: str
    requests: SignedRequests
    slack: FakeSlack
    server: uvicorn.Server

    @property
    def ctx(self) -> BotContext:
        return self.runtime.ctx

    @property
    def clock(self) -> FakeClock:
        """The test clock this bot was started with (see :meth:`advance`)."""
        assert isinstance(self.ctx.clock, FakeClock), "start the bot with a FakeClock to move its time"
        return self.ctx.clock

    async def advance(self, by: timedelta = timedelta(0)) -> None:
        """Let ``by`` pass on the bot's test clock, everything timed happening as its time comes.

        First the bot finishes what it was doing (acknowledged requests, follow-up
        work due) and runs the jobs already due. Then the clock moves to the next
        time a scheduled job or a piece of follow-up work falls due, runs what is
        due there and lets it finish, and so on until ``now + by``: a 30-minute
        cadence advanced by two hours prompts four times, each at its own time.
        ``await bot.advance()`` runs what is due now.
        """
        clock = self.clock
        until = clock.now() + by
        await self._run_due()
        for _ in range(MAX_STEPS):
            stop = await self._next_stop(until)
            if stop is None:
                break
            clock.set(stop)
            await self._run_due()
        else:
            raise AssertionError(f"something keeps falling due before {until}; stopped at {clock.now()}")
        clock.set(until)
        await self._run_due()

    async def _next_stop(self, until: datetime) -> datetime | None:
        """The next time after now, and by ``until``, at which a job or a piece of follow-up work falls due."""
        now = self.clock.now()
        times = [job.run_at for job in scheduled(self.ctx).values()]
        async with self.ctx.db.session() as session:
            times.append(await queries.next_due_at(session=session))
        return min((at for at in times if at is not None and now < at <= until), default=None)

    async def _run_due(self) -> None:
        """Wake the follow-up worker, run the jobs due now, and wait until all of it is done."""
        self.ctx.work_ready.set()
        await self.idle()
        await run_due_jobs(self.ctx)
        await self.idle()

    async def idle(self) -> None:
        """Wait until the bot has finished every request it acknowledged and the follow-up work due now."""
        await self.runtime.intake.finish()
        await self.ctx.finish_acknowledged()
        await self.settled()

    async def incident(self, incident_id: int) -> Incident:
        async with self.ctx.db.session(write=False) as session:
            incident = await queries.get_incident(session=session, incident_id=incident_id)
        assert incident is not None
        return incident

    async def all_incidents(self) -> list[Incident]:
        from sqlmodel import select

        async with self.ctx.db.session(write=False) as session:
            return list((await session.exec(select(Incident).order_by(Incident.id))).all())

    async def incident_in(self, channel_id: str) -> Incident:
        async with self.ctx.db.session(write=False) as session:
            incident = await queries.incident_by_channel(session=session, channel_id=channel_id)
        assert incident is not None
        return incident

    async def command_reply(self, text: str, *, user_id: str, channel_id: str) -> str:
        """Send `/incident <text>` and return the answer at its response_url.

        The ack itself is always empty: the intake acks commands before they
        run, so every answer, usage errors included, goes to the response_url.
        """
        url = self.slack.new_response_url(channel_id=channel_id)
        acked = await self.requests.command(text, user_id=user_id, channel_id=channel_id, response_url=url)
        assert acked.status_code == 200 and not acked.content, acked.text
        replies = await self.slack.wait_for_response(url)
        return "\n".join(r.get("text", "") for r in replies)

    async def wait_until(self, predicate: Any, timeout: float = 5.0) -> None:
        """Poll an async or sync predicate until it is true."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = predicate()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(0.02)

    async def declare(
        self,
        title: str = "Checkout API returning 500s",
        *,
        severity: int = 2,
        user: str = ALICE,
        channel_id: str | None = None,
        description: str = "",
        services: str = "",
        customer_impact: bool = False,
        private: bool = False,
        drill: bool = False,
        commander: str | None = None,
        responders: Iterable[str] = (),
        wait: bool = True,
    ) -> Incident:
        """Run the whole declare: slash command, modal, submission; returns the stored incident."""
        channel_id = channel_id or self.slack.channel_by_name("general").id  # type: ignore[union-attr]
        response_url = self.slack.new_response_url()
        opened_before = len(self.slack.calls_to("views.open"))
        reply = await self.requests.command(
            f"declare {title}", user_id=user, channel_id=channel_id, response_url=response_url
        )
        assert reply.status_code == 200, reply.text
        calls = await self.slack.wait_for("views.open", count=opened_before + 1)
        view = calls[-1].params["view"]
        view_id = calls[-1].response["view"]["id"]
        values = declare_values(
            title=title,
            severity=severity,
            description=description,
            services=services,
            customer_impact=customer_impact,
            private=private,
            drill=drill,
            commander=commander or user,
            responders=responders,
        )
        before = {i.id for i in await self.all_incidents()}
        submitted = await self.requests.view_submission(
            callback_id=Callback.DECLARE,
            user_id=user,
            values=values,
            private_metadata=view.get("private_metadata", ""),
            view_id=view_id,
        )
        assert submitted.status_code == 200, submitted.text
        assert not submitted.content or "errors" not in submitted.json(), submitted.text
        new = [i for i in await self.all_incidents() if i.id not in before]
        assert len(new) == 1, "the submission did not store exactly one incident"
        incident_id = new[0].id
        assert incident_id is not None
        if wait:
            await self.settled()
        return await self.incident(incident_id)

    async def settled(self, timeout: float = 15.0) -> None:
        """Wait until every piece of follow-up work due now is done or has failed for good.

        On the machine's clock, a piece retried after a hiccup (due again in a few
        seconds) is waited for too; on a test clock, time moves only when the test
        advances it, so only what is due now counts.
        """
        horizon = RETRY_HORIZON if isinstance(self.ctx.clock, SystemClock) else timedelta(0)

        async def idle() -> bool:
            async with self.ctx.db.session(write=False) as session:
                return await queries.due_work_count(session=session, now=self.ctx.clock.now() + horizon) == 0

        await self.wait_until(idle, timeout)


def declare_values(
    *,
    title: str,
    severity: int | None,
    description: str = "",
    services: str = "",
    customer_impact: bool = False,
    private: bool = False,
    drill: bool = False,
    commander: str,
    responders: Iterable[str] = (),
) -> dict[str, dict[str, dict[str, Any]]]:
    """Slack's view.state.values for the declare modal."""

    def yes_no(flag: bool) -> dict[str, Any]:
        return {"type": "radio_buttons", "selected_option": {"value": "yes" if flag else "no"}}

    severity_value: dict[str, Any] = {"type": "static_select", "selected_option": None}
    if severity is not None:
        severity_value["selected_option"] = {
            "value": str(severity),
            "text": {"type": "plain_text", "text": f"SEV-{severity}"},
        }
    return {
        DeclareField.TITLE: {DeclareField.TITLE: {"type": "plain_text_input", "value": title}},
        DeclareField.SEVERITY: {DeclareField.SEVERITY: severity_value},
        DeclareField.DESCRIPTION: {
            DeclareField.DESCRIPTION: {"type": "plain_text_input", "value": description or None}
        },
        DeclareField.SERVICES: {DeclareField.SERVICES: {"type": "plain_text_input", "value": services or None}},
        DeclareField.CUSTOMER_IMPACT: {DeclareField.CUSTOMER_IMPACT: yes_no(customer_impact)},
        DeclareField.PRIVATE: {DeclareField.PRIVATE: yes_no(private)},
        DeclareField.DRILL: {DeclareField.DRILL: yes_no(drill)},
        DeclareField.COMMANDER: {DeclareField.COMMANDER: {"type": "users_select", "selected_user": commander}},
        DeclareField.RESPONDERS: {
            DeclareField.RESPONDERS: {"type": "multi_users_select", "selected_users": list(responders)}
        },
    }


async def start_bot(
    slack: FakeSlack, database_url: str, config: IncidentConfig | None = None, *, clock: Clock | None = None,
    **env: str,
) -> RunningBot:
    """Start the real bot (migrations, token check, HTTP server) on a free local port.

    ``clock`` is the bot's clock: the machine's by default, or a :class:`FakeClock`
    the test moves with :meth:`RunningBot.advance`.
    """
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": database_url,
            **env,
        }
    )
    runtime = Runtime(settings, config or IncidentConfig(), clock=clock)
    await runtime.start()
    port = free_port()
    server = runtime.http_server(host="127.0.0.1", port=port)
    await _open(server)
    url = f"http://127.0.0.1:{port}"
    requests = SignedRequests(bot_url=url, signing_secret=SIGNING_SECRET, slack=slack)
    bot = RunningBot(runtime=runtime, url=url, requests=requests, slack=slack, server=server)
    return bot


async def stop_bot(bot: RunningBot) -> None:
    """Stop as a stop signal would: the HTTP server first, then the acknowledged work finishes."""
    await bot.requests.aclose()
    await _close(bot.server)
    await bot.runtime.stop()


async def _open(server: uvicorn.Server) -> None:
    """Start serving as ``server.serve()`` does, less uvicorn's main loop.

    That loop only watches for a stop every 0.1 s, and uvicorn's own stop waits
    another 0.1 s: hundreds of tests start a bot, so :func:`_close` stops the
    same way without the pauses.
    """
    server.config.load()
    server.lifespan = server.config.lifespan_class(server.config)
    await server.startup()
    await server.on_tick(0)  # the Date header the main loop would set


async def _close(server: uvicorn.Server) -> None:
    """No new connections, open ones asked to close after their response, then wait for them."""
    for listener in server.servers:
        listener.close()
    for connection in list(server.server_state.connections):
        connection.shutdown()
    while server.server_state.connections or server.server_state.tasks:
        await asyncio.sleep(0.005)
    for listener in server.servers:
        await listener.wait_closed()

"""Starting and stopping the bot: migrate, check the token, serve, finish interrupted work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn

from bot.clock import Clock
from bot.runtime.app import build_app, build_context
from bot.config.settings import IncidentConfig, Settings
from bot.consequences.worker import Worker
from bot.errors import SlackCallFailed
from bot.integrations.checks import check_secrets
from bot.runtime.intake import Intake
from bot.resolution.followups import reconcile_followups
from bot.runtime.leader import DatabaseInUse, Leadership, SoleProcess, lock_for
from bot.reminders.cadence import reconcile_reminders
from bot.runtime.scheduler import start_scheduler, stop_scheduler
from bot.runtime.server import create_web_app
from bot.runtime.socket_mode import AppTokenRefused, SocketModeConnection
from storage.db import migrate

log = logging.getLogger(__name__)

LEADER_POLL_SECONDS = 2.0
JOBS_ALIGN_SECONDS = 10.0
RECONCILERS = (reconcile_reminders, reconcile_followups)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
FINISH_SECONDS = 20.0
"""On a graceful stop, how long the acknowledged requests and then the follow-up work due now may take, in all."""
ALIGNMENT_ENDS_SECONDS = 5.0
"""On a graceful stop, how long a round of job alignment under way may take to end before it is cut off."""


class HttpServer(uvicorn.Server):
    """uvicorn's server, but a stop signal ends ``serve()`` instead of the process.

    uvicorn sends itself SIGTERM or SIGINT again once it has shut down, which
    kills the process before the runtime has finished acknowledged work and
    closed the database. Here the signal only stops the server; a second one
    during the runtime's stop gets the default behaviour and ends the process.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for stop_signal in STOP_SIGNALS:
            loop.add_signal_handler(stop_signal, self.handle_exit, stop_signal, None)
        try:
            yield
        finally:
            for stop_signal in STOP_SIGNALS:
                loop.remove_signal_handler(stop_signal)


class StartupError(Exception):
    """The bot cannot start; the message tells the operator what to fix."""


class Runtime:
    """One running bot: its context, Bolt app, intake and ASGI app."""

    def __init__(self, settings: Settings, config: IncidentConfig, *, clock: Clock | None = None) -> None:
        self.ctx = build_context(settings, config, clock=clock)
        self.intake = Intake(build_app(self.ctx), self.ctx)
        self.web = create_web_app(self.ctx, self.intake)
        self.worker = Worker(self.ctx)
        self._worker_task: asyncio.Task[None] | None = None
        self._alignment: asyncio.Task[None] | None = None
        self.sole_process = SoleProcess(settings.database_url)
        self.leadership = Leadership(
            lock_for(settings.database_url), on_elected=self._lead, on_demoted=self._follow,
            poll_seconds=LEADER_POLL_SECONDS,
        )

    async def _lead(self) -> None:
        await start_scheduler(self.ctx, reconcile=RECONCILERS, still_leader=self.leadership.still_leader)
        self.ctx.scheduler_leader = True

    async def _follow(self) -> None:
        self.ctx.scheduler_leader = False
        await stop_scheduler(self.ctx)

    async def start(self) -> None:
        """Take the database (a SQLite file for this process alone), migrate the schema, prove the token
        works, start the scheduler, then finish interrupted declares."""
        check_secrets(self.ctx.settings, self.ctx.config)
        try:
            self.sole_process.claim()
        except DatabaseInUse as exc:
            raise StartupError(str(exc)) from exc
        try:
            await self._start()
        except BaseException:
            self.sole_process.release()
            raise

    async def _start(self) -> None:
        await asyncio.to_thread(migrate, self.ctx.settings.database_url)
        await self.ctx.slack.open()
        try:
            identity = await self.ctx.slack.identity()
        except SlackCallFailed as exc:
            await self.ctx.slack.close()
            raise StartupError(
                f"Slack refused SLACK_BOT_TOKEN ({exc.error}) at {self.ctx.settings.slack_api_url}: "
                "check the token and that the app is installed."
            ) from exc
        log.info("connected to Slack as %s in team %s", identity.get("user_id"), identity.get("team_id"))
        await self.leadership.campaign_once()
        self.ctx.spawn(self.leadership.run(), name="leader-election")
        self._alignment = self.ctx.spawn(self._align_jobs(), name="align-scheduled-jobs")
        if self.sole_process.alone:
            await self.worker.take_back_claims()
        self._worker_task = asyncio.get_running_loop().create_task(self.worker.run(), name="follow-up-worker")
        self.intake.start()

    async def _align_jobs(self) -> None:
        """On the leader, keep the jobs in line with the database, their one source of truth.

        Replicas that do not run the scheduler record every change (next
        update due, escalations, follow-ups) in the database; the leader's
        reconcilers turn those into jobs, so nothing is lost with replicas,
        and a job lost in this process is put back too.
        """
        while not await self.ctx.rest(JOBS_ALIGN_SECONDS):
            if not self.leadership.is_leader:
                continue
            for reconcile in RECONCILERS:
                try:
                    await reconcile(self.ctx)
                except Exception:  # noqa: BLE001 - the next pass tries again
                    log.exception("aligning scheduled jobs failed; trying again shortly")

    async def stop(self) -> None:
        """Finish the Slack requests already acknowledged and the follow-up work due now, within
        :data:`FINISH_SECONDS` in all, then stop background work."""
        deadline = asyncio.get_running_loop().time() + FINISH_SECONDS
        try:
            await asyncio.wait_for(self._finish_acknowledged(), FINISH_SECONDS)
        except TimeoutError:
            log.warning("stopping with %d acknowledged Slack request(s) unfinished",
                        self.intake.queued + len(self.ctx.acknowledged))
        await self.intake.stop()
        await self._stop_worker(max(deadline - asyncio.get_running_loop().time(), 1.0))
        self.ctx.stopping.set()
        if self._alignment is not None:  # a round under way ends, rather than being cut off in the database
            await asyncio.wait([self._alignment], timeout=ALIGNMENT_ENDS_SECONDS)
        for task in [*self.ctx.background, *self.ctx.acknowledged]:
            task.cancel()
        await self.ctx.drain()
        await self.ctx.slack.close()
        await self.ctx.http.close()
        await self.ctx.db.dispose()
        self.sole_process.release()

    async def _stop_worker(self, seconds: float) -> None:
        """Finish the follow-up work due now, for up to ``seconds``; what is left (a retry waiting out
        its backoff, work cut short by the deadline) stays in the database for the next start."""
        if self._worker_task is None:
            return
        self.worker.stop_when_done()
        try:
            await asyncio.wait_for(asyncio.shield(self._worker_task), seconds)
        except TimeoutError:
            log.warning("stopping with follow-up work in progress; another start takes it up")
            self._worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker_task
            await self.worker.cancel()

    async def _finish_acknowledged(self) -> None:
        await self.intake.finish()
        await self.ctx.finish_acknowledged()

    async def serve_http(self, *, host: str, port: int) -> None:
        """HTTP mode: Slack posts to /slack/events on this server."""
        await self.start()
        try:
            await self.http_server(host=host, port=port).serve()
        finally:
            await self.stop()

    def http_server(self, *, host: str, port: int) -> uvicorn.Server:
        return HttpServer(uvicorn.Config(self.web, host=host, port=port, lifespan="off", http="httptools",
                                             log_level="info", access_log=False))

    async def serve_socket_mode(self, *, host: str, port: int) -> None:
        """Socket Mode: Slack talks over a WebSocket; the HTTP server still serves health and metrics.

        A stop signal ends the HTTP server; then the socket takes no more
        envelopes, and the work Slack was told about is finished as in HTTP mode.
        """
        await self.start()
        socket = self.socket_mode_connection()
        try:
            await socket.connect()
            await self.http_server(host=host, port=port).serve()
        except AppTokenRefused as exc:
            raise StartupError(
                f"Slack refused SLACK_APP_TOKEN ({exc.error}) at {self.ctx.settings.slack_api_url}: check the "
                "app-level token and its connections:write scope."
            ) from exc
        finally:
            await socket.close()
            await self.stop()

    def socket_mode_connection(self) -> SocketModeConnection:
        """The Socket Mode connection (not yet open), feeding the same intake as the HTTP endpoint."""
        app_token = self.ctx.settings.slack_app_token
        assert app_token is not None, "Socket Mode needs SLACK_APP_TOKEN"
        return SocketModeConnection(self.intake, app_token=app_token.get_secret_value(),
                                    web_client=self.ctx.slack.client)

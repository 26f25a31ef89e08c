"""Running the bot as a real process, for crash, restart and replica tests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from sqlmodel import select

from storage.db import Database
from storage.models import Incident
from tests.support import BOT_TOKEN, SIGNING_SECRET, free_port


async def stored_incidents(database_url: str) -> list[Incident]:
    """Every incident in a database that another process is writing."""
    db = Database(database_url)
    try:
        async with db.session() as session:
            return list((await session.exec(select(Incident))).all())
    finally:
        await db.dispose()


class PortTaken(Exception):
    """Another test bound the port between choosing it and the bot listening on it."""


class BotProcess:
    """`incident-bot serve` (or another mode) in a child process, stoppable gracefully or killed outright."""

    def __init__(self, *, api_url: str, database_url: str, log_path: Path, config_path: Path | None = None,
                 extra_env: dict[str, str] | None = None, command: str = "serve") -> None:
        self.command = command
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SLACK_")},
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url,
            "DATABASE_URL": database_url,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            **({"INCIDENT_BOT_CONFIG": str(config_path)} if config_path else {}),
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, timeout: float = 30.0) -> None:
        """Start and wait for /healthz; a port another test took meanwhile is swapped for a free one."""
        for _ in range(3):
            try:
                return await self._start(timeout)
            except PortTaken:
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
                self.env["PORT"] = str(self.port)
        await self._start(timeout)

    async def _start(self, timeout: float) -> None:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", self.command], env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient() as client:
            while True:
                if self.process.poll() is not None:
                    if "address already in use" in self.log()[offset:]:
                        raise PortTaken(self.port)
                    raise AssertionError(f"bot exited with {self.process.returncode}:\n{self.log()}")
                try:
                    if (await client.get(f"{self.url}/healthz", timeout=1)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"bot did not become healthy:\n{self.log()}")
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a machine dies."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    async def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait without blocking the loop (the Slack stand-in may be in it); the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        deadline = asyncio.get_running_loop().time() + timeout
        while (code := self.process.poll()) is None:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"bot did not exit within {timeout}s of SIGTERM:\n{self.log()}")
            await asyncio.sleep(0.05)
        return code

    def stop(self) -> None:
        """SIGTERM and wait: a graceful stop."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

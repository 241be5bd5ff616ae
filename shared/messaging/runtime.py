"""Starts and stops a service's relay and consumers as background tasks of one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from shared.messaging.consumer import EventConsumer
from shared.messaging.relay import OutboxRelay

log = logging.getLogger("shared.runtime")


class MessagingRuntime:
    def __init__(self, relay: OutboxRelay | None, consumers: list[EventConsumer]) -> None:
        self.relay = relay
        self.consumers = consumers
        self._tasks: list[asyncio.Task[None]] = []

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(_report_crash)
        self._tasks.append(task)

    async def start(self) -> None:
        if self.relay is not None:
            self._spawn(self.relay.run(), "outbox-relay")
        for consumer in self.consumers:
            self._spawn(consumer.run(), f"consumer-{consumer.name}")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    async def run_forever(self) -> None:
        await self.start()
        try:
            await asyncio.gather(*self._tasks)
        finally:
            await self.stop()


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s crashed", task.get_name(), exc_info=task.exception())

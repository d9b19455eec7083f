"""The asyncio side of the bridge to the C++ I/O thread.

Each event loop gets one ``_core.CompletionQueue``; its eventfd is registered with
``loop.add_reader``. An operation is started with a token; the I/O thread pushes its outcome
on the queue and writes the eventfd only when the queue was empty, so a burst of completions
costs one wake-up. ``_drain`` runs on the loop thread and resolves the futures. Nothing here is
called from another thread: the loop is only ever touched from its own thread.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Callable, Dict

from . import _core


class Bridge:
    __slots__ = ("queue", "_loop_ref", "_pending", "_token", "__weakref__")

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.queue = _core.CompletionQueue()
        self._loop_ref = weakref.ref(loop)
        self._pending: Dict[int, asyncio.Future] = {}
        self._token = 0
        loop.add_reader(self.queue.fd, self._drain)

    def submit(self, start: Callable[[object, int], None]) -> asyncio.Future:
        """Calls ``start(queue, token)`` and returns the future its completion resolves."""
        loop = self._loop_ref()
        self._token += 1
        token = self._token
        future = loop.create_future()
        self._pending[token] = future
        try:
            start(self.queue, token)
        except BaseException:
            del self._pending[token]
            raise
        return future

    def _drain(self) -> None:
        pending = self._pending
        for token, ok, value in self.queue.drain():
            future = pending.pop(token, None)
            if future is None or future.done():  # cancelled by its awaiter: drop the outcome
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    @property
    def pending(self) -> int:
        return len(self._pending)


_bridges: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Bridge]" = weakref.WeakKeyDictionary()


def bridge() -> Bridge:
    """The bridge of the running event loop (created on first use)."""
    loop = asyncio.get_running_loop()
    b = _bridges.get(loop)
    if b is None:
        b = Bridge(loop)
        _bridges[loop] = b
    return b


async def call(start: Callable[[object, int], None]):
    """Starts an operation on the I/O thread and waits for its outcome."""
    return await bridge().submit(start)

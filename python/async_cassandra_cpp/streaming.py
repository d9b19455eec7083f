"""Streaming large results: ``session.execute_stream`` and the ``StreamConfig`` of the guide.

Pages come from the C++ stream (read-ahead of ``prefetch_pages`` pages, bounded memory); rows are
built on the event loop thread in chunks, and the iterator yields to the loop between chunks, so
other tasks keep running while a page is converted and consumed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Dict, List, Optional

from . import _bridge, _core
from .types import row_class

# A chunk: at most this many rows, and past its first row at most this many bytes of cells.
CHUNK_ROWS = 512
CHUNK_BYTES = 64 * 1024

log = logging.getLogger("async_cassandra_cpp")


@dataclass
class StreamConfig:
    """How ``execute_stream`` pages (the guide's fields, then ours).

    fetch_size: rows per page request. max_pages: stop after this many pages (None = all).
    page_callback: ``f(page_number, total_rows_fetched)``, called on the event loop thread when a
    page is handed to the iteration (an exception it raises is logged and counted in
    ``stream.callback_errors``; the stream goes on). timeout_seconds: longest wait for one page, retries included
    (None = no limit per page; each request still has the cluster's request timeout).
    prefetch_pages: pages fetched ahead of the consumer (0 = on demand only).
    resume_from: a ``ResumePoint`` (``stream.resume_point()``) to continue a stream exactly there.
    retries: page request retries for transient failures (None = 3 with back-off, 0 = none).
    """
    fetch_size: int = 1000
    max_pages: Optional[int] = None
    page_callback: Optional[Callable[[int, int], Any]] = None
    timeout_seconds: Optional[float] = None
    prefetch_pages: int = 1
    resume_from: Optional[_core.ResumePoint] = None
    retries: Optional[int] = None

    def _native(self) -> Dict[str, Any]:
        if self.fetch_size is None or self.fetch_size <= 0:
            raise ValueError("fetch_size must be a positive number of rows")
        if self.prefetch_pages < 0:
            raise ValueError("prefetch_pages must be >= 0")
        if self.max_pages is not None and self.max_pages <= 0:
            raise ValueError("max_pages must be positive (or None)")
        return {"fetch_size": int(self.fetch_size), "prefetch_pages": int(self.prefetch_pages),
                "max_pages": self.max_pages, "timeout_seconds": self.timeout_seconds,
                "resume_from": self.resume_from, "retries": self.retries}


ResumePoint = _core.ResumePoint


class AsyncStreamingResultSet:
    """A running stream: ``async for row in stream``, ``async for page in stream.pages()``.

    Use it as ``async with await session.execute_stream(...) as stream``. Leaving the block (also
    by break or an exception), ``await stream.close()``, cancelling the task that iterates, or
    dropping the last reference all close the stream: the page request in flight is abandoned and
    buffered pages are freed.
    """

    def __init__(self, handle, config: StreamConfig):
        self._handle = handle
        self._config = config
        self._bridge = _bridge.bridge()
        self._page = None          # _core.Page being consumed
        self._page_pos = 0         # next unconverted row of _page
        self._page_start = None    # ResumePoint of _page's first row
        self._consumed_in_page = 0  # rows of _page handed to the caller
        self._rows: List[tuple] = []  # converted chunk
        self._pos = 0
        self._row_class = None
        self._names = None
        self._end_point = None     # final ResumePoint once the stream ended
        self._closed = False
        self.page_number = 0
        """Pages handed to the iteration so far (the first page is 1)."""
        self.total_rows_fetched = 0
        """Rows in the pages handed to the iteration so far."""
        self.callback_errors = 0
        """Exceptions raised by page_callback (logged on the "async_cassandra_cpp" logger)."""

    # ------------------------------------------------------------ context manager

    async def __aenter__(self) -> "AsyncStreamingResultSet":
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the stream (idempotent): abandons the page request in flight, frees pages."""
        if self._closed:
            return
        self._closed = True
        self._release_page()
        handle, self._handle = self._handle, None
        if handle is not None:
            await self._bridge.submit(handle.close)

    def _close_now(self) -> None:
        """Closes without waiting (cancellation, errors). A page wait still pending on the I/O
        thread keeps the C++ stream alive until it ends, so close it explicitly as well."""
        self._closed = True
        self._release_page()
        handle, self._handle = self._handle, None
        if handle is not None:
            try:
                self._bridge.submit(handle.close)  # outcome not awaited: nothing to report
            except RuntimeError:  # the loop is closing
                pass

    def _release_page(self) -> None:
        self._page = None
        self._rows = []
        self._pos = 0

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------ pages

    async def _next_page(self) -> bool:
        """Takes the next page from the C++ stream; False at the end."""
        if self._closed:
            return False
        try:
            delivery = await self._bridge.submit(self._handle.next_page)
        except asyncio.CancelledError:
            self._close_now()  # a cancelled consumer closes its stream (no orphaned page in flight)
            raise
        except BaseException:
            self._close_now()
            raise
        if self._closed:  # closed while waiting
            return False
        page = delivery.page
        self.page_number = delivery.page_number
        self.total_rows_fetched = delivery.total_rows
        if page is None:
            self._end_point = delivery.end
            self._release_page()
            self._page_start = None
            self._closed = True
            self._handle = None
            return False
        self._page = page
        self._page_pos = 0
        self._page_start = delivery.start
        self._consumed_in_page = 0
        names = page.column_names
        if names != self._names:
            self._names = names
            self._row_class = row_class(names)
        callback = self._config.page_callback
        if callback is not None:
            try:
                callback(self.page_number, self.total_rows_fetched)
            except Exception:  # a progress report must not end the stream: counted and logged
                self.callback_errors += 1
                log.exception("page_callback raised (page %d)", self.page_number)
        return True

    def _convert_chunk(self) -> bool:
        """Converts the next chunk of the current page into self._rows; False when none is left."""
        page = self._page
        if page is None or self._page_pos >= len(page):
            return False
        end = page.chunk_end(self._page_pos, CHUNK_ROWS, CHUNK_BYTES)
        self._rows = page.rows(self._page_pos, end - self._page_pos, self._row_class)
        self._pos = 0
        self._page_pos = end
        return True

    # ------------------------------------------------------------ rows

    def __aiter__(self) -> "AsyncStreamingResultSet":
        return self

    async def __anext__(self):
        pos = self._pos
        if pos < len(self._rows):
            self._pos = pos + 1
            self._consumed_in_page += 1
            return self._rows[pos]
        return await self._next_row_slow()

    async def _next_row_slow(self):
        while True:
            if self._page is not None and self._page_pos < len(self._page):
                # Let the loop run other tasks between chunks (the consumer may never await).
                await asyncio.sleep(0)
                if self._closed:
                    raise StopAsyncIteration
                self._convert_chunk()
            elif not await self._next_page():
                raise StopAsyncIteration
            if self._rows and self._pos < len(self._rows):
                self._pos += 1
                self._consumed_in_page += 1
                return self._rows[self._pos - 1]

    async def pages(self, columnar: bool = False) -> AsyncIterator[Any]:
        """Yields each remaining page: a list of rows, or with ``columnar=True`` a dict of column
        name -> numpy array (numeric, boolean, timestamp, date, time columns; masked when the
        page has nulls) or list (other columns). Rows of the current page not yet read by ``async
        for row`` are skipped."""
        while await self._next_page():
            page = self._page
            if columnar:
                data = page.columnar()
                self._consumed_in_page = len(page)
                self._release_page()
                yield data
                continue
            rows: List[tuple] = []
            while self._convert_chunk():
                rows.extend(self._rows)
                if self._page_pos < len(page):
                    await asyncio.sleep(0)
                    if self._closed:
                        return
            self._consumed_in_page = len(page)
            self._release_page()
            yield rows

    # ------------------------------------------------------------ resume

    def resume_point(self) -> _core.ResumePoint:
        """Row-exact position: every row returned by ``async for`` and every page yielded by
        ``pages()`` counts as consumed. Continue with ``StreamConfig(resume_from=point)`` on the
        same statement; ``point.to_string()`` / ``ResumePoint.from_string`` store it."""
        if self._end_point is not None:
            return self._end_point
        if self._page_start is None:
            start = self._config.resume_from
            return start if start is not None else _core.ResumePoint.from_string("acass-resume-1 - 0 0")
        return self._page_start.advanced(self._consumed_in_page)

    @property
    def column_names(self):
        return self._names

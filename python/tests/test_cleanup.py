"""Streams are closed on every way out: leaving `async with` early, an exception in the loop body,
cancelling the task, or dropping the last reference without closing (garbage collection). After
each, the session's in-flight count returns to 0 and no C++ stream is left alive; 10,000 abandoned
streams do not make the process grow."""

import asyncio
import gc

import pytest

import async_cassandra_cpp as acc
from async_cassandra_cpp import AsyncCluster, StreamConfig
from conftest import run, wait_idle, wait_streams_gone

QUERY = "SELECT pk, ck, name FROM synthetic.rows"


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def connected(server):
    cluster = AsyncCluster([server.host], port=server.port)
    return cluster, await cluster.connect()


async def settled(session):
    assert await wait_streams_gone() == 0
    assert await wait_idle(session) == 0


def test_break_out_of_async_with(server):
    async def main():
        cluster, session = await connected(server)
        async with await session.execute_stream(QUERY, stream_config=StreamConfig(fetch_size=500)) as result:
            async for row in result:
                if row.ck == 10:
                    break
        assert result.closed
        await settled(session)
        await cluster.shutdown()
    run(main())


def test_exception_in_loop_body(server):
    async def main():
        cluster, session = await connected(server)
        with pytest.raises(ZeroDivisionError):
            async with await session.execute_stream(QUERY, stream_config=StreamConfig(fetch_size=500)) as result:
                async for row in result:
                    if row.ck == 15:
                        1 / 0
        assert result.closed
        await settled(session)
        # the same without a context manager: the exception drops the last reference
        async def body():
            result = await session.execute_stream(QUERY, stream_config=StreamConfig(fetch_size=500))
            async for row in result:
                if row.ck == 15:
                    raise KeyError(row.ck)
        with pytest.raises(KeyError):
            await body()
        gc.collect()
        await settled(session)
        await cluster.shutdown()
    run(main())


def test_task_cancellation_closes_the_stream(server):
    async def main():
        cluster, session = await connected(server)
        started = asyncio.Event()

        async def consumer(stream_config):
            async with await session.execute_stream(QUERY, stream_config=stream_config) as result:
                async for _ in result.pages():
                    started.set()
                    await asyncio.sleep(10)

        for config in (StreamConfig(fetch_size=200), StreamConfig(fetch_size=200, prefetch_pages=0)):
            started.clear()
            task = asyncio.ensure_future(consumer(config))
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await settled(session)

        # cancelled while waiting for a page (the request is in flight): the stream is closed too
        slow = acc.AsyncCluster([server.host], port=server.port)
        s2 = await slow.connect()
        result = await s2.execute_stream(QUERY, stream_config=StreamConfig(fetch_size=20000, prefetch_pages=0))
        task = asyncio.ensure_future(result.pages().__anext__())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert result.closed
        del result, task
        gc.collect()
        await settled(s2)
        await slow.shutdown()
        await cluster.shutdown()
    run(main())


def test_garbage_collected_stream_is_closed(server):
    async def main():
        cluster, session = await connected(server)
        result = await session.execute_stream(QUERY, stream_config=StreamConfig(fetch_size=300))
        await result.__anext__()
        assert acc.live_streams() == 1
        del result
        gc.collect()
        await settled(session)
        # a reference cycle through the stream is collected as well
        result = await session.execute_stream(QUERY, stream_config=StreamConfig(fetch_size=300))
        result.self_ref = result
        await result.__anext__()
        del result
        gc.collect()
        await settled(session)
        await cluster.shutdown()
    run(main())


def test_ten_thousand_abandoned_streams_do_not_grow_memory(server):
    async def main():
        cluster, session = await connected(server)
        config = StreamConfig(fetch_size=100)

        async def abandon(n):
            for i in range(n):
                result = await session.execute_stream(QUERY, stream_config=config)
                await result.__anext__()
                if i % 2:
                    del result  # dropped without close
                else:
                    await result.close()

        await abandon(1000)  # warm-up: allocator pools, caches
        gc.collect()
        await settled(session)
        before = rss_kb()
        await abandon(10000)
        gc.collect()
        await settled(session)
        grown = rss_kb() - before
        print("RSS growth over 10,000 abandoned streams: %d kB" % grown)
        assert grown < 8 * 1024, "grew by %d kB" % grown
        await cluster.shutdown()
    run(main())

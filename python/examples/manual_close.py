"""Cleanup without a context manager: try/finally with `await result.close()`, as the guide shows,
and an early `break`; afterwards the session has no request in flight and no stream is alive."""
# server-flags: --synthetic 20000
import asyncio

from _example import main, parse_args

import async_cassandra_cpp as acc
from async_cassandra_cpp import AsyncCluster, StreamConfig


async def manual_close(args):
    async with AsyncCluster([args.host], port=args.port) as cluster:
        session = await cluster.connect()
        result = await session.execute_stream("SELECT * FROM synthetic.rows", stream_config=StreamConfig(fetch_size=500))
        processed = 0
        try:
            async for row in result:
                processed += 1
                if processed == 1234:
                    break  # early exit: finally still closes the stream
        finally:
            await result.close()  # CRITICAL: always close in finally
        for _ in range(200):
            if session.in_flight_requests() == 0 and acc.live_streams() == 0:
                break
            await asyncio.sleep(0.01)
        print(f"processed {processed} rows; in flight: {session.in_flight_requests()}, "
              f"live streams: {acc.live_streams()}")
        return processed == 1234 and session.in_flight_requests() == 0 and acc.live_streams() == 0


if __name__ == "__main__":
    main(manual_close(parse_args()))

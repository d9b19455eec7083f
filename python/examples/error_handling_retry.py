"""Error handling and retry of a long stream (the guide's reliable_stream_processing): the server
drops the connection once in the middle of the stream; the page retry policy gives up at once
(retries=0, to show the handling), the job catches the error, and restarts from a row-exact
resume_point() instead of a `WHERE id > last` query - every row is processed exactly once."""
# server-flags: --synthetic 20000 --fault drop_after_pages=5,max_hits=1,pattern=synthetic.rows
import asyncio

from _example import main, parse_args

import async_cassandra_cpp as acc
from async_cassandra_cpp import AsyncCluster, StreamConfig


async def reliable_stream_processing(args):
    async with AsyncCluster([args.host], port=args.port) as cluster:
        session = await cluster.connect()
        seen = set()
        duplicates = 0
        failures = 0
        resume = None
        while True:
            try:
                config = StreamConfig(fetch_size=1000, retries=0, resume_from=resume)
                async with await session.execute_stream("SELECT pk, ck FROM synthetic.rows",
                                                        stream_config=config) as result:
                    try:
                        async for row in result:
                            key = (row.pk, row.ck)
                            duplicates += key in seen
                            seen.add(key)
                    finally:
                        resume = result.resume_point()
                break  # success
            except acc.DriverException as e:
                failures += 1
                print(f"Stream failed after {len(seen):,} rows ({type(e).__name__}: {e}); resuming from {resume}")
                if failures > 3:
                    return False
                await asyncio.sleep(0.1)
        print(f"{len(seen):,} rows, {duplicates} duplicates, {failures} failure(s) recovered")
        return len(seen) == 20000 and duplicates == 0 and failures == 1


if __name__ == "__main__":
    main(reliable_stream_processing(parse_args()))

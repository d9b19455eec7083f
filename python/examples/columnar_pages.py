"""Columnar pages for data work: `result.pages(columnar=True)` yields dict column -> numpy array
(built from the page buffer, no Python object per cell), here aggregated with numpy."""
# server-flags: --synthetic 50000
from _example import main, parse_args

import numpy as np

from async_cassandra_cpp import AsyncCluster, StreamConfig


async def columnar(args):
    async with AsyncCluster([args.host], port=args.port) as cluster:
        session = await cluster.connect()
        total = 0.0
        rows = 0
        latest = None
        async with await session.execute_stream("SELECT pk, ck, value, ts FROM synthetic.rows",
                                                stream_config=StreamConfig(fetch_size=10000)) as result:
            async for page in result.pages(columnar=True):
                total += float(np.sum(page["value"]))
                rows += len(page["pk"])
                page_latest = page["ts"].max()
                latest = page_latest if latest is None else max(latest, page_latest)
        expected = sum(pk * 0.5 + ck for pk in range(500) for ck in range(100))
        print(f"{rows:,} rows, sum(value) = {total:,.1f} (expected {expected:,.1f}), latest ts {latest}")
        return rows == 50000 and abs(total - expected) < 1e-3 and latest == np.datetime64(1700000000000 + 499 * 1000 + 99, "ms")


if __name__ == "__main__":
    main(columnar(parse_args()))

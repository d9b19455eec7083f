"""Row-by-row streaming with a progress line every 1,000 rows (the guide's basic usage), using the
context manager that always closes the stream."""
# server-flags: --synthetic 20000
from _example import main, parse_args

from async_cassandra_cpp import AsyncCluster, StreamConfig


async def process_large_table(args):
    cluster = AsyncCluster([args.host], port=args.port)
    session = await cluster.connect("synthetic")
    config = StreamConfig(fetch_size=1000)  # page size: 1000 rows per request
    rows_processed = 0
    async with await session.execute_stream("SELECT pk, ck, name FROM rows", stream_config=config) as result:
        async for row in result:
            assert row.name == "name-%d-%d" % (row.pk, row.ck)
            rows_processed += 1
            if rows_processed % 1000 == 0:
                print(f"Processed {rows_processed} rows...")
    print(f"Done! Processed {rows_processed} total rows")
    await cluster.shutdown()
    return rows_processed == 20000


if __name__ == "__main__":
    main(process_large_table(parse_args()))

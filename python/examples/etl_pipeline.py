"""Extract, transform, load (the guide's etl_pipeline): stream a table, transform each row, and load
the results with concurrent prepared INSERTs (execute_concurrent) one batch at a time; then check
the destination's COUNT(*)."""
# server-flags: --synthetic 20000
import time
from datetime import datetime, timezone

from _example import main, parse_args

from async_cassandra_cpp import AsyncCluster, StreamConfig, execute_concurrent_with_args


async def etl_pipeline(args, batch_size=1000):
    async with AsyncCluster([args.host], port=args.port) as cluster:
        session = await cluster.connect()
        await session.execute("CREATE KEYSPACE IF NOT EXISTS etl WITH replication = "
                              "{'class': 'SimpleStrategy', 'replication_factor': 1}")
        await session.execute("CREATE TABLE IF NOT EXISTS etl.enriched (id text PRIMARY KEY, data text, "
                              "processed_at timestamp)")
        insert_stmt = await session.prepare("INSERT INTO etl.enriched (id, data, processed_at) VALUES (?, ?, ?)")

        async def transform(row):
            if row.ck == 99 and row.pk % 50 == 0:
                raise ValueError("poison row")  # some rows fail the transformation
            return {"id": f"{row.pk}:{row.ck}", "data": row.name.upper()}

        start = time.perf_counter()
        total_processed = 0
        failed_rows = []
        config = StreamConfig(fetch_size=batch_size,
                              page_callback=lambda p, t: print(f"[ETL] Page {p}: Extracted {t:,} rows"))
        async with await session.execute_stream("SELECT * FROM synthetic.rows", stream_config=config) as result:
            batch = []
            async for row in result:
                try:
                    transformed = await transform(row)
                    batch.append((transformed["id"], transformed["data"], datetime.now(timezone.utc)))
                    if len(batch) >= batch_size:
                        await execute_concurrent_with_args(session, insert_stmt, batch, concurrency=50)
                        total_processed += len(batch)
                        batch = []
                except Exception as e:
                    failed_rows.append((row.pk, row.ck, str(e)))
            if batch:
                await execute_concurrent_with_args(session, insert_stmt, batch, concurrency=50)
                total_processed += len(batch)
        duration = time.perf_counter() - start
        count = (await session.execute("SELECT COUNT(*) FROM etl.enriched")).one()[0]
        print("\nETL Pipeline Complete:")
        print(f"- Processed: {total_processed:,} rows")
        print(f"- Failed: {len(failed_rows)} rows")
        print(f"- Duration: {duration:.1f} seconds")
        print(f"- Rate: {total_processed / duration:,.0f} rows/second")
        print(f"- Destination holds {count:,} rows")
        return total_processed == count == 20000 - 4 and len(failed_rows) == 4


if __name__ == "__main__":
    main(etl_pipeline(parse_args()))

"""Progress reporting with a page callback and a COUNT(*) total (the guide's export_with_progress).
page_callback runs on the event loop thread when each page is handed to the iteration."""
# server-flags: --synthetic 20000
from _example import main, parse_args

from async_cassandra_cpp import AsyncCluster, StreamConfig


async def export_with_progress(args):
    async with AsyncCluster([args.host], port=args.port) as cluster:
        session = await cluster.connect()
        count_result = await session.execute("SELECT COUNT(*) FROM synthetic.rows")
        total_rows = count_result.one()[0]
        print(f"Exporting {total_rows:,} rows...")
        reports = []

        def progress_callback(page_num: int, total_fetched: int):
            percent = (total_fetched / total_rows * 100) if total_rows > 0 else 0
            reports.append(percent)
            print(f"Page {page_num}: {total_fetched:,}/{total_rows:,} ({percent:.1f}%)")

        config = StreamConfig(fetch_size=2000, page_callback=progress_callback)
        rows_processed = 0
        async with await session.execute_stream("SELECT * FROM synthetic.rows", stream_config=config) as result:
            async for row in result:
                rows_processed += 1
        return rows_processed == total_rows == 20000 and len(reports) == 10 and reports[-1] == 100.0


if __name__ == "__main__":
    main(export_with_progress(parse_args()))

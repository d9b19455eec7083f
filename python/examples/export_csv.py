"""Export a table to CSV page by page without holding it in memory (the guide's export pattern; it
writes Parquet with pyarrow, which Debian's python does not ship, so this writes CSV the same way),
then read the file back and count its records."""
# server-flags: --synthetic 30000
import csv
import os
import tempfile

from _example import main, parse_args

from async_cassandra_cpp import AsyncCluster, StreamConfig


async def export_to_csv(args):
    out = os.path.join(tempfile.mkdtemp(prefix="acass-export-"), "rows.csv")
    async with AsyncCluster([args.host], port=args.port) as cluster:
        session = await cluster.connect()
        config = StreamConfig(fetch_size=5000)
        with open(out, "w", newline="") as f:
            writer = None
            async with await session.execute_stream("SELECT * FROM synthetic.rows", stream_config=config) as result:
                async for page in result.pages():
                    if writer is None:
                        writer = csv.writer(f)
                        writer.writerow(page[0]._fields)
                    writer.writerows(page)  # rows are tuples: one write per page
                    print(f"Exported page {result.page_number} ({result.total_rows_fetched:,} rows total)")
    with open(out, newline="") as f:
        records = sum(1 for _ in csv.reader(f)) - 1
    os.remove(out)
    os.rmdir(os.path.dirname(out))
    print(f"{records:,} records in the CSV file")
    return records == 30000


if __name__ == "__main__":
    main(export_to_csv(parse_args()))

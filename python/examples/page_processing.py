"""Page-by-page bulk processing (`async for page in result.pages()`): one aggregate per page."""
# server-flags: --synthetic 30000
from _example import main, parse_args

from async_cassandra_cpp import AsyncCluster, StreamConfig


async def bulk_process(args):
    async with AsyncCluster([args.host], port=args.port) as cluster:
        session = await cluster.connect()
        config = StreamConfig(fetch_size=4000)
        total = 0.0
        pages = 0
        async with await session.execute_stream("SELECT pk, ck, value FROM synthetic.rows",
                                                stream_config=config) as result:
            async for page in result.pages():
                # 'page' is a list of up to 4000 rows
                page_sum = sum(row.value for row in page)
                total += page_sum
                pages += 1
                print(f"Processing page {result.page_number} with {len(page)} rows (sum of value {page_sum:,.1f})")
        expected = sum(pk * 0.5 + ck for pk in range(300) for ck in range(100))
        print(f"{pages} pages, total {total:,.1f} (expected {expected:,.1f})")
        return pages == 8 and abs(total - expected) < 1e-6


if __name__ == "__main__":
    main(bulk_process(parse_args()))

"""Several partitions streamed at once, at most 3 at a time (asyncio.Semaphore), each with its own
page callback (the guide's parallel_partition_processing)."""
# server-flags: --synthetic 2000
import asyncio

from _example import main, parse_args

from async_cassandra_cpp import AsyncCluster, StreamConfig


async def parallel_partition_processing(args):
    async with AsyncCluster([args.host], port=args.port) as cluster:
        session = await cluster.connect()
        partitions = list(range(20))
        running = 0
        most = 0
        stmt = await session.prepare("SELECT * FROM synthetic.rows WHERE pk = ?")

        async def process_partition(partition: int):
            nonlocal running, most
            running += 1
            most = max(most, running)
            config = StreamConfig(fetch_size=20,
                                  page_callback=lambda p, t: print(f"Partition {partition}: Page {p}, {t:,} rows"))
            try:
                async with await session.execute_stream(stmt, parameters=[partition], stream_config=config) as result:
                    count = 0
                    async for row in result:
                        await asyncio.sleep(0)  # stands for per-row async work
                        count += 1
                    return partition, count
            finally:
                running -= 1

        sem = asyncio.Semaphore(3)

        async def limited_process(partition):
            async with sem:
                return await process_partition(partition)

        results = await asyncio.gather(*[limited_process(p) for p in partitions])
        for partition, count in results:
            print(f"Processed {count:,} rows from partition {partition}")
        print(f"at most {most} partitions at once")
        return all(count == 100 for _, count in results) and most == 3


if __name__ == "__main__":
    main(parallel_partition_processing(parse_args()))

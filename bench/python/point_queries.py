#!/usr/bin/python3
"""Point-query benchmark (issue 5), DataStax Python driver side.

The peer of bench/bench_point_queries.cpp: the same prepared statement

    SELECT * FROM synthetic.rows WHERE pk = ? AND ck = ?

with random keys of the synthetic table, against the same acass-server, at the same
concurrency levels. In-flight requests are bounded by the classic execute_async +
add_callbacks pattern: C requests are started, and each completion (on the driver's event
loop thread) starts the next one, so exactly C stay in flight until N have completed.

Must run under /usr/bin/python3: Debian's python3-cassandra only imports there.
Prints one "RESULT impl=python ..." line per level (parsed by scripts/bench.sh).
"""
import argparse
import random
import socket
import sys
import threading
import time

from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT
from cassandra.policies import RoundRobinPolicy

QUERY = "SELECT * FROM synthetic.rows WHERE pk = ? AND ck = ?"


class Level:
    """One closed-loop run: `total` requests, `concurrency` of them in flight."""

    def __init__(self, session, prepared, partitions, concurrency, total, rng):
        self.session = session
        self.prepared = prepared
        self.partitions = partitions
        self.concurrency = concurrency
        self.total = total
        self.rng = rng
        self.lock = threading.Lock()  # callbacks may run on the event loop and the main thread
        self.issued = 0
        self.completed = 0
        self.errors = 0
        self.first_error = None
        self.latencies = []
        self.done = threading.Event()

    def start_one(self):
        with self.lock:
            if self.issued >= self.total:
                return
            self.issued += 1
            pk = self.rng.randrange(self.partitions)
            ck = self.rng.randrange(100)
        start = time.perf_counter()
        future = self.session.execute_async(self.prepared, (pk, ck))
        future.add_callbacks(self.on_success, self.on_error, callback_args=(start,), errback_args=(start,))

    def finish(self, start, error):
        latency = time.perf_counter() - start
        with self.lock:
            self.latencies.append(latency)
            if error is not None:
                self.errors += 1
                if self.first_error is None:
                    self.first_error = error
            self.completed += 1
            last = self.completed == self.total
        if last:
            self.done.set()
        else:
            self.start_one()

    def on_success(self, rows, start):
        # A point query must return exactly its row (see the C++ side).
        n = len(rows) if isinstance(rows, list) else len(list(rows))
        self.finish(start, None if n == 1 else "expected 1 row, got %d" % n)

    def on_error(self, exc, start):
        self.finish(start, repr(exc))

    def run(self):
        t0 = time.perf_counter()
        for _ in range(min(self.concurrency, self.total)):
            self.start_one()
        self.done.wait()
        seconds = time.perf_counter() - t0
        lat = sorted(self.latencies)

        def pct(q):
            return lat[int(q * (len(lat) - 1))] * 1e6 if lat else 0.0

        return seconds, pct(0.50), pct(0.99)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9042)
    ap.add_argument("--rows", type=int, default=1_000_000, help="the server's --synthetic ROWS")
    ap.add_argument("--concurrency", default="1,64,1024")
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--requests-c1", type=int, default=0, help="requests at concurrency 1 (0 = --requests)")
    ap.add_argument("--warmup", type=int, default=2_000)
    ap.add_argument("--protocol", type=int, default=None, help="force a protocol version (default: negotiate)")
    args = ap.parse_args()

    # Token awareness is pointless against one node; round robin keeps the driver's routing
    # cost out of the measurement, like our client's single-host pool.
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
    # TCP_NODELAY as our client and the server set it: the driver leaves Nagle on by default
    # (cluster.py: "sockopts"), which with delayed ACKs stalls pipelined small requests.
    kwargs = {"contact_points": [args.host], "port": args.port,
              "execution_profiles": {EXEC_PROFILE_DEFAULT: profile},
              "sockopts": [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]}
    if args.protocol is not None:
        kwargs["protocol_version"] = args.protocol
    cluster = Cluster(**kwargs)
    session = cluster.connect()
    prepared = session.prepare(QUERY)
    partitions = args.rows // 100  # full partitions only: every key exists
    rng = random.Random(42)
    version = cluster.protocol_version
    conn_class = cluster.connection_class.__name__
    print("# python driver %s, protocol v%s, connection class %s" % (
        __import__("cassandra").__version__, version, conn_class), file=sys.stderr)

    if args.warmup > 0:
        Level(session, prepared, partitions, 64, args.warmup, rng).run()

    status = 0
    for c in [int(x) for x in args.concurrency.split(",")]:
        n = args.requests_c1 if c == 1 and args.requests_c1 > 0 else args.requests
        level = Level(session, prepared, partitions, c, n, rng)
        seconds, p50, p99 = level.run()
        if level.first_error is not None:
            print("conc=%d: first error: %s" % (c, level.first_error), file=sys.stderr)
            status = 1
        print("RESULT impl=python conc=%d requests=%d errors=%d seconds=%.3f rps=%.0f p50_us=%.1f p99_us=%.1f "
              "protocol=%s" % (c, len(level.latencies), level.errors, seconds, len(level.latencies) / seconds,
                               p50, p99, version), flush=True)
    cluster.shutdown()
    return status


if __name__ == "__main__":
    sys.exit(main())

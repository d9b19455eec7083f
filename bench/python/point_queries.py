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
import datetime
import resource
import random
import socket
import sys
import threading
import time

from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT
from cassandra.policies import RoundRobinPolicy

QUERY = "SELECT * FROM synthetic.rows WHERE pk = ? AND ck = ?"
INSERT = "INSERT INTO bench.inserts (pk, ck, name, value, ts) VALUES (?, ?, ?, ?, ?)"
EPOCH = datetime.datetime(1970, 1, 1)


class Level:
    """One closed-loop run: `total` requests, `concurrency` of them in flight."""

    def __init__(self, session, prepared, partitions, concurrency, total, rng, insert=False):
        self.session = session
        self.prepared = prepared
        self.partitions = partitions
        self.concurrency = concurrency
        self.total = total
        self.rng = rng
        self.insert = insert
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
        if self.insert:
            values = (pk, ck, "bench-row-value", pk * 0.5 + ck,
                      EPOCH + datetime.timedelta(milliseconds=1700000000000 + pk * 1000 + ck))
        else:
            values = (pk, ck)
        future = self.session.execute_async(self.prepared, values)
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
        # A point query must return exactly its row, an insert none (see the C++ side).
        n = len(rows) if isinstance(rows, list) else len(list(rows or []))
        expected = 0 if self.insert else 1
        self.finish(start, None if n == expected else "expected %d row, got %d" % (expected, n))

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


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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
    ap.add_argument("--op", choices=("select", "insert"), default="select",
                    help="point queries, or prepared INSERTs into bench.inserts (created here)")
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
    insert = args.op == "insert"
    if insert:
        session.execute("CREATE KEYSPACE IF NOT EXISTS bench WITH replication = "
                        "{'class': 'SimpleStrategy', 'replication_factor': 1}")
        session.execute("CREATE TABLE IF NOT EXISTS bench.inserts (pk bigint, ck int, name text, value double, "
                        "ts timestamp, PRIMARY KEY (pk, ck))")
    prepared = session.prepare(INSERT if insert else QUERY)
    partitions = args.rows // 100  # full partitions only: every key exists
    rng = random.Random(42)
    version = cluster.protocol_version
    conn_class = cluster.connection_class.__name__
    print("# python driver %s, protocol v%s, connection class %s" % (
        __import__("cassandra").__version__, version, conn_class), file=sys.stderr)

    if args.warmup > 0:
        Level(session, prepared, partitions, 64, args.warmup, rng, insert).run()

    status = 0
    for c in [int(x) for x in args.concurrency.split(",")]:
        n = args.requests_c1 if c == 1 and args.requests_c1 > 0 else args.requests
        level = Level(session, prepared, partitions, c, n, rng, insert)
        cpu_before = cpu_seconds()
        seconds, p50, p99 = level.run()
        cpu = cpu_seconds() - cpu_before
        if level.first_error is not None:
            print("conc=%d: first error: %s" % (c, level.first_error), file=sys.stderr)
            status = 1
        print("RESULT impl=python config=default op=%s conc=%d requests=%d errors=%d seconds=%.3f rps=%.0f p50_us=%.1f "
              "p99_us=%.1f cpu_us_per_req=%.2f protocol=%s" % (
                  args.op, c, len(level.latencies), level.errors, seconds, len(level.latencies) / seconds, p50, p99,
                  cpu * 1e6 / max(1, len(level.latencies)), version), flush=True)
    cluster.shutdown()
    return status


if __name__ == "__main__":
    sys.exit(main())

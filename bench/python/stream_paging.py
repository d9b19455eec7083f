#!/usr/bin/python3
"""Streaming benchmark (issue 6), DataStax Python driver side.

The peer of bench/bench_streaming.cpp: pages through

    SELECT * FROM synthetic.rows

of acass-server --synthetic N with the driver's own paging (SimpleStatement(fetch_size=F);
iterating the ResultSet fetches the next page when the current one is used up), reading
every column of every row (pk, ck, name, value, ts) and folding them into a checksum, and
stops after --max-rows rows (the driver does ~100-300k rows/s, so it gets fewer rows than
our client; rows/s is the comparable figure).

Must run under /usr/bin/python3: Debian's python3-cassandra only imports there.
Prints one "RESULT impl=python ..." line (parsed by scripts/bench.sh).
"""
import argparse
import resource
import socket
import sys
import time

from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT
from cassandra.policies import RoundRobinPolicy
from cassandra.query import SimpleStatement

QUERY = "SELECT * FROM synthetic.rows"


def peak_rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9042)
    ap.add_argument("--fetch-size", type=int, default=5000)
    ap.add_argument("--max-rows", type=int, default=1_000_000, help="stop after this many rows")
    ap.add_argument("--protocol", type=int, default=None, help="force a protocol version (default: negotiate)")
    args = ap.parse_args()

    # One node: round robin keeps routing out of the measurement. TCP_NODELAY as our client and
    # the server set it (the driver leaves Nagle on by default).
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=60)
    kwargs = {"contact_points": [args.host], "port": args.port,
              "execution_profiles": {EXEC_PROFILE_DEFAULT: profile},
              "sockopts": [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]}
    if args.protocol is not None:
        kwargs["protocol_version"] = args.protocol
    cluster = Cluster(**kwargs)
    session = cluster.connect()
    print("# python driver %s, protocol v%s, connection class %s" % (
        __import__("cassandra").__version__, cluster.protocol_version, cluster.connection_class.__name__),
        file=sys.stderr)

    statement = SimpleStatement(QUERY, fetch_size=args.fetch_size)
    rows = 0
    checksum = 0
    mismatches = 0
    start = time.perf_counter()
    cpu_before = cpu_seconds()
    result = session.execute(statement)
    for row in result:
        # Every cell read (the default row factory has decoded them into a named tuple already;
        # ts is a datetime). The checks are the cheap ones of the C++ side.
        pk, ck, name, value, ts = row.pk, row.ck, row.name, row.value, row.ts
        checksum += pk * 31 + ck + len(name)
        if value != pk * 0.5 + ck or ts is None:
            mismatches += 1
        rows += 1
        if rows >= args.max_rows:
            break
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu_before
    print("RESULT impl=python fetch=%d rows=%d seconds=%.3f cpu_s=%.3f rps=%.0f peak_rss_mb=%.1f mismatches=%d checksum=%d "
          "protocol=%s" % (args.fetch_size, rows, seconds, cpu, rows / seconds, peak_rss_mb(), mismatches, checksum,
                           cluster.protocol_version), flush=True)
    cluster.shutdown()
    return 0 if mismatches == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Python binding benchmark: async_cassandra_cpp beside the DataStax Python driver (Debian's
python3-cassandra) on the same acass-server, in the same run.

  /usr/bin/python3 python/bench/bench_python.py --server build/bin/acass-server [--rows 2000000]

Starts `acass-server --synthetic ROWS` on a free port, then runs each case in its own child
process (so peak RSS is per case):
  stream/*   SELECT pk, ck, name, value, ts FROM synthetic.rows, fetch size 5000, every column of
             every row read (a checksum over all five), rows/s and peak RSS;
             acc-rows (async for row), acc-columnar (pages(columnar=True), numpy), datastax (the
             driver's paging iteration);
  point/*    prepared SELECT of one row by (pk, ck), N requests in flight (1, 64, 1024), for
             --point-seconds seconds: requests/s and p50/p99 latency; acc (asyncio tasks) and
             datastax (execute_async with the same number in flight).
CPU is the process's CPU time (all threads) during the timed part, per row or request: unlike
rows/s it does not depend on how busy the (shared) machine is. Prints Markdown tables. Needs
PYTHONPATH to contain build/python.
"""
import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

QUERY = "SELECT pk, ck, name, value, ts FROM synthetic.rows"
POINT = "SELECT name FROM synthetic.rows WHERE pk = ? AND ck = ?"


def cpu_seconds():
    """CPU time of the whole process (every thread: the driver's I/O threads included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


# ---------------------------------------------------------------- cases (run in a child process)

def _acc_stream(port, fetch, consume):
    """Streams QUERY with async_cassandra_cpp; consume(result) returns (rows, checksum)."""
    import async_cassandra_cpp as acc

    async def main():
        async with acc.AsyncCluster(["127.0.0.1"], port=port) as cluster:
            session = await cluster.connect()
            cpu0, start = cpu_seconds(), time.perf_counter()
            async with await session.execute_stream(QUERY, stream_config=acc.StreamConfig(fetch_size=fetch)) as r:
                n, checksum = await consume(r)
            return n, time.perf_counter() - start, checksum, cpu_seconds() - cpu0
    return asyncio.run(main())


def case_acc_rows(port, rows, fetch):
    async def consume(result):
        n = checksum = 0
        async for row in result:
            pk, ck, name, value, ts = row.pk, row.ck, row.name, row.value, row.ts
            checksum += pk + ck + len(name) + int(value) + ts.second
            n += 1
        return n, checksum
    return _acc_stream(port, fetch, consume)


def case_acc_columnar(port, rows, fetch):
    import numpy  # noqa: F401  imported before the clock starts (the columnar pages import it on first use)

    async def consume(result):
        n = checksum = 0
        async for page in result.pages(columnar=True):
            secs = (page["ts"].astype("int64") // 1000) % 60
            checksum += int(page["pk"].sum() + page["ck"].sum() + page["value"].astype("int64").sum()
                            + secs.sum()) + sum(map(len, page["name"]))
            n += len(page["pk"])
        return n, checksum
    return _acc_stream(port, fetch, consume)


def _datastax_session(port):
    import socket
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import RoundRobinPolicy
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy(), request_timeout=60)
    cluster = Cluster(["127.0.0.1"], port=port, execution_profiles={EXEC_PROFILE_DEFAULT: profile},
                      sockopts=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    return cluster, cluster.connect()


def case_datastax(port, rows, fetch):
    from cassandra.query import SimpleStatement
    cluster, session = _datastax_session(port)
    n = checksum = 0
    cpu0, start = cpu_seconds(), time.perf_counter()
    for row in session.execute(SimpleStatement(QUERY, fetch_size=fetch)):
        pk, ck, name, value, ts = row.pk, row.ck, row.name, row.value, row.ts
        checksum += pk + ck + len(name) + int(value) + ts.second
        n += 1
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu0
    cluster.shutdown()
    return n, elapsed, checksum, cpu


def case_acc_point(port, concurrency, seconds):
    import async_cassandra_cpp as acc

    async def main():
        async with acc.AsyncCluster(["127.0.0.1"], port=port) as cluster:
            session = await cluster.connect()
            ps = await session.prepare(POINT)
            latencies = []
            deadline = time.perf_counter() + seconds

            async def worker(w):
                i = w
                while time.perf_counter() < deadline:
                    t0 = time.perf_counter()
                    row = (await session.execute(ps, (i % 1000, i % 100))).one()
                    latencies.append(time.perf_counter() - t0)
                    assert row is not None
                    i += concurrency
            cpu0, start = cpu_seconds(), time.perf_counter()
            await asyncio.gather(*[worker(w) for w in range(concurrency)])
            return len(latencies), time.perf_counter() - start, latencies, cpu_seconds() - cpu0
    return asyncio.run(main())


def case_datastax_point(port, concurrency, seconds):
    import threading
    cluster, session = _datastax_session(port)
    ps = session.prepare(POINT)
    latencies = []
    done = threading.Event()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    state = {"running": 0, "i": 0}

    def launch():
        with lock:
            i = state["i"]
            state["i"] += 1
        t0 = time.perf_counter()
        future = session.execute_async(ps, (i % 1000, i % 100))
        future.add_callbacks(on_ok, on_err, callback_args=(t0,), errback_args=(t0,))

    def finish_one():
        with lock:
            state["running"] -= 1
            last = state["running"] == 0
        if last:
            done.set()

    def on_ok(rows, t0):
        latencies.append(time.perf_counter() - t0)
        if time.perf_counter() < deadline:
            launch()
        else:
            finish_one()

    def on_err(exc, t0):
        print("datastax error:", exc, file=sys.stderr)
        finish_one()

    cpu0, start = cpu_seconds(), time.perf_counter()
    state["running"] = concurrency
    for _ in range(concurrency):
        launch()
    done.wait(seconds + 60)
    elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu0
    cluster.shutdown()
    return len(latencies), elapsed, latencies, cpu


def run_case(args):
    name = args.case
    if name.startswith("stream/"):
        fn = {"stream/acc-rows": case_acc_rows, "stream/acc-columnar": case_acc_columnar,
              "stream/datastax": case_datastax}[name]
        n, elapsed, checksum, cpu = fn(args.port, args.rows, args.fetch_size)
        out = {"rows": n, "seconds": elapsed, "checksum": checksum, "cpu": cpu}
    else:
        fn = {"point/acc": case_acc_point, "point/datastax": case_datastax_point}[name]
        n, elapsed, lat, cpu = fn(args.port, args.concurrency, args.point_seconds)
        lat.sort()
        out = {"cpu": cpu, "requests": n, "seconds": elapsed, "p50_ms": lat[len(lat) // 2] * 1000 if lat else 0,
               "p99_ms": lat[int(len(lat) * 0.99)] * 1000 if lat else 0}
    out["peak_rss_mb"] = peak_rss_mb()
    print("RESULT " + json.dumps(out))


# ---------------------------------------------------------------- driver

def child(args, case, **extra):
    cmd = [sys.executable, os.path.abspath(__file__), "--case", case, "--port", str(args.port),
           "--rows", str(args.rows), "--fetch-size", str(args.fetch_size), "--point-seconds", str(args.point_seconds)]
    for k, v in extra.items():
        cmd += ["--" + k.replace("_", "-"), str(v)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError("%s failed:\n%s%s" % (case, proc.stdout, proc.stderr))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", help="acass-server binary (the benchmark starts it)")
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--fetch-size", type=int, default=5000)
    ap.add_argument("--point-seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--case")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    if args.case:
        return run_case(args)

    server = subprocess.Popen([args.server, "--port", "0", "--synthetic", str(args.rows)], stdout=subprocess.PIPE,
                              text=True)
    try:
        line = server.stdout.readline()
        args.port = int(re.search(r":(\d+) ", line).group(1))
        print("# acass-server --synthetic %d on port %d; %s; python %s" % (
            args.rows, args.port, time.strftime("%Y-%m-%d"), sys.version.split()[0]))
        stream = {}
        for case in ("stream/datastax", "stream/acc-rows", "stream/acc-columnar"):
            stream[case] = child(args, case)
            r = stream[case]
            print("%-22s %9d rows %7.2f s %10.0f rows/s  CPU %6.0f ns/row  peak RSS %6.1f MB  checksum %d" % (
                case, r["rows"], r["seconds"], r["rows"] / r["seconds"], r["cpu"] / r["rows"] * 1e9, r["peak_rss_mb"],
                r["checksum"]))
            sys.stdout.flush()
        checks = {r["checksum"] for r in stream.values()}
        if len(checks) != 1:
            print("checksums differ: %s" % stream, file=sys.stderr)
            return 1
        base = stream["stream/datastax"]["rows"] / stream["stream/datastax"]["seconds"]
        base_cpu = stream["stream/datastax"]["cpu"] / stream["stream/datastax"]["rows"]
        print("\n| streaming %d rows, every column read | rows/s | vs DataStax | CPU ns/row (all threads) "
              "| vs DataStax | peak RSS |" % args.rows)
        print("|---|---:|---:|---:|---:|---:|")
        for case, r in stream.items():
            rate = r["rows"] / r["seconds"]
            cpu = r["cpu"] / r["rows"]
            print("| %s | %s | %.1fx | %.0f | %.1fx | %.0f MB |" % (
                case.split("/")[1], format(int(rate), ","), rate / base, cpu * 1e9, base_cpu / cpu, r["peak_rss_mb"]))
        print("\n| point queries | in flight | requests/s | p50 | p99 | CPU us/request | peak RSS |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for concurrency in (1, 64, 1024):
            for case in ("point/datastax", "point/acc"):
                r = child(args, case, concurrency=concurrency)
                print("| %s | %d | %s | %.2f ms | %.2f ms | %.1f | %.0f MB |" % (
                    case.split("/")[1], concurrency, format(int(r["requests"] / r["seconds"]), ","), r["p50_ms"],
                    r["p99_ms"], r["cpu"] / max(r["requests"], 1) * 1e6, r["peak_rss_mb"]))
                sys.stdout.flush()
    finally:
        server.terminate()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())

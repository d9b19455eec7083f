#!/usr/bin/python3
"""Paired per-round ratios of interleaved benchmark runs: the median of the rounds' ratios, with
their min and max, so that one slow round of either client cannot make the result.

Used by bench/report.py (scenario 4 of scripts/bench.sh) and by bench/point_check.sh, whose
RESULT lines ("RESULT round=3 client=ours node=node conc=64 rps=... cpu_us_per_req=...") this
prints as a per-round line (--round R) or as the closing summary (--summary):

    paired_ratios.py RAW --round 3
    paired_ratios.py RAW --summary
"""
import argparse
import sys


def median(values):
    xs = sorted(values)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def matches(run, selector):
    return all(run.get(k) == v for k, v in selector.items())


def paired(runs, numerator, denominator, key="rps"):
    """{round: numerator's key / denominator's key} for every round that has both (one run each)."""
    by_round = {}
    for r in runs:
        if not isinstance(r.get(key), (int, float)) or "round" not in r:
            continue
        for side, sel in (("num", numerator), ("den", denominator)):
            if matches(r, sel):
                by_round.setdefault(r["round"], {})[side] = r[key]
    return {rnd: v["num"] / v["den"] for rnd, v in sorted(by_round.items())
            if "num" in v and "den" in v and v["den"] > 0}


def summary(values):
    """{"median", "min", "max", "n"} of a list of numbers (None when empty)."""
    values = list(values)
    if not values:
        return None
    return {"median": median(values), "min": min(values), "max": max(values), "n": len(values)}


# ------------------------------------------------------------------ point_check.sh's output
def parse_raw(path):
    runs = []
    with open(path) as f:
        for line in f:
            if line.startswith("RESULT "):
                run = {}
                for field in line.split()[1:]:
                    k, _, v = field.partition("=")
                    try:
                        run[k] = int(v)
                    except ValueError:
                        try:
                            run[k] = float(v)
                        except ValueError:
                            run[k] = v
                runs.append(run)
    return runs


GOCQL = ("gocql_off", "gocql_default")


def comparisons(runs):
    """(label, numerator selector, denominator selector) of the ratios a point check reports;
    a denominator "gocql" means the faster of gocql's settings in that round."""
    clients = [c for c in ("gocql_off", "gocql_default", "ours", "ours2") if any(r.get("client") == c for r in runs)]
    nodes = [n for n in ("node", "node2") if any(r.get("node") == n for r in runs)]
    gocqls = [c for c in clients if c in GOCQL]
    pairs = [(o, g) for o in ("ours", "ours2") for g in gocqls]
    if len(gocqls) > 1:
        pairs += [(o, "gocql") for o in ("ours", "ours2")]
    pairs.append(("ours2", "ours"))
    out = []
    for node in nodes:
        at = f"@{node}" if len(nodes) > 1 else ""
        for num, den in pairs:
            if num in clients and (den in clients or den == "gocql"):
                label = f"{num}/{'fastest gocql' if den == 'gocql' else den}{at}"
                out.append((label, {"client": num, "node": node}, {"client": den, "node": node}))
    if len(nodes) > 1:
        for c in clients:
            out.append((f"{c}@node2/{c}@node", {"client": c, "node": "node2"}, {"client": c, "node": "node"}))
    return out


def fastest_gocql_rows(runs):
    """Adds, per round, level and node, a "gocql" run: the faster of gocql's settings."""
    best = {}
    for r in runs:
        if r.get("client") in GOCQL:
            key = (r["round"], r["conc"], r["node"])
            if key not in best or r["rps"] > best[key]["rps"]:
                best[key] = r
    return runs + [dict(r, client="gocql") for r in best.values()]


def client_busy(run):
    """The client's CPU time over its measured wall time: 1.0 means its core was the limit."""
    return run["cpu_us_per_req"] * run["rps"] / 1e6


def rate(x):
    return f"{x / 1000:.1f}k" if x >= 1000 else f"{x:.0f}"


def print_round(runs, rnd):
    runs_r = [r for r in runs if r.get("round") == rnd]
    for conc in sorted({r["conc"] for r in runs_r}):
        at_c = [r for r in runs_r if r["conc"] == conc]
        parts = [f"{r['client']}@{r['node']} {rate(r['rps'])} req/s ({r['cpu_us_per_req']:.1f} us CPU/req, "
                 f"client busy {client_busy(r):.2f}, node busy {r.get('node_busy', float('nan')):.2f})"
                 for r in at_c if r["client"] != "gocql"]
        ratios = []
        for label, num, den in comparisons(runs):
            p = paired(at_c, num, den)
            if rnd in p:
                ratios.append(f"{label} {p[rnd]:.2f}x")
        print(f"  round {rnd} c={conc}: " + ", ".join(parts))
        if ratios:
            print(f"  round {rnd} c={conc}: " + ", ".join(ratios))


def print_summary(runs):
    for conc in sorted({r["conc"] for r in runs}):
        at_c = [r for r in runs if r["conc"] == conc]
        print(f"c={conc}:")
        for key in sorted({(r["client"], r["node"]) for r in at_c if r["client"] != "gocql"}):
            rs = [r for r in at_c if (r["client"], r["node"]) == key]
            s, cpu, p50 = summary(r["rps"] for r in rs), summary(r["cpu_us_per_req"] for r in rs), summary(r["p50_us"] for r in rs)
            print(f"  {key[0] + '@' + key[1]:<19} req/s median {rate(s['median'])} (min {rate(s['min'])}, max {rate(s['max'])}), "
                  f"CPU/req median {cpu['median']:.2f} us ({cpu['min']:.2f}-{cpu['max']:.2f}), p50 median {p50['median']:.0f} us, "
                  f"client busy {median(client_busy(r) for r in rs):.2f}, node busy {median(r.get('node_busy', 0) for r in rs):.2f}, "
                  f"protocol v{rs[0].get('protocol', '?')}, {s['n']} rounds")
        for label, num, den in comparisons(runs):
            s = summary(paired(at_c, num, den).values())
            if s:
                print(f"  {label:<24} median {s['median']:.2f}x (min {s['min']:.2f}x, max {s['max']:.2f}x, {s['n']} paired rounds)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("raw")
    ap.add_argument("--round", type=int)
    ap.add_argument("--summary", action="store_true")
    args = ap.parse_args()
    runs = fastest_gocql_rows(parse_raw(args.raw))
    if args.round is not None:
        print_round(runs, args.round)
    if args.summary:
        print_summary(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

// gocql_bench: the gocql peer of bench_streaming and bench_point_queries, run by scripts/bench.sh
// against the same acass-server --synthetic N. Built in GOPATH mode against Debian's gocql:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o gocql_bench bench/go/gocql_bench.go
//
// Modes:
//
//	-mode stream  SELECT pk, ck, name, value, ts FROM synthetic.rows with PageSize(-fetch), every
//	              cell of every row scanned into typed variables (int64, int, string, float64,
//	              time.Time) and checked against the table's formulas.
//	-mode select  closed-loop prepared point queries (SELECT pk, ck, name, value, ts ... WHERE pk = ?
//	              AND ck = ?: the columns of SELECT *, named so that Scan gets them in order) at each
//	              -conc level, random keys over the full partitions.
//	-mode insert  closed-loop prepared INSERTs into bench.inserts (bench_point_queries --op insert
//	              creates the table; this mode creates it too).
//
// -coalesce sets ClusterConfig.WriteCoalesceWaitTime (gocql's default 200us adds about a round
// trip of latency per request here; 0 is its fastest setting). -config default keeps every other
// NewCluster default (2 connections per host); -config tuned uses one connection. -release returns
// every finished Query to gocql's query pool (Query.Release, as gocql's documentation shows), which
// saves an allocation per request.
// Prints RESULT lines in the format of the C++ programs (impl=gocql).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gocql/gocql"
)

func cpuSeconds() float64 {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return float64(u.Utime.Sec+u.Stime.Sec) + float64(u.Utime.Usec+u.Stime.Usec)/1e6
}

func peakRssMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(s.Text())[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "gocql_bench: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	host := flag.String("host", "127.0.0.1", "contact point")
	port := flag.Int("port", 9042, "port")
	mode := flag.String("mode", "stream", "stream, select or insert")
	fetch := flag.Int("fetch", 5000, "page size (stream)")
	rowsExpected := flag.Int64("rows-expected", -1, "rows the stream must return (stream)")
	maxRows := flag.Int64("max-rows", -1, "stop the stream after this many rows")
	rows := flag.Int64("rows", 1000000, "rows of the synthetic table (select)")
	levels := flag.String("conc", "1,64,1024", "concurrency levels (select, insert)")
	requests := flag.Int("requests", 20000, "requests per level")
	requestsC1 := flag.Int("requests-c1", 0, "requests at concurrency 1 (0: -requests)")
	warmup := flag.Int("warmup", 2000, "warm-up requests at concurrency 64")
	coalesce := flag.Duration("coalesce", 0, "WriteCoalesceWaitTime")
	config := flag.String("config", "tuned", "tuned (one connection) or default (NewCluster's)")
	proto := flag.Int("proto", 4, "protocol version")
	label := flag.String("label", "stream", "label of the RESULT line (stream)")
	conns := flag.Int("conns", 0, "NumConns: connections per host (0: as -config sets it)")
	release := flag.Bool("release", false, "return each finished Query to gocql's pool (Query.Release)")
	flag.Parse()

	cluster := gocql.NewCluster(*host)
	cluster.Port = *port
	cluster.ProtoVersion = *proto
	cluster.WriteCoalesceWaitTime = *coalesce
	cluster.Consistency = gocql.LocalOne
	cluster.Timeout = 12 * time.Second
	cluster.ConnectTimeout = 5 * time.Second
	cluster.PageSize = *fetch
	if *config == "tuned" {
		cluster.NumConns = 1
	}
	if *conns > 0 {
		cluster.NumConns = *conns
	}
	session, err := cluster.CreateSession()
	if err != nil {
		fail("connect: %v", err)
	}
	defer session.Close()
	coalesceLabel := fmt.Sprintf("coalesce%dus", coalesce.Microseconds())

	switch *mode {
	case "stream":
		stream(session, *fetch, *rowsExpected, *maxRows, *proto, *label, coalesceLabel)
	case "select", "insert":
		if *mode == "insert" {
			for _, q := range []string{
				"CREATE KEYSPACE IF NOT EXISTS bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
				"CREATE TABLE IF NOT EXISTS bench.inserts (pk bigint, ck int, name text, value double, ts timestamp, PRIMARY KEY (pk, ck))",
			} {
				if err := session.Query(q).Exec(); err != nil {
					fail("%s: %v", q, err)
				}
			}
		}
		var conc []int
		for _, s := range strings.Split(*levels, ",") {
			c, err := strconv.Atoi(s)
			if err != nil || c < 1 {
				fail("bad -conc %q", *levels)
			}
			conc = append(conc, c)
		}
		partitions := *rows / 100
		rng := rand.New(rand.NewSource(42))
		if *warmup > 0 {
			runLevel(session, *mode, partitions, 64, *warmup, rng, *release)
		}
		status := 0
		for _, c := range conc {
			n := *requests
			if c == 1 && *requestsC1 > 0 {
				n = *requestsC1
			}
			cpuBefore := cpuSeconds()
			r := runLevel(session, *mode, partitions, c, n, rng, *release)
			cpu := cpuSeconds() - cpuBefore
			op := "select"
			if *mode == "insert" {
				op = "insert"
			}
			fmt.Printf("RESULT impl=gocql config=%s coalesce=%s op=%s conc=%d requests=%d errors=%d seconds=%.3f rps=%.0f "+
				"p50_us=%.1f p99_us=%.1f cpu_us_per_req=%.2f protocol=%d conns=%d release=%d\n",
				*config, coalesceLabel, op, c, r.requests, r.errors, r.seconds, float64(r.requests)/r.seconds,
				r.p50us, r.p99us, cpu*1e6/float64(r.requests), *proto, cluster.NumConns, boolInt(*release))
			if r.errors > 0 {
				status = 1
			}
		}
		os.Exit(status)
	default:
		fail("unknown -mode %q", *mode)
	}
}

func stream(session *gocql.Session, fetch int, rowsExpected, maxRows int64, proto int, label, coalesce string) {
	start := time.Now()
	cpuBefore := cpuSeconds()
	iter := session.Query("SELECT pk, ck, name, value, ts FROM synthetic.rows").PageSize(fetch).Iter()
	var pk int64
	var ck int
	var name string
	var value float64
	var ts time.Time
	var rows, mismatches int64
	var checksum uint64
	for iter.Scan(&pk, &ck, &name, &value, &ts) {
		checksum += uint64(pk)*31 + uint64(ck) + uint64(len(name)) + uint64(ts.UnixMilli())
		if value != float64(pk)*0.5+float64(ck) || ts.UnixMilli() != 1700000000000+pk*1000+int64(ck) {
			mismatches++
		}
		rows++
		if rows == maxRows {
			break
		}
	}
	if err := iter.Close(); err != nil {
		fail("stream: %v", err)
	}
	seconds := time.Since(start).Seconds()
	cpu := cpuSeconds() - cpuBefore
	fmt.Printf("RESULT impl=gocql label=%s coalesce=%s fetch=%d rows=%d seconds=%.3f cpu_s=%.3f rps=%.0f peak_rss_mb=%.1f "+
		"mismatches=%d checksum=%d protocol=%d\n", label, coalesce, fetch, rows, seconds, cpu, float64(rows)/seconds,
		peakRssMB(), mismatches, checksum, proto)
	if mismatches > 0 || (rowsExpected >= 0 && rows != rowsExpected) {
		fmt.Fprintf(os.Stderr, "gocql_bench: %d rows (expected %d), %d mismatches\n", rows, rowsExpected, mismatches)
		os.Exit(1)
	}
}

type levelResult struct {
	requests, errors int
	seconds          float64
	p50us, p99us     float64
}

func runLevel(session *gocql.Session, mode string, partitions int64, conc, total int, rng *rand.Rand, release bool) levelResult {
	query := "SELECT pk, ck, name, value, ts FROM synthetic.rows WHERE pk = ? AND ck = ?"
	if mode == "insert" {
		query = "INSERT INTO bench.inserts (pk, ck, name, value, ts) VALUES (?, ?, ?, ?, ?)"
	}
	// Keys drawn up front (one generator, fixed seed), so workers do not contend on it.
	pks := make([]int64, total)
	cks := make([]int, total)
	for i := range pks {
		pks[i] = rng.Int63n(partitions)
		cks[i] = rng.Intn(100)
	}
	var next int64 = -1
	var errors int64
	latencies := make([]int64, total)
	var firstError atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(total) {
					return
				}
				pk, ck := pks[i], cks[i]
				t0 := time.Now()
				var err error
				var q *gocql.Query
				if mode == "insert" {
					q = session.Query(query, pk, ck, "bench-row-value", float64(pk)*0.5+float64(ck),
						time.UnixMilli(1700000000000+pk*1000+int64(ck)))
					err = q.Exec()
				} else {
					var rpk int64
					var rck int
					var name string
					var value float64
					var ts time.Time
					q = session.Query(query, pk, ck)
					iter := q.Iter()
					n := 0
					for iter.Scan(&rpk, &rck, &name, &value, &ts) {
						n++
					}
					err = iter.Close()
					if err == nil && n != 1 {
						err = fmt.Errorf("expected 1 row, got %d", n)
					}
				}
				if release {
					q.Release()
				}
				latencies[i] = time.Since(t0).Nanoseconds()
				if err != nil {
					if atomic.AddInt64(&errors, 1) == 1 {
						firstError.Store(err.Error())
					}
				}
			}
		}()
	}
	wg.Wait()
	seconds := time.Since(start).Seconds()
	if e := firstError.Load(); e != nil {
		fmt.Fprintf(os.Stderr, "conc=%d: first error: %s\n", conc, e)
	}
	sort.Slice(latencies, func(a, b int) bool { return latencies[a] < latencies[b] })
	pct := func(q float64) float64 { return float64(latencies[int(q*float64(total-1))]) / 1000 }
	return levelResult{requests: total, errors: int(errors), seconds: seconds, p50us: pct(0.5), p99us: pct(0.99)}
}

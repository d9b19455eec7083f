#!/usr/bin/env node
// The Node.js cassandra-driver peer of bench_streaming and bench_point_queries (scripts/bench.sh),
// against the same acass-server --synthetic N. Dependencies: `npm ci` in this folder.
//
//   node bench.js --mode stream --port P --fetch 5000 [--rows-expected N] [--max-rows N]
//       SELECT * FROM synthetic.rows with eachRow(autoPage: true, prepare: true, fetchSize) — the
//       driver's fastest streaming path — every cell of every row read (pk and ts as the driver
//       decodes them: Long and Date) and checked against the table's formulas. --max-rows stops
//       after the page that reaches N rows.
//   node bench.js --mode select|insert --port P --rows R --conc 1,64,1024 --requests N
//       closed-loop prepared point queries (or INSERTs into bench.inserts) with C requests in
//       flight, random keys over the full partitions.
//
// Prints RESULT lines in the format of the C++ programs (impl=node); protocol= is the version the
// driver negotiated (it has no v5).
'use strict';
const cassandra = require('cassandra-driver');

function parseArgs() {
  const o = { host: '127.0.0.1', port: 9042, mode: 'stream', fetch: 5000, rowsExpected: -1, maxRows: -1, rows: 1000000,
              conc: '1,64,1024', requests: 20000, requestsC1: 0, warmup: 2000, label: 'stream' };
  const names = { '--host': 'host', '--port': 'port', '--mode': 'mode', '--fetch': 'fetch', '--rows-expected': 'rowsExpected',
                  '--max-rows': 'maxRows', '--rows': 'rows', '--conc': 'conc', '--requests': 'requests',
                  '--requests-c1': 'requestsC1', '--warmup': 'warmup', '--label': 'label' };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) { console.error(`bench.js: bad argument ${argv[i]}`); process.exit(2); }
    o[key] = typeof o[key] === 'number' ? Number(argv[i + 1]) : argv[i + 1];
  }
  return o;
}

function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function peakRssMB() {
  const status = require('fs').readFileSync('/proc/self/status', 'utf8');
  const m = /VmHWM:\s+(\d+)/.exec(status);
  return m ? Number(m[1]) / 1024 : 0;
}

async function stream(client, o) {
  const start = process.hrtime.bigint();
  const cpuBefore = cpuSeconds();
  let rows = 0, mismatches = 0, checksum = 0;
  // autoPage: true cannot stop early, so with --max-rows the pages are requested one by one
  // (result.nextPage(), what autoPage does internally) until enough rows have been read.
  const autoPage = o.maxRows < 0;
  await new Promise((resolve, reject) => {
    client.eachRow('SELECT * FROM synthetic.rows', [], { prepare: true, autoPage, fetchSize: o.fetch }, (n, row) => {
      const pk = row.pk.toNumber(), ck = row.ck, name = row.name, value = row.value, ts = row.ts.getTime();
      checksum = (checksum + pk * 31 + ck + name.length + ts) % 1e15;
      if (value !== pk * 0.5 + ck || ts !== 1700000000000 + pk * 1000 + ck) mismatches++;
      rows++;
    }, (err, result) => {
      if (err) reject(err);
      else if (!autoPage && rows < o.maxRows && result && result.nextPage) result.nextPage();
      else resolve();
    });
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = cpuSeconds() - cpuBefore;
  console.log(`RESULT impl=node label=${o.label} fetch=${o.fetch} rows=${rows} seconds=${seconds.toFixed(3)} ` +
              `cpu_s=${cpu.toFixed(3)} rps=${Math.round(rows / seconds)} peak_rss_mb=${peakRssMB().toFixed(1)} ` +
              `mismatches=${mismatches} checksum=${checksum} protocol=${client.controlConnection.protocolVersion}`);
  if (mismatches > 0 || (o.rowsExpected >= 0 && rows !== o.rowsExpected)) {
    console.error(`bench.js: ${rows} rows (expected ${o.rowsExpected}), ${mismatches} mismatches`);
    return 1;
  }
  return 0;
}

// A small deterministic generator (the keys only need to be spread, not cryptographic).
function makeRng(seed) {
  let s = seed >>> 0;
  return (n) => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s % n; };
}

async function runLevel(client, o, insert, partitions, conc, total, rng) {
  const query = insert ? 'INSERT INTO bench.inserts (pk, ck, name, value, ts) VALUES (?, ?, ?, ?, ?)'
                       : 'SELECT * FROM synthetic.rows WHERE pk = ? AND ck = ?';
  const latencies = new Float64Array(total);
  let next = 0, errors = 0, firstError = null;
  const start = process.hrtime.bigint();
  async function worker() {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const pk = rng(partitions), ck = rng(100);
      const t0 = process.hrtime.bigint();
      try {
        const params = insert
          ? [cassandra.types.Long.fromNumber(pk), ck, 'bench-row-value', pk * 0.5 + ck, new Date(1700000000000 + pk * 1000 + ck)]
          : [cassandra.types.Long.fromNumber(pk), ck];
        const rs = await client.execute(query, params, { prepare: true });
        if (!insert && rs.rowLength !== 1) throw new Error(`expected 1 row, got ${rs.rowLength}`);
      } catch (e) {
        if (errors++ === 0) firstError = e;
      }
      latencies[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
  }
  await Promise.all(Array.from({ length: conc }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (firstError) console.error(`conc=${conc}: first error: ${firstError.message}`);
  latencies.sort();
  const pct = (q) => latencies[Math.floor(q * (total - 1))];
  return { requests: total, errors, seconds, p50: pct(0.5), p99: pct(0.99) };
}

async function pointQueries(client, o) {
  const insert = o.mode === 'insert';
  if (insert) {
    await client.execute("CREATE KEYSPACE IF NOT EXISTS bench WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    await client.execute('CREATE TABLE IF NOT EXISTS bench.inserts (pk bigint, ck int, name text, value double, ts timestamp, PRIMARY KEY (pk, ck))');
  }
  const partitions = Math.floor(o.rows / 100);
  const rng = makeRng(42);
  if (o.warmup > 0) await runLevel(client, o, insert, partitions, 64, o.warmup, rng);
  let status = 0;
  for (const c of o.conc.split(',').map(Number)) {
    const n = c === 1 && o.requestsC1 > 0 ? o.requestsC1 : o.requests;
    const cpuBefore = cpuSeconds();
    const r = await runLevel(client, o, insert, partitions, c, n, rng);
    const cpu = cpuSeconds() - cpuBefore;
    console.log(`RESULT impl=node config=default op=${o.mode} conc=${c} requests=${r.requests} errors=${r.errors} ` +
                `seconds=${r.seconds.toFixed(3)} rps=${Math.round(r.requests / r.seconds)} p50_us=${r.p50.toFixed(1)} ` +
                `p99_us=${r.p99.toFixed(1)} cpu_us_per_req=${(cpu * 1e6 / r.requests).toFixed(2)} ` +
                `protocol=${client.controlConnection.protocolVersion}`);
    if (r.errors > 0) status = 1;
  }
  return status;
}

async function main() {
  const o = parseArgs();
  const client = new cassandra.Client({
    contactPoints: [o.host], protocolOptions: { port: o.port }, localDataCenter: 'datacenter1',
    socketOptions: { readTimeout: 60000 }, queryOptions: { consistency: cassandra.types.consistencies.localOne },
  });
  await client.connect();
  let status;
  try {
    status = o.mode === 'stream' ? await stream(client, o) : await pointQueries(client, o);
  } finally {
    await client.shutdown();
  }
  process.exit(status);
}

main().catch((e) => { console.error(`bench.js: ${e.stack || e}`); process.exit(2); });

// Node.js cassandra-driver against acass-server, with node's built-in test runner:
//
//   ACASS_SERVER=build/bin/acass-server node --test compat.test.js
//
// Each describe() block starts its own acass-server on a free port (--port 0) and stops it after.
// ACASS_COMPAT_LOG=1 shows the server's request log.
'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const cassandra = require('cassandra-driver');

const SERVER = path.resolve(process.env.ACASS_SERVER || '../../../build/bin/acass-server');
const VERBOSE = process.env.ACASS_COMPAT_LOG === '1';

function startServer(args = []) {
  return new Promise((resolve, reject) => {
    // ACASS_SERVER_ARGS: extra flags for every server of the suite (e.g. "--emulate scylla").
    const extra = (process.env.ACASS_SERVER_ARGS || '').split(/\s+/).filter(Boolean);
    const all = ['--port', '0', ...extra, ...args];
    if (VERBOSE) all.push('--log-requests');
    const proc = spawn(SERVER, all, { stdio: ['ignore', 'pipe', VERBOSE ? 'inherit' : 'ignore'] });
    let out = '';
    const onData = (chunk) => {
      out += chunk.toString();
      const m = /acass-server listening on ([\d.]+):(\d+) /.exec(out);
      if (m) {
        proc.stdout.off('data', onData);
        proc.stdout.resume();  // keep draining
        resolve({ proc, host: m[1], port: Number(m[2]) });
      }
    };
    proc.stdout.on('data', onData);
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`acass-server exited (${code}) before it was ready: ${out}`)));
  });
}

function stopServer(server) {
  return new Promise((resolve) => {
    if (server.proc.exitCode !== null) return resolve(server.proc.exitCode);
    server.proc.removeAllListeners('exit');
    server.proc.on('exit', (code) => resolve(code));
    server.proc.kill('SIGTERM');
  });
}

function makeClient(server, extra = {}) {
  return new cassandra.Client({
    contactPoints: [server.host],
    localDataCenter: 'datacenter1',
    protocolOptions: { port: server.port },
    socketOptions: { connectTimeout: 10000, readTimeout: 20000 },
    ...extra,
  });
}

async function scenario(client, ks) {
  await client.execute(
    `CREATE KEYSPACE ${ks} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
  await client.execute(`CREATE TABLE ${ks}.t (pk int, ck int, v text, PRIMARY KEY (pk, ck))`);
  const insert = `INSERT INTO ${ks}.t (pk, ck, v) VALUES (?, ?, ?)`;
  for (let i = 0; i < 50; i++) await client.execute(insert, [1, i, `v${i}`], { prepare: true });
  const batch = [];
  for (let i = 50; i < 60; i++) batch.push({ query: insert, params: [1, i, `v${i}`] });
  batch.push({ query: `INSERT INTO ${ks}.t (pk, ck, v) VALUES (?, ?, ?)`, params: [2, 0, 'other'] });
  await client.batch(batch, { prepare: true });

  const select = `SELECT ck, v FROM ${ks}.t WHERE pk = ?`;
  // Manual paging: fetchSize, pageState resume. More pages is decided by pageState, not row count.
  const seen = [];
  let rs = await client.execute(select, [1], { prepare: true, fetchSize: 7 });
  assert.ok(rs.rows.length <= 7);
  assert.ok(rs.pageState, 'first page must have a paging state');
  seen.push(...rs.rows.map((r) => r.ck));
  while (rs.pageState) {
    rs = await client.execute(select, [1], { prepare: true, fetchSize: 7, pageState: rs.pageState });
    seen.push(...rs.rows.map((r) => r.ck));
  }
  assert.deepEqual(seen, Array.from({ length: 60 }, (_, i) => i));

  // Automatic paging through the async iterator.
  const all = [];
  for await (const row of await client.execute(select, [1], { prepare: true, fetchSize: 9 })) all.push(row.v);
  assert.deepEqual(all, Array.from({ length: 60 }, (_, i) => `v${i}`));

  const other = await client.execute(`SELECT v FROM ${ks}.t WHERE pk = 2 AND ck = 0`);
  assert.equal(other.first().v, 'other');

  const count = await client.execute(`SELECT COUNT(*) FROM ${ks}.t WHERE pk = 1`);
  assert.equal(Number(count.first().count), 60);

  await assert.rejects(client.execute('SELEC nonsense FROM'), (err) => {
    assert.equal(err.code, cassandra.types.responseErrorCodes.syntaxError);
    return true;
  });
  await assert.rejects(client.execute(`SELECT * FROM ${ks}.no_such_table`), (err) => {
    assert.equal(err.code, cassandra.types.responseErrorCodes.invalid);
    return true;
  });
}

describe('default settings', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { assert.equal(await stopServer(server), 0); });

  it('negotiates v4 and runs the scenario', async () => {
    const client = makeClient(server);
    try {
      await client.connect();
      // The driver starts at DSE v2, is refused, and settles on v4 (it has no v5).
      assert.equal(client.controlConnection.protocolVersion, cassandra.types.protocolVersion.v4);
      const local = await client.execute('SELECT cluster_name, release_version FROM system.local');
      assert.ok(local.first().cluster_name);
      await scenario(client, 'ks_node');
      assert.ok(client.metadata.keyspaces.ks_node, 'schema metadata sees the new keyspace');
    } finally {
      await client.shutdown();
    }
  });
});

describe('three nodes', () => {
  let server;
  before(async () => { server = await startServer(['--nodes', '3']); });
  after(async () => { await stopServer(server); });

  it('discovers every node', async () => {
    const client = makeClient(server);
    try {
      await client.connect();
      const hosts = client.hosts.keys().sort();
      assert.deepEqual(hosts, ['127.0.0.1:' + server.port, '127.0.0.2:' + server.port, '127.0.0.3:' + server.port]);
      for (let i = 0; i < 12; i++) await client.execute('SELECT release_version FROM system.local');
    } finally {
      await client.shutdown();
    }
  });
});

describe('authentication', () => {
  let server;
  before(async () => { server = await startServer(['--auth', 'alice:secret']); });
  after(async () => { await stopServer(server); });

  it('accepts good credentials', async () => {
    const client = makeClient(server, { authProvider: new cassandra.auth.PlainTextAuthProvider('alice', 'secret') });
    try {
      await client.connect();
      await scenario(client, 'ks_auth');
    } finally {
      await client.shutdown();
    }
  });

  it('rejects a bad password', async () => {
    const client = makeClient(server, { authProvider: new cassandra.auth.PlainTextAuthProvider('alice', 'nope') });
    try {
      await assert.rejects(client.connect(), (err) => {
        assert.ok(err instanceof cassandra.errors.NoHostAvailableError, String(err));
        const inner = Object.values(err.innerErrors);
        assert.ok(inner.length > 0 && inner.every((e) => e instanceof cassandra.errors.AuthenticationError),
          inner.map(String).join('; '));
        return true;
      });
    } finally {
      await client.shutdown();
    }
  });
});

#!/usr/bin/python3
"""DataStax Python driver (python3-cassandra, Debian) against acass-server.

Run with the system interpreter (/usr/bin/python3: the driver is installed only there):

    /usr/bin/python3 test_python_driver.py --server build/bin/acass-server [-v]

Each test class starts its own acass-server on a free port (--port 0) and stops it afterwards.
Set ACASS_COMPAT_LOG=1 to see the server's request log and the driver's debug log.
"""
import argparse
import logging
import os
import re
import subprocess
import sys
import threading
import time
import queue
import unittest

from cassandra import AuthenticationFailed, InvalidRequest
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, NoHostAvailable
from cassandra.policies import ConstantReconnectionPolicy
from cassandra.protocol import SyntaxException
from cassandra.query import BatchStatement, SimpleStatement

SERVER = os.environ.get("ACASS_SERVER", "")
# Extra acass-server flags for every server of the suite (e.g. "--emulate scylla"), and the
# protocol version the driver must then negotiate (v4 against Cassandra 3.11 and ScyllaDB).
EXTRA_ARGS = os.environ.get("ACASS_SERVER_ARGS", "").split()
EXPECTED_VERSION = int(os.environ.get("ACASS_EXPECT_PROTOCOL", "5"))
VERBOSE = os.environ.get("ACASS_COMPAT_LOG") == "1"


class Server:
    """acass-server as a child process; the port comes from its ready line."""

    def __init__(self, *args):
        cmd = [SERVER, "--port", "0", "--control-stdin", *EXTRA_ARGS, *args]
        if VERBOSE:
            cmd.append("--log-requests")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=None if VERBOSE else subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"acass-server listening on ([\d.]+):(\d+) ", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("acass-server did not start: %r" % line)
        self.host = m.group(1)
        self.port = int(m.group(2))
        # Keep draining stdout so the server never blocks on a full pipe; answers to commands
        # are the lines it prints.
        self.lines = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def command(self, line):
        """Sends a --control-stdin command ("stop 2", ...) and returns the server's answer."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.lines.get(timeout=10)

    def stop(self):
        self.proc.terminate()
        try:
            code = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        return code


def make_cluster(server, **kwargs):
    return Cluster([server.host], port=server.port, connect_timeout=10, control_connection_timeout=10, **kwargs)


class Scenario:
    """The common scenario: DDL, prepared inserts, a batch, paging, COUNT(*), errors."""

    def run_scenario(self, session, ks):
        session.execute("CREATE KEYSPACE %s WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}" % ks)
        session.execute("CREATE TABLE %s.t (pk int, ck int, v text, PRIMARY KEY (pk, ck))" % ks)
        insert = session.prepare("INSERT INTO %s.t (pk, ck, v) VALUES (?, ?, ?)" % ks)
        for i in range(50):
            session.execute(insert, (1, i, "v%d" % i))
        batch = BatchStatement()
        for i in range(50, 60):
            batch.add(insert, (1, i, "v%d" % i))
        batch.add(SimpleStatement("INSERT INTO %s.t (pk, ck, v) VALUES (2, 0, 'other')" % ks))
        session.execute(batch)

        select = SimpleStatement("SELECT ck, v FROM %s.t WHERE pk = 1" % ks, fetch_size=7)
        # One page at a time: the flag says whether there is more, not the row count.
        rs = session.execute(select)
        seen = [r.ck for r in rs.current_rows]
        self.assertLessEqual(len(seen), 7)
        self.assertTrue(rs.has_more_pages)
        rs.fetch_next_page()
        seen += [r.ck for r in rs.current_rows]
        # Resume from a saved paging state (a new request, as an application would do).
        state = rs.paging_state
        self.assertIsNotNone(state)
        rest = session.execute(select, paging_state=state)
        seen += [r.ck for r in rest]  # iterating fetches the remaining pages
        self.assertEqual(seen, list(range(60)))

        # Automatic paging over the whole partition, and a prepared select with binding.
        self.assertEqual([r.v for r in session.execute(select)], ["v%d" % i for i in range(60)])
        by_key = session.prepare("SELECT v FROM %s.t WHERE pk = ? AND ck = ?" % ks)
        self.assertEqual(session.execute(by_key, (1, 42)).one().v, "v42")
        self.assertEqual(session.execute(by_key, (2, 0)).one().v, "other")

        count = session.execute("SELECT COUNT(*) FROM %s.t WHERE pk = 1" % ks).one()[0]
        self.assertEqual(count, 60)

        with self.assertRaises(SyntaxException):
            session.execute("SELEC nonsense FROM")
        with self.assertRaises(InvalidRequest):
            session.execute("SELECT * FROM %s.no_such_table" % ks)


class DefaultSettings(Scenario, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        cls.assert_stopped = cls.server.stop()

    def test_negotiated_version_and_metadata(self):
        cluster = make_cluster(self.server)
        try:
            session = cluster.connect()
            # Negotiated down from the driver's DSE versions to the highest we speak.
            self.assertEqual(cluster.protocol_version, EXPECTED_VERSION)
            local = session.execute("SELECT cluster_name, release_version FROM system.local").one()
            self.assertTrue(local.cluster_name)
            self.run_scenario(session, "ks_default")
            # Schema metadata (on by default) sees what we created.
            cluster.refresh_schema_metadata()
            self.assertIn("ks_default", cluster.metadata.keyspaces)
            self.assertIn("t", cluster.metadata.keyspaces["ks_default"].tables)
        finally:
            cluster.shutdown()

    def test_explicit_protocol_versions(self):
        for version in range(4, EXPECTED_VERSION + 1):
            with self.subTest(protocol_version=version):
                cluster = make_cluster(self.server, protocol_version=version)
                try:
                    session = cluster.connect()
                    self.assertEqual(cluster.protocol_version, version)
                    self.run_scenario(session, "ks_v%d" % version)
                finally:
                    cluster.shutdown()


class ThreeNodes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--nodes", "3")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_discovers_every_node_and_the_ring(self):
        cluster = make_cluster(self.server)
        try:
            session = cluster.connect()
            hosts = sorted(h.address for h in cluster.metadata.all_hosts())
            self.assertEqual(hosts, ["127.0.0.1", "127.0.0.2", "127.0.0.3"])
            self.assertTrue(all(h.is_up for h in cluster.metadata.all_hosts()))
            self.assertEqual(len(cluster.metadata.token_map.ring), 3)
            # Queries are spread over the nodes by the default policy; all of them answer.
            for _ in range(12):
                session.execute("SELECT release_version FROM system.local")
        finally:
            cluster.shutdown()


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class NodeEvents(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--nodes", "3")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_driver_follows_node_down_and_up(self):
        # A short constant reconnection delay: the default exponential policy may wait many
        # seconds before its next attempt on a loaded machine.
        cluster = make_cluster(self.server, reconnection_policy=ConstantReconnectionPolicy(0.5))
        try:
            session = cluster.connect()
            host = cluster.metadata.get_host("127.0.0.2")
            self.assertTrue(host.is_up)
            self.assertEqual(self.server.command("stop 2"), "ok")
            self.assertTrue(wait_for(lambda: not host.is_up, 30), "driver did not mark 127.0.0.2 down")
            # The other nodes keep serving.
            for _ in range(6):
                session.execute("SELECT release_version FROM system.local")
            self.assertEqual(self.server.command("restart 2"), "ok")
            self.assertTrue(wait_for(lambda: host.is_up, 30), "driver did not bring 127.0.0.2 back up")
            stats = self.server.command("stats 2")
            self.assertTrue(stats.startswith("stats 2 requests="), stats)
        finally:
            cluster.shutdown()


class Authentication(Scenario, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--auth", "alice:secret")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_good_credentials(self):
        cluster = make_cluster(self.server, auth_provider=PlainTextAuthProvider("alice", "secret"))
        try:
            session = cluster.connect()
            self.run_scenario(session, "ks_auth")
        finally:
            cluster.shutdown()

    def test_bad_password(self):
        cluster = make_cluster(self.server, auth_provider=PlainTextAuthProvider("alice", "wrong"))
        try:
            with self.assertRaises(NoHostAvailable) as ctx:
                cluster.connect()
            errors = list(ctx.exception.errors.values())
            self.assertTrue(errors and all(isinstance(e, AuthenticationFailed) for e in errors), errors)
        finally:
            cluster.shutdown()


def main():
    global SERVER
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default=SERVER)
    args, rest = parser.parse_known_args()
    SERVER = os.path.abspath(args.server)
    if not os.path.exists(SERVER):
        sys.exit("acass-server not found: %s" % SERVER)
    logging.basicConfig(level=logging.DEBUG if VERBOSE else logging.CRITICAL)
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()

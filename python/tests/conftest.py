"""Fixtures of the Python binding's tests: an acass-server on 127.0.0.1 and a free port (started
by the test itself, stopped afterwards), and `run` to drive a coroutine on a fresh event loop."""

import asyncio
import os
import re
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


class Server:
    def __init__(self, *flags):
        binary = os.environ.get("ACASS_SERVER")
        if not binary:
            pytest.skip("ACASS_SERVER (path to acass-server) is not set")
        self.proc = subprocess.Popen([binary, "--port", "0", *flags], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30
        self.port = None
        lines = []
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            m = re.match(r"acass-server listening on [^ ]*:(\d+) ", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.stop()
            raise RuntimeError("acass-server did not start:\n" + "".join(lines))
        self.host = "127.0.0.1"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(*flags):
    return Server(*flags)


@pytest.fixture(scope="module")
def server():
    s = Server("--synthetic", "20000")
    yield s
    s.stop()


def run(coro, debug=False):
    """Runs `coro` on a new event loop (asyncio.run) and returns its result."""
    return asyncio.run(coro, debug=debug)


async def wait_idle(session, limit=3.0):
    """Waits until the session has no request in flight (abandoned ones wait for the server's late
    answer) and returns the count left."""
    deadline = time.monotonic() + limit
    while session.in_flight_requests() and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    return session.in_flight_requests()


async def wait_streams_gone(limit=3.0):
    import async_cassandra_cpp as acc
    deadline = time.monotonic() + limit
    while acc.live_streams() and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    return acc.live_streams()

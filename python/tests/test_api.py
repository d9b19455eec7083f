"""The guide's API: AsyncCluster/connect/shutdown, execute, prepare, execute_stream (rows, pages,
page_number, total_rows_fetched, page_callback, max_pages, prefetch_pages, resume), execute_concurrent,
batches, rows as named tuples, and the DataStax-named exceptions with their fields."""

import asyncio
import pickle

import pytest

import async_cassandra_cpp as acc
from async_cassandra_cpp import AsyncCluster, StreamConfig
from conftest import run, start_server, wait_idle, wait_streams_gone

ROWS = 20000  # synthetic.rows of the module's server: pk = row // 100, ck = row % 100


def expected_row(pk, ck):
    return (pk, ck, "name-%d-%d" % (pk, ck), pk * 0.5 + ck)


def cluster_for(server, **kw):
    return AsyncCluster([server.host], port=server.port, **kw)


def test_connect_execute_one_all(server):
    async def main():
        cluster = cluster_for(server)
        session = await cluster.connect()
        rs = await session.execute("SELECT pk, ck, name, value, ts FROM synthetic.rows WHERE pk = 3")
        rows = rs.all()
        assert len(rows) == 100 and len(rs) == 100 and rs.current_rows == rows
        first = rs.one()
        assert (first.pk, first.ck, first.name, first.value) == expected_row(3, 0)
        assert first[0] == 3 and first._fields == ("pk", "ck", "name", "value", "ts")
        assert first._asdict()["name"] == "name-3-0"
        pk, ck, name, value, ts = first  # unpacking
        assert ts.year == 2023 and ts.tzinfo is None  # 1700000000000 + 3000 ms: naive UTC datetime
        assert [r.ck for r in rs] == list(range(100))
        seen = [r.ck async for r in rs]
        assert seen == list(range(100))
        assert rs.column_names == ["pk", "ck", "name", "value", "ts"]
        none = await session.execute("SELECT * FROM synthetic.rows WHERE pk = -5")
        assert none.one() is None and none.all() == []
        await cluster.shutdown()
        await cluster.shutdown()  # idempotent
    run(main())


def test_negotiated_protocol_version(server):
    async def negotiated(srv, **kw):
        async with AsyncCluster([srv.host], port=srv.port, **kw) as cluster:
            assert cluster.protocol_version == kw.get("protocol_version")  # before connect: as asked
            session = await cluster.connect()
            assert session.protocol_version == cluster.protocol_version
            return cluster.protocol_version
    assert run(negotiated(server)) == 5
    assert run(negotiated(server, protocol_version=4)) == 4
    scylla = start_server("--emulate", "scylla")  # v4 only: the first (v5) attempt is refused
    try:
        assert run(negotiated(scylla)) == 4
    finally:
        scylla.stop()


def test_async_with_forms_and_keyspace(server):
    async def main():
        async with cluster_for(server) as cluster:
            async with cluster.connect("synthetic") as session:
                assert session.keyspace == "synthetic"
                assert (await session.execute("SELECT COUNT(*) FROM rows")).one()[0] == ROWS
            assert session.is_closed
            async with await cluster.connect() as session2:
                await session2.set_keyspace("synthetic")
                assert (await session2.execute("SELECT ck FROM rows WHERE pk = 1 AND ck = 7")).one().ck == 7
        assert cluster.is_closed
    run(main())


def test_parameters_percent_and_question_marks(server):
    async def main():
        async with cluster_for(server) as cluster:
            session = await cluster.connect()
            q = "SELECT name FROM synthetic.rows WHERE pk = %s AND ck = %s"
            assert (await session.execute(q, (5, 6))).one().name == "name-5-6"
            q = "SELECT name FROM synthetic.rows WHERE pk = %(pk)s AND ck = %(ck)s"
            assert (await session.execute(q, {"pk": 5, "ck": 7})).one().name == "name-5-7"
            # "?" in a simple statement: prepared on first use, then bound by type.
            q = "SELECT name FROM synthetic.rows WHERE pk = ? AND ck = ?"
            assert (await session.execute(q, [5, 8])).one().name == "name-5-8"
            ps = await session.prepare(q)
            assert ps.column_metadata == [("pk", "bigint"), ("ck", "int")]
            assert (await session.execute(ps, (9, 9))).one().name == "name-9-9"
            assert (await session.execute(ps.bind({"pk": 9, "ck": 10}))).one().name == "name-9-10"
            with pytest.raises(ValueError, match="2 bind markers, 1 values"):
                ps.bind([1])
            with pytest.raises(OverflowError, match="ck"):
                ps.bind([1, 2 ** 40])
            with pytest.raises(TypeError, match="pk"):
                ps.bind(["x", 1])
            with pytest.raises(KeyError):
                ps.bind({"nope": 1})
    run(main())


def test_stream_rows_pages_counters_and_callback(server):
    async def main():
        async with cluster_for(server) as cluster:
            session = await cluster.connect()
            calls = []
            config = StreamConfig(fetch_size=3000, page_callback=lambda p, t: calls.append((p, t)))
            n = 0
            async with await session.execute_stream("SELECT pk, ck, name, value FROM synthetic.rows",
                                                    stream_config=config) as result:
                async for row in result:
                    assert (row.pk, row.ck, row.name, row.value) == expected_row(row.pk, row.ck)
                    n += 1
                assert result.page_number == 7 and result.total_rows_fetched == ROWS
            assert n == ROWS
            assert calls == [(i, min(i * 3000, ROWS)) for i in range(1, 8)]

            def failing_callback(page, total):
                raise RuntimeError("progress bar broke")
            async with await session.execute_stream(
                    "SELECT ck FROM synthetic.rows", stream_config=StreamConfig(fetch_size=5000,
                                                                                page_callback=failing_callback)) as r:
                assert len([x async for x in r]) == ROWS
                assert r.callback_errors == 4

            sizes = []
            async with await session.execute_stream("SELECT * FROM synthetic.rows",
                                                    stream_config=StreamConfig(fetch_size=5000)) as result:
                async for page in result.pages():
                    sizes.append(len(page))
                    assert page[0]._fields == ("pk", "ck", "name", "ts", "value")  # SELECT *: key columns, then by name
                    assert result.page_number == len(sizes)
            assert sizes == [5000] * 4

            # max_pages, prepared statement with parameters, prefetch off
            ps = await session.prepare("SELECT ck FROM synthetic.rows WHERE pk = ?")
            async with await session.execute_stream(
                    ps, parameters=[4], stream_config=StreamConfig(fetch_size=30, max_pages=2, prefetch_pages=0)) as r:
                cks = [row.ck async for row in r]
            assert cks == list(range(60))
            assert await wait_idle(session) == 0
        assert await wait_streams_gone() == 0
    run(main())


def test_mixing_rows_and_pages_and_close(server):
    async def main():
        async with cluster_for(server) as cluster:
            session = await cluster.connect()
            result = await session.execute_stream("SELECT pk, ck FROM synthetic.rows",
                                                  stream_config=StreamConfig(fetch_size=1000))
            first = await result.__anext__()
            # pages() skips the rest of the current page
            pages = []
            async for page in result.pages():
                pages.append(page)
                if len(pages) == 2:
                    break
            assert len(pages[0]) == 1000 and pages[0][0] != first
            await result.close()
            await result.close()
            assert [r async for r in result] == []
            assert await wait_idle(session) == 0
        assert await wait_streams_gone() == 0
    run(main())


def test_resume_point_is_row_exact(server):
    async def main():
        async with cluster_for(server) as cluster:
            session = await cluster.connect()
            query = "SELECT pk, ck FROM synthetic.rows"
            seen = []
            async with await session.execute_stream(query, stream_config=StreamConfig(fetch_size=700)) as r:
                async for row in r:
                    seen.append((row.pk, row.ck))
                    if len(seen) == 1234:
                        break
                point = r.resume_point()
            saved = point.to_string()
            restored = acc.ResumePoint.from_string(saved)
            assert restored == point and pickle.loads(pickle.dumps(point)) == point
            async with await session.execute_stream(
                    query, stream_config=StreamConfig(fetch_size=250, resume_from=restored)) as r:
                async for row in r:
                    seen.append((row.pk, row.ck))
                end = r.resume_point()
            assert end.finished
            assert len(seen) == ROWS and len(set(seen)) == ROWS
            async with await session.execute_stream(query, stream_config=StreamConfig(resume_from=end)) as r:
                assert [x async for x in r] == []
    run(main())


def test_execute_concurrent_and_batch(server):
    async def main():
        async with cluster_for(server) as cluster:
            session = await cluster.connect()
            await session.execute("CREATE KEYSPACE IF NOT EXISTS api WITH replication = "
                                  "{'class': 'SimpleStrategy', 'replication_factor': 1}")
            await session.execute("CREATE TABLE IF NOT EXISTS api.kv (k int PRIMARY KEY, v text)")
            ins = await session.prepare("INSERT INTO api.kv (k, v) VALUES (?, ?)")
            results = await session.execute_concurrent(ins, [(i, "v%d" % i) for i in range(500)], concurrency=64)
            assert len(results) == 500 and all(r.success for r in results)
            results = await acc.execute_concurrent_with_args(
                session, "SELECT v FROM api.kv WHERE k = ?", [(i,) for i in range(0, 500, 50)], concurrency=4)
            assert [r.result_or_exc.one().v for r in results] == ["v%d" % i for i in range(0, 500, 50)]
            bad = await session.execute_concurrent("INSERT INTO api.nope (k) VALUES (%s)", [(1,), (2,)])
            assert [r.success for r in bad] == [False, False]
            assert isinstance(bad[0].result_or_exc, acc.InvalidRequest)
            with pytest.raises(acc.InvalidRequest):
                await session.execute_concurrent("INSERT INTO api.nope (k) VALUES (%s)", [(1,)],
                                                 raise_on_first_error=True)
            batch = acc.BatchStatement()
            batch.add(ins, (1000, "a")).add("INSERT INTO api.kv (k, v) VALUES (%s, %s)", (1001, "b"))
            await session.execute(batch)
            rows = await session.execute("SELECT k, v FROM api.kv WHERE k IN (1000, 1001)")
            assert sorted(tuple(r) for r in rows) == [(1000, "a"), (1001, "b")]
            assert (await session.execute("SELECT COUNT(*) FROM api.kv")).one().count == 502
    run(main())


def test_server_errors_have_datastax_names_and_fields(server):
    async def main():
        async with cluster_for(server) as cluster:
            session = await cluster.connect()
            with pytest.raises(acc.InvalidRequest) as e:
                await session.execute("SELECT * FROM synthetic.nope")
            assert e.value.code == 0x2200 and "nope" in e.value.message
            assert isinstance(e.value, acc.RequestValidationException)
            with pytest.raises(acc.SyntaxException):
                await session.execute("SELEKT 1")
            await session.execute("CREATE KEYSPACE IF NOT EXISTS errs WITH replication = "
                                  "{'class': 'SimpleStrategy', 'replication_factor': 1}")
            with pytest.raises(acc.AlreadyExists) as e:
                await session.execute("CREATE KEYSPACE errs WITH replication = "
                                      "{'class': 'SimpleStrategy', 'replication_factor': 1}")
            assert e.value.keyspace == "errs" and e.value.table is None
            with pytest.raises(acc.InvalidRequest):  # the synthetic table is read-only
                await session.execute("INSERT INTO synthetic.rows (pk, ck) VALUES (1, 1)")
            # errors raised inside a stream reach the iteration
            with pytest.raises(acc.InvalidRequest):
                await session.execute_stream("SELECT * FROM synthetic.nope")
    run(main())


def test_fault_errors_and_timeouts():
    srv = start_server("--synthetic", "1000",
                       "--fault", "error=unavailable,pattern=WHERE pk = 1 ",
                       "--fault", "error=read_timeout,pattern=WHERE pk = 2 ",
                       "--fault", "error=write_timeout,pattern=INSERT INTO ft.t",
                       "--fault", "stall,pattern=WHERE pk = 3 ")
    try:
        async def main():
            async with AsyncCluster([srv.host], port=srv.port) as cluster:
                session = await cluster.connect()
                with pytest.raises(acc.Unavailable) as e:
                    await session.execute("SELECT * FROM synthetic.rows WHERE pk = 1 ")
                assert (e.value.required_replicas, e.value.alive_replicas) == (1, 0)
                assert e.value.consistency == acc.ConsistencyLevel.LOCAL_ONE
                with pytest.raises(acc.ReadTimeout) as e:
                    await session.execute("SELECT * FROM synthetic.rows WHERE pk = 2 ")
                assert e.value.data_retrieved is False and e.value.required_responses == 1
                await session.execute("CREATE KEYSPACE ft WITH replication = "
                                      "{'class': 'SimpleStrategy', 'replication_factor': 1}")
                await session.execute("CREATE TABLE ft.t (k int PRIMARY KEY)")
                with pytest.raises(acc.WriteTimeout) as e:
                    await session.execute("INSERT INTO ft.t (k) VALUES (1)")
                assert e.value.write_type == acc.WriteType.SIMPLE
                with pytest.raises(acc.OperationTimedOut):
                    await session.execute("SELECT * FROM synthetic.rows WHERE pk = 3 ", timeout=0.2)
        run(main())
    finally:
        srv.stop()


def test_no_host_available_and_auth():
    async def unreachable():
        cluster = AsyncCluster(["127.0.0.1"], port=1, connect_timeout=1.0)
        with pytest.raises(acc.NoHostAvailable) as e:
            await cluster.connect()
        assert list(e.value.errors) == ["127.0.0.1:1"]
    run(unreachable())

    srv = start_server("--auth", "alice:secret")
    try:
        async def main():
            async with AsyncCluster([srv.host], port=srv.port,
                                    auth_provider=acc.PlainTextAuthProvider("alice", "secret")) as cluster:
                session = await cluster.connect()
                assert (await session.execute("SELECT release_version FROM system.local")).one() is not None
            bad = AsyncCluster([srv.host], port=srv.port, username="alice", password="wrong")
            with pytest.raises(acc.AuthenticationFailed) as e:
                await bad.connect()
            assert e.value.code == 0x0100 and "alice" in e.value.message
        run(main())
    finally:
        srv.stop()


def test_task_waiting_on_execute_can_be_cancelled(server):
    async def main():
        async with cluster_for(server) as cluster:
            session = await cluster.connect()
            task = asyncio.ensure_future(session.execute("SELECT * FROM synthetic.rows"))
            await asyncio.sleep(0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # the session is still usable and settles
            assert (await session.execute("SELECT ck FROM synthetic.rows WHERE pk = 0 AND ck = 1")).one().ck == 1
            assert await wait_idle(session) == 0
    run(main())


def test_tls_with_ssl_context_and_ssl_options(tmp_path):
    import shutil
    import ssl
    import subprocess
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    srv = start_server("--synthetic", "100", "--tls", "%s,%s" % (cert, key))
    try:
        async def main():
            ctx = ssl.create_default_context(cafile=str(cert))
            async with AsyncCluster([srv.host], port=srv.port, ssl_context=ctx) as cluster:
                session = await cluster.connect()
                assert (await session.execute("SELECT COUNT(*) FROM synthetic.rows")).one()[0] == 100
            async with AsyncCluster([srv.host], port=srv.port, ssl_options={"ca_certs": str(cert)}) as cluster:
                session = await cluster.connect()
                assert (await session.execute("SELECT ck FROM synthetic.rows WHERE pk = 0 AND ck = 3")).one().ck == 3
            # a CA that did not sign the server's certificate: the handshake fails on every host
            other_cert, other_key = tmp_path / "other.pem", tmp_path / "other-key.pem"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                            "/CN=other", "-keyout", str(other_key), "-out", str(other_cert)],
                           check=True, capture_output=True)
            with pytest.raises(acc.NoHostAvailable):
                await AsyncCluster([srv.host], port=srv.port, ssl_options={"ca_certs": str(other_cert)},
                                   connect_timeout=2.0).connect()
        run(main())
    finally:
        srv.stop()

"""Every CQL type both ways: Python values bound to a prepared INSERT (and as %s literals) come back
equal from a SELECT, nulls included; the extremes of each type; columnar pages agree with rows."""

import datetime
import decimal
import ipaddress
import uuid

import pytest

import async_cassandra_cpp as acc
from async_cassandra_cpp import AsyncCluster, Duration, StreamConfig, Time
from conftest import run

SCHEMA = [
    "CREATE KEYSPACE IF NOT EXISTS rt WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
    "CREATE TYPE IF NOT EXISTS rt.addr (street text, zip int, tags frozen<set<text>>)",
    """CREATE TABLE IF NOT EXISTS rt.all_types (k int PRIMARY KEY, a ascii, b bigint, bl blob, bo boolean,
       d date, de decimal, db double, du duration, f float, i inet, n int, s smallint, t text, ti time,
       ts timestamp, tu timeuuid, ty tinyint, u uuid, vc varchar, vi varint,
       l list<int>, st set<text>, m map<text, int>, sl set<frozen<list<int>>>, ml map<frozen<list<int>>, text>,
       tp tuple<int, text, double>, ad frozen<addr>, ads list<frozen<addr>>, ve vector<float, 3>,
       nested map<text, frozen<list<frozen<tuple<int, text>>>>>)""",
    "CREATE TABLE IF NOT EXISTS rt.counters (k int PRIMARY KEY, c counter)",
]

COLUMNS = ["a", "b", "bl", "bo", "d", "de", "db", "du", "f", "i", "n", "s", "t", "ti", "ts", "tu", "ty", "u", "vc",
           "vi", "l", "st", "m", "sl", "ml", "tp", "ad", "ads", "ve", "nested"]


def typical():
    return {
        "a": "ascii only", "b": -1234567890123, "bl": b"\x00\x01\xffbytes", "bo": True,
        "d": datetime.date(2024, 2, 29), "de": decimal.Decimal("-12345.678900"), "db": 3.141592653589793,
        "du": Duration(1, 2, 3_000_000_004), "f": 1.5, "i": ipaddress.IPv4Address("10.1.2.3"), "n": -42,
        "s": 1234, "t": "héllo wörld ✓", "ti": datetime.time(13, 14, 15, 123456),
        "ts": datetime.datetime(2024, 1, 2, 3, 4, 5, 678000), "tu": uuid.uuid1(), "ty": -7, "u": uuid.uuid4(),
        "vc": "varchar", "vi": 10 ** 40 + 7, "l": [3, 1, 2], "st": {"x", "y"}, "m": {"one": 1, "two": 2},
        "sl": {(1, 2), (3,)}, "ml": {(1, 2): "a", (): "empty"}, "tp": (1, "two", 3.0),
        "ad": None, "ads": None, "ve": [1.0, -2.5, 3.25], "nested": {"k": [(1, "a"), (2, "b")]},
    }


def extremes():
    return {
        "a": "", "b": -2 ** 63, "bl": b"", "bo": False, "d": datetime.date(1, 1, 1), "de": decimal.Decimal("1E-30"),
        "db": -0.0, "du": Duration(-1, -2, -3), "f": -3.4028234663852886e38, "i": ipaddress.IPv6Address("2001:db8::1"),
        "n": 2 ** 31 - 1, "s": -2 ** 15, "t": "", "ti": Time.from_nanoseconds(86_399_999_999_999),
        "ts": datetime.datetime(1900, 12, 31, 23, 59, 59, 999000), "tu": uuid.UUID("00000000-0000-1000-8000-000000000000"),
        "ty": 127, "u": uuid.UUID(int=0), "vc": "z" * 10000, "vi": -(10 ** 60), "l": [], "st": set(), "m": {},
        "sl": set(), "ml": {}, "tp": (None, None, None), "ad": None, "ads": [], "ve": [0.0, 0.0, 0.0],
        "nested": {},
    }


EMPTY_IS_NULL = ("l", "st", "m", "sl", "ml", "ads", "nested")  # non-frozen collections


def same(got, want, column):
    # Cassandra stores an empty non-frozen collection as no cells (null); accept either.
    if column in EMPTY_IS_NULL and want is not None and len(want) == 0:
        return got is None or len(got) == 0
    return got == want


async def create_schema(session):
    for statement in SCHEMA:
        await session.execute(statement)


def addr_class_values(row):
    return row._asdict() if row is not None else None


def test_prepared_round_trip_every_type(server):
    async def main():
        async with AsyncCluster([server.host], port=server.port) as cluster:
            session = await cluster.connect()
            await create_schema(session)
            insert = await session.prepare("INSERT INTO rt.all_types (k, %s) VALUES (?, %s)"
                                           % (", ".join(COLUMNS), ", ".join("?" * len(COLUMNS))))
            sets = [typical(), extremes()]
            sets[0]["ad"] = {"street": "Main St", "zip": 12345, "tags": {"home"}}
            sets[1]["ad"] = {"street": None, "zip": None, "tags": None}
            sets[0]["ads"] = [{"street": "A", "zip": 1, "tags": set()}]
            for k, values in enumerate(sets):
                await session.execute(insert, [k] + [values[c] for c in COLUMNS])
            await session.execute("INSERT INTO rt.all_types (k) VALUES (99)")  # every other column null
            rs = await session.execute("SELECT k, %s FROM rt.all_types WHERE k IN (0, 1, 99)" % ", ".join(COLUMNS))
            rows = {r.k: r for r in rs}
            for k, values in enumerate(sets):
                row = rows[k]
                for c in COLUMNS:
                    got = getattr(row, c)
                    if c == "ad":
                        assert got._fields == ("street", "zip", "tags")
                        assert got._asdict() == values[c], c
                    elif c == "ads":
                        assert same(None if got is None else [g._asdict() for g in got], values[c], c)
                    else:
                        assert same(got, values[c], c), (k, c, got, values[c])
            assert all(getattr(rows[99], c) is None for c in COLUMNS)
            # Types of what comes back
            r = rows[0]
            assert type(r.ts) is datetime.datetime and type(r.d) is datetime.date and type(r.ti) is datetime.time
            assert type(r.i) is ipaddress.IPv4Address and type(r.u) is uuid.UUID and type(r.de) is decimal.Decimal
            assert type(r.st) is set and type(r.m) is dict and type(r.tp) is tuple and type(r.l) is list
            assert type(rows[1].ti) is Time and rows[1].ti.nanosecond == 999_999_999
            # UNSET leaves a column untouched, None deletes it
            upd = await session.prepare("UPDATE rt.all_types SET t = ?, n = ? WHERE k = ?")
            await session.execute(upd, (acc.UNSET_VALUE, None, 0))
            row = (await session.execute("SELECT t, n FROM rt.all_types WHERE k = 0")).one()
            assert row.t == sets[0]["t"] and row.n is None
    run(main())


def test_literal_round_trip_and_accepted_inputs(server):
    async def main():
        async with AsyncCluster([server.host], port=server.port) as cluster:
            session = await cluster.connect()
            await create_schema(session)
            values = typical()
            del values["ad"], values["ads"], values["sl"], values["ml"], values["ve"], values["nested"]
            cols = list(values)
            await session.execute("INSERT INTO rt.all_types (k, %s) VALUES (%%s, %s)"
                                  % (", ".join(cols), ", ".join(["%s"] * len(cols))), [10] + [values[c] for c in cols])
            row = (await session.execute("SELECT * FROM rt.all_types WHERE k = 10")).one()
            for c in cols:
                assert getattr(row, c) == values[c], c
            # Other accepted inputs for a prepared statement: strings for uuid/inet/date/time, ints
            # for timestamps (ms), dates (days) and times (ns), aware datetimes, any sequence.
            ins = await session.prepare("INSERT INTO rt.all_types (k, u, i, d, ti, ts, l, de) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            aware = datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
            await session.execute(ins, (11, "12345678-1234-5678-1234-567812345678", "::1", "2020-05-06",
                                        "01:02:03.000000004", aware, (1, 2), 2.5))
            row = (await session.execute("SELECT u, i, d, ti, ts, l, de FROM rt.all_types WHERE k = 11")).one()
            assert row.u == uuid.UUID("12345678-1234-5678-1234-567812345678")
            assert row.i == ipaddress.IPv6Address("::1") and row.d == datetime.date(2020, 5, 6)
            assert row.ti.nanosecond == 4 and row.ti.second == 3
            assert row.ts == datetime.datetime(2024, 1, 1, 10) and row.l == [1, 2] and row.de == decimal.Decimal("2.5")
            await session.execute(ins, (12, None, None, -800000, 5, -1, None, 7))
            row = (await session.execute("SELECT d, ti, ts, de FROM rt.all_types WHERE k = 12")).one()
            assert row.d == -800000  # before year 1: days since the epoch
            assert row.ti == datetime.time(0, 0, 0) and row.ti.nanosecond == 5
            assert row.ts == datetime.datetime(1969, 12, 31, 23, 59, 59, 999000) and row.de == 7
            # Counters
            await session.execute("UPDATE rt.counters SET c = c + %s WHERE k = 1", (5,))
            assert (await session.execute("SELECT c FROM rt.counters WHERE k = 1")).one().c == 5
    run(main())


def test_bad_values_are_refused_before_sending(server):
    async def main():
        async with AsyncCluster([server.host], port=server.port) as cluster:
            session = await cluster.connect()
            await create_schema(session)
            ps = await session.prepare("INSERT INTO rt.all_types (k, n, t, a, u, l, ve, m) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            ok = [1, 1, "t", "a", uuid.uuid4(), [1], [1.0, 2.0, 3.0], {"a": 1}]
            for index, bad, error in [(1, "1", TypeError), (1, 1.5, TypeError), (1, 2 ** 31, OverflowError),
                                      (2, b"bytes", TypeError), (3, "é", ValueError), (4, "not-a-uuid", ValueError),
                                      (5, [None], ValueError), (5, "str", TypeError), (6, [1.0], ValueError),
                                      (7, {"a": None}, ValueError), (7, [1], TypeError)]:
                values = list(ok)
                values[index] = bad
                with pytest.raises(error):
                    ps.bind(values)
            await session.execute(ps, ok)
    run(main())


def test_columnar_pages_match_rows(server):
    np = pytest.importorskip("numpy")

    async def main():
        async with AsyncCluster([server.host], port=server.port) as cluster:
            session = await cluster.connect()
            config = StreamConfig(fetch_size=3000)
            query = "SELECT pk, ck, name, value, ts FROM synthetic.rows"
            async with await session.execute_stream(query, stream_config=config) as result:
                pages = [p async for p in result.pages(columnar=True)]
            async with await session.execute_stream(query, stream_config=config) as result:
                rows = [r async for r in result]
            pk = np.concatenate([p["pk"] for p in pages])
            assert pk.dtype == np.int64 and pages[0]["ck"].dtype == np.int32
            assert pages[0]["value"].dtype == np.float64 and pages[0]["ts"].dtype == np.dtype("datetime64[ms]")
            assert isinstance(pages[0]["name"], list)
            assert pk.tolist() == [r.pk for r in rows]
            assert np.concatenate([p["value"] for p in pages]).tolist() == [r.value for r in rows]
            assert sum((p["name"] for p in pages), []) == [r.name for r in rows]
            ts = np.concatenate([p["ts"] for p in pages])
            assert ts.astype("datetime64[us]").astype(datetime.datetime).tolist() == [r.ts for r in rows]

            # Nulls give masked arrays; every numeric kind has its dtype
            await create_schema(session)
            await session.execute("INSERT INTO rt.all_types (k, b, n, s, ty, f, db, bo, d, ti) "
                                  "VALUES (200, 1, 2, 3, 4, 5.5, 6.5, true, '2000-01-01', '00:00:01')")
            await session.execute("INSERT INTO rt.all_types (k) VALUES (201)")
            async with await session.execute_stream(
                    "SELECT k, b, n, s, ty, f, db, bo, d, ti, u FROM rt.all_types WHERE k IN (200, 201)") as result:
                page = [p async for p in result.pages(columnar=True)][0]
            order = page["k"].tolist()  # IN returns partitions in token order
            assert sorted(order) == [200, 201] and not isinstance(page["k"], np.ma.MaskedArray)
            full = order.index(200)
            for col, dtype in [("b", "int64"), ("n", "int32"), ("s", "int16"), ("ty", "int8"), ("f", "float32"),
                               ("db", "float64"), ("bo", "bool"), ("d", "datetime64[D]"), ("ti", "timedelta64[ns]")]:
                assert isinstance(page[col], np.ma.MaskedArray) and page[col].dtype == np.dtype(dtype), col
                assert page[col].mask.tolist() == [i != full for i in range(2)], col
            assert page["d"][full] == np.datetime64("2000-01-01") and page["ti"][full] == np.timedelta64(10 ** 9, "ns")
            assert page["f"][full] == 5.5 and page["bo"][full] and page["ty"][full] == 4
            assert page["u"] == [None, None]
    run(main())

// Engine: DDL/DML round trips, ordering, WHERE forms, paging, prepared statements and batches.
#include "test_server_engine_util.hpp"

#include "protocol/murmur3.hpp"

#include <algorithm>
#include <set>

using namespace engine_test;

namespace {

struct EngineDml : ::testing::Test {
    Harness h;
    void SetUp() override {
        h.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        h.ok("USE ks");
    }
    // t: 10 partitions x 5 rows, ck DESC.
    void make_t() {
        h.ok("CREATE TABLE t (k int, c int, v text, n int, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)");
        for (int k = 0; k < 10; ++k)
            for (int c = 0; c < 5; ++c)
                h.ok("INSERT INTO t (k, c, v, n) VALUES (" + std::to_string(k) + ", " + std::to_string(c) + ", 'v" +
                     std::to_string(k) + "-" + std::to_string(c) + "', " + std::to_string(k * 10 + c) + ")");
    }
};

std::int64_t token_of_int(std::int32_t k) { return protocol::murmur3_token(i32(k)); }

}  // namespace

TEST_F(EngineDml, KeyspaceDdl) {
    auto again = h.run("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    ASSERT_EQ(error_code(again), 0x2400);
    EXPECT_EQ(error_of(again)->keyspace, "ks");
    h.ok("CREATE KEYSPACE IF NOT EXISTS ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
    EXPECT_EQ(error_code(h.run("CREATE KEYSPACE k2 WITH replication = {'replication_factor': 1}")), 0x2300);
    EXPECT_EQ(error_code(h.run("CREATE KEYSPACE k2 WITH replication = {'class': 'NoSuch'}")), 0x2300);
    EXPECT_EQ(error_code(h.run("USE nosuch")), 0x2200);
    EXPECT_EQ(error_code(h.run("DROP KEYSPACE nosuch")), 0x2300);
    h.ok("DROP KEYSPACE IF EXISTS nosuch");
    std::string before = h.engine.schema_version();
    auto created = h.ok("CREATE KEYSPACE k3 WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3}");
    ASSERT_TRUE(created.schema_event);
    EXPECT_EQ(created.schema_event->change_type, "CREATED");
    EXPECT_EQ(created.schema_event->target, "KEYSPACE");
    EXPECT_NE(h.engine.schema_version(), before);
    auto altered = h.ok("ALTER KEYSPACE k3 WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}");
    EXPECT_EQ(altered.schema_event->change_type, "UPDATED");
    EXPECT_EQ(error_code(h.run("ALTER KEYSPACE k3 WITH replication = {'class': 'Bogus'}")), 0x2300);
    EXPECT_EQ(error_code(h.run("CREATE INDEX ON k3.t (v)")), 0x2200);
    auto dropped = h.ok("DROP KEYSPACE k3");
    EXPECT_EQ(dropped.schema_event->change_type, "DROPPED");
}

TEST_F(EngineDml, TableDdl) {
    auto r = h.ok("CREATE TABLE t (k int PRIMARY KEY, v text) WITH comment = 'hi' AND gc_grace_seconds = 10");
    ASSERT_TRUE(r.schema_event);
    EXPECT_EQ(r.schema_event->target, "TABLE");
    EXPECT_EQ(r.schema_event->name, "t");
    auto dup = h.run("CREATE TABLE t (k int PRIMARY KEY)");
    EXPECT_EQ(error_code(dup), 0x2400);
    EXPECT_EQ(error_of(dup)->table, "t");
    h.ok("CREATE TABLE IF NOT EXISTS t (k int PRIMARY KEY)");
    EXPECT_EQ(error_code(h.run("CREATE TABLE u (k int, v int)")), 0x2200);
    EXPECT_EQ(error_code(h.run("CREATE TABLE u (k int PRIMARY KEY, v nosuch)")), 0x2200);
    EXPECT_EQ(error_code(h.run("CREATE TABLE u (k list<int> PRIMARY KEY)")), 0x2200);
    EXPECT_EQ(error_code(h.run("CREATE TABLE u (k int, c int, PRIMARY KEY (k, x))")), 0x2200);
    EXPECT_EQ(error_code(h.run("CREATE TABLE u (k int, c int, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (k DESC)")), 0x2200);
    EXPECT_EQ(error_code(h.run("CREATE TABLE nosuchks.u (k int PRIMARY KEY)")), 0x2200);
    EXPECT_EQ(error_code(h.run("SELECT * FROM nosuch")), 0x2200);
    h.ok("INSERT INTO t (k, v) VALUES (1, 'a')");
    h.ok("TRUNCATE t");
    EXPECT_TRUE(rows_of(h.ok("SELECT * FROM t")).empty());
    h.ok("ALTER TABLE t ADD extra int");
    h.ok("ALTER TABLE t WITH comment = 'changed'");
    h.ok("INSERT INTO t (k, v, extra) VALUES (2, 'b', 7)");
    auto rows = rows_of(h.ok("SELECT k, extra, v FROM t"));
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(as_int(rows[0][1]), 7);
    auto drop = h.ok("DROP TABLE t");
    EXPECT_EQ(drop.schema_event->change_type, "DROPPED");
    EXPECT_EQ(error_code(h.run("DROP TABLE t")), 0x2200);
    h.ok("DROP TABLE IF EXISTS t");
}

TEST_F(EngineDml, AllTypesRoundTrip) {
    h.ok("CREATE TABLE types (k text PRIMARY KEY, a ascii, b blob, bo boolean, ti tinyint, si smallint, i int, bi bigint, "
         "vi varint, de decimal, f float, d double, u uuid, tu timeuuid, ip inet, da date, tm time, ts timestamp, "
         "du duration, l list<int>, s set<text>, m map<text, int>, tup tuple<int, text>, fr frozen<list<set<int>>>, "
         "vec vector<float, 2>)");
    h.ok("INSERT INTO types (k, a, b, bo, ti, si, i, bi, vi, de, f, d, u, tu, ip, da, tm, ts, du, l, s, m, tup, fr, vec) "
         "VALUES ('key', 'asc', 0x0102, false, -1, 300, 70000, 1234567890123, 99999999999999999999, 1.25, 1.5, -2.5, "
         "123e4567-e89b-42d3-a456-426614174000, now(), '::1', '2024-02-29', '12:34:56.789', '2024-01-01 00:00:00+0000', "
         "1d2h, [3, 1], {'y', 'x'}, {'k': 1}, (1, 'a'), [{1, 2}], [0.5, 1.0])");
    auto r = h.ok("SELECT * FROM types WHERE k = 'key'");
    auto rows = rows_of(r);
    ASSERT_EQ(rows.size(), 1u);
    const auto* meta = rows_result(r);
    ASSERT_EQ(meta->metadata.columns.size(), 25u);
    EXPECT_EQ(meta->metadata.columns[0].name, "k");  // key first, then the others by name
    EXPECT_EQ(meta->metadata.columns[1].name, "a");
    for (std::size_t i = 0; i < rows[0].size(); ++i) EXPECT_TRUE(rows[0][i].has_value()) << meta->metadata.columns[i].name;
    EXPECT_EQ(error_code(h.run("INSERT INTO types (k, i) VALUES ('x', 'str')")), 0x2200);
    EXPECT_EQ(error_code(h.run("INSERT INTO types (k, nosuch) VALUES ('x', 1)")), 0x2200);
    EXPECT_EQ(error_code(h.run("INSERT INTO types (i) VALUES (1)")), 0x2200);
    EXPECT_EQ(error_code(h.run("INSERT INTO types (k, i) VALUES (?, ?)", {view(txt("x")), view(i64(1))})), 0x2200);
}

TEST_F(EngineDml, PartitionsInTokenOrderRowsInClusteringOrder) {
    make_t();
    auto rows = rows_of(h.ok("SELECT k, c, token(k) FROM t"));
    ASSERT_EQ(rows.size(), 50u);
    for (std::size_t i = 1; i < rows.size(); ++i) {
        std::int64_t t0 = as_int(rows[i - 1][2]), t1 = as_int(rows[i][2]);
        EXPECT_LE(t0, t1);
        EXPECT_EQ(t1, token_of_int(static_cast<std::int32_t>(as_int(rows[i][0]))));
        if (t0 == t1) {
            EXPECT_GT(as_int(rows[i - 1][1]), as_int(rows[i][1]));  // DESC clustering
        }
    }
    auto asc = rows_of(h.ok("SELECT c FROM t WHERE k = 3 ORDER BY c ASC"));
    ASSERT_EQ(asc.size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(as_int(asc[static_cast<std::size_t>(i)][0]), i);
    EXPECT_EQ(error_code(h.run("SELECT c FROM t ORDER BY c ASC")), 0x2200);
    // ORDER BY over several IN partitions merges their rows by clustering key (unpaged).
    auto merged = rows_of(h.ok("SELECT k, c FROM t WHERE k IN (1, 2, 3) ORDER BY c ASC LIMIT 7"));
    ASSERT_EQ(merged.size(), 7u);
    for (std::size_t i = 1; i < merged.size(); ++i) EXPECT_LE(as_int(merged[i - 1][1]), as_int(merged[i][1]));
    EXPECT_EQ(as_int(merged[6][1]), 2);
    EXPECT_EQ(error_code(h.run("SELECT c FROM t WHERE k = 1 ORDER BY v ASC")), 0x2200);
}

TEST_F(EngineDml, WhereForms) {
    make_t();
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 2")).size(), 5u);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k IN (2, 3, 2)")).size(), 10u);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 2 AND c = 3")).size(), 1u);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 2 AND c IN (1, 4)")).size(), 2u);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 2 AND c > 1")).size(), 3u);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 2 AND c >= 1 AND c < 3")).size(), 2u);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 2 AND c <= 1")).size(), 2u);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 99")).size(), 0u);
    auto bound = rows_of(h.run("SELECT * FROM t WHERE k IN ? AND c = ?",
                               {view(Bytes{0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 5}), view(i32(0))}));
    EXPECT_EQ(bound.size(), 2u);
    // token ranges split the ring without loss or overlap
    std::int64_t mid = token_of_int(4);
    auto low = rows_of(h.run("SELECT k FROM t WHERE token(k) <= ?", {view(i64(mid))}));
    auto high = rows_of(h.run("SELECT k FROM t WHERE token(k) > ?", {view(i64(mid))}));
    EXPECT_EQ(low.size() + high.size(), 50u);
    auto between = rows_of(h.run("SELECT k FROM t WHERE token(k) > ? AND token(k) <= ?",
                                 {view(i64(std::numeric_limits<std::int64_t>::min())), view(i64(mid))}));
    EXPECT_EQ(between.size(), low.size());
    // filtering
    EXPECT_EQ(error_code(h.run("SELECT * FROM t WHERE n = 23")), 0x2200);
    auto f = rows_of(h.ok("SELECT k, c FROM t WHERE n = 23 ALLOW FILTERING"));
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(as_int(f[0][0]), 2);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE n >= 90 ALLOW FILTERING")).size(), 5u);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE c = 1 ALLOW FILTERING")).size(), 10u);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 1 AND v = 'v1-2' ALLOW FILTERING")).size(), 1u);
    // limits and count
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t LIMIT 7")).size(), 7u);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t PER PARTITION LIMIT 2")).size(), 20u);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t PER PARTITION LIMIT 2 LIMIT 3")).size(), 3u);
    EXPECT_EQ(rows_of(h.ok("SELECT DISTINCT k FROM t")).size(), 10u);
    auto count = h.ok("SELECT COUNT(*) FROM t");
    EXPECT_EQ(as_int(rows_of(count)[0][0]), 50);
    EXPECT_EQ(rows_result(count)->metadata.columns[0].name, "count");
    EXPECT_EQ(as_int(rows_of(h.ok("SELECT count(1) AS n FROM t WHERE k = 1"))[0][0]), 5);
    EXPECT_EQ(error_code(h.run("SELECT * FROM t LIMIT 0")), 0x2200);
    EXPECT_EQ(error_code(h.run("SELECT nosuch FROM t")), 0x2200);
    EXPECT_EQ(error_code(h.run("SELECT * FROM t WHERE k > 1")), 0x2200);
}

TEST_F(EngineDml, UpdateDeleteAndConditions) {
    make_t();
    h.ok("UPDATE t SET v = 'new', n = null WHERE k = 1 AND c = 2");
    auto row = rows_of(h.ok("SELECT v, n FROM t WHERE k = 1 AND c = 2"));
    ASSERT_EQ(row.size(), 1u);
    EXPECT_EQ(as_text(row[0][0]), "new");
    EXPECT_FALSE(row[0][1].has_value());
    EXPECT_EQ(error_code(h.run("UPDATE t SET k = 3 WHERE k = 1 AND c = 2")), 0x2200);
    EXPECT_EQ(error_code(h.run("UPDATE t SET v = 'x' WHERE k = 1")), 0x2200);
    h.ok("DELETE FROM t WHERE k = 1 AND c = 2");
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 1")).size(), 4u);
    h.ok("DELETE v FROM t WHERE k = 1 AND c = 3");
    EXPECT_FALSE(rows_of(h.ok("SELECT v FROM t WHERE k = 1 AND c = 3"))[0][0].has_value());
    h.ok("DELETE FROM t WHERE k = 1 AND c >= 3");
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 1")).size(), 2u);
    h.ok("DELETE FROM t WHERE k = 1");
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 1")).size(), 0u);
    // not-set values leave columns untouched
    h.run("UPDATE t SET v = ?, n = ? WHERE k = 2 AND c = 0",
          {ValueView{ValueView::Kind::unset, {}}, view(i32(5))});
    auto kept = rows_of(h.ok("SELECT v, n FROM t WHERE k = 2 AND c = 0"));
    EXPECT_EQ(as_text(kept[0][0]), "v2-0");
    EXPECT_EQ(as_int(kept[0][1]), 5);
    // IF NOT EXISTS
    auto applied = rows_of(h.ok("INSERT INTO t (k, c, v) VALUES (50, 0, 'a') IF NOT EXISTS"));
    EXPECT_EQ(applied[0][0], Bytes{1});
    auto r2 = h.ok("INSERT INTO t (k, c, v) VALUES (50, 0, 'b') IF NOT EXISTS");
    auto not_applied = rows_of(r2);
    EXPECT_EQ(not_applied[0][0], Bytes{0});
    EXPECT_EQ(rows_result(r2)->metadata.columns[0].name, "[applied]");
    EXPECT_EQ(as_text(rows_of(h.ok("SELECT v FROM t WHERE k = 50 AND c = 0"))[0][0]), "a");
    EXPECT_EQ(rows_of(h.ok("UPDATE t SET v = 'z' WHERE k = 51 AND c = 0 IF EXISTS"))[0][0], Bytes{0});
    EXPECT_TRUE(rows_of(h.ok("SELECT * FROM t WHERE k = 51")).empty());
}

TEST_F(EngineDml, CountersCollectionsTtl) {
    h.ok("CREATE TABLE cnt (k int PRIMARY KEY, hits counter)");
    h.ok("UPDATE cnt SET hits = hits + 5 WHERE k = 1");
    h.ok("UPDATE cnt SET hits = hits - 2 WHERE k = 1");
    EXPECT_EQ(as_int(rows_of(h.ok("SELECT hits FROM cnt WHERE k = 1"))[0][0]), 3);
    EXPECT_EQ(error_code(h.run("INSERT INTO cnt (k, hits) VALUES (1, 1)")), 0x2200);
    h.ok("CREATE TABLE col (k int PRIMARY KEY, l list<int>, s set<int>, m map<text, int>)");
    h.ok("INSERT INTO col (k, l, s, m) VALUES (1, [1], {1}, {'a': 1})");
    h.ok("UPDATE col SET l = l + [2], s = s + {0}, m['b'] = 2 WHERE k = 1");
    h.ok("UPDATE col SET l = [0] + l, s = s - {1} WHERE k = 1");
    auto r = rows_of(h.ok("SELECT l, s, m FROM col WHERE k = 1"));
    EXPECT_EQ(*r[0][0], (Bytes{0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2}));
    EXPECT_EQ(*r[0][1], (Bytes{0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 0}));
    EXPECT_EQ(r[0][2]->at(3), 2);  // two map entries
    h.ok("CREATE TABLE ttl (k int PRIMARY KEY, v int)");
    h.ok("INSERT INTO ttl (k, v) VALUES (1, 1) USING TTL 100");
    auto t = rows_of(h.ok("SELECT ttl(v), writetime(v) FROM ttl WHERE k = 1"));
    EXPECT_GT(as_int(t[0][0]), 90);
    EXPECT_GT(as_int(t[0][1]), 0);
    EXPECT_EQ(error_code(h.run("INSERT INTO ttl (k, v) VALUES (1, 1) USING TTL -1")), 0x2200);
}

TEST_F(EngineDml, CompositePartitionKeyAndStatic) {
    h.ok("CREATE TABLE cp (a int, b text, c int, s text static, v int, PRIMARY KEY ((a, b), c))");
    h.ok("INSERT INTO cp (a, b, c, s, v) VALUES (1, 'x', 1, 'S', 10)");
    h.ok("INSERT INTO cp (a, b, c, v) VALUES (1, 'x', 2, 20)");
    auto rows = rows_of(h.ok("SELECT c, s, v, token(a, b) FROM cp WHERE a = 1 AND b = 'x'"));
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(as_text(rows[1][1]), "S");
    Bytes key = protocol::composite_routing_key({BytesView(i32(1)), BytesView(txt("x"))});
    EXPECT_EQ(as_int(rows[0][3]), protocol::murmur3_token(key));
    EXPECT_EQ(error_code(h.run("SELECT * FROM cp WHERE a = 1")), 0x2200);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM cp WHERE a = 1 ALLOW FILTERING")).size(), 2u);
    // An INSERT of the primary key alone (no regular column) still creates the row, as in
    // Cassandra; with a static column too, the row and the static value both exist.
    h.ok("INSERT INTO cp (a, b, c) VALUES (2, 'y', 7)");
    h.ok("INSERT INTO cp (a, b, c, s) VALUES (3, 'z', 8, 'T')");
    auto only_key = rows_of(h.ok("SELECT c, v FROM cp WHERE a = 2 AND b = 'y'"));
    ASSERT_EQ(only_key.size(), 1u);
    EXPECT_EQ(as_int(only_key[0][0]), 7);
    EXPECT_FALSE(only_key[0][1].has_value());
    auto with_static = rows_of(h.ok("SELECT c, s FROM cp WHERE a = 3 AND b = 'z'"));
    ASSERT_EQ(with_static.size(), 1u);
    EXPECT_EQ(as_text(with_static[0][1]), "T");
}

TEST_F(EngineDml, PagingVisitsEveryRowOnce) {
    make_t();
    auto all = rows_of(h.ok("SELECT k, c FROM t"));
    for (int page = 1; page <= 51; page += (page < 8 ? 1 : 7)) {
        std::vector<std::pair<std::int64_t, std::int64_t>> seen;
        std::optional<Bytes> state;
        int pages = 0;
        for (;;) {
            auto r = h.run("SELECT k, c FROM t", {}, page, state ? std::optional<BytesView>(BytesView(*state)) : std::nullopt);
            for (auto& row : rows_of(r)) seen.emplace_back(as_int(row[0]), as_int(row[1]));
            const auto* rr = rows_result(r);
            ASSERT_NE(rr, nullptr);
            EXPECT_LE(rr->row_count, page);
            ++pages;
            if (!rr->metadata.paging_state) break;
            state = *rr->metadata.paging_state;
            ASSERT_LT(pages, 200);
        }
        ASSERT_EQ(seen.size(), all.size()) << "page size " << page;
        for (std::size_t i = 0; i < seen.size(); ++i) {
            EXPECT_EQ(seen[i].first, as_int(all[i][0]));
            EXPECT_EQ(seen[i].second, as_int(all[i][1]));
        }
    }
}

TEST_F(EngineDml, PagingHonoursLimitsAndOrder) {
    make_t();
    auto collect = [&](const std::string& q, int page) {
        std::vector<std::pair<std::int64_t, std::int64_t>> seen;
        std::optional<Bytes> state;
        for (int i = 0; i < 100; ++i) {
            auto r = h.run(q, {}, page, state ? std::optional<BytesView>(BytesView(*state)) : std::nullopt);
            for (auto& row : rows_of(r)) seen.emplace_back(as_int(row[0]), as_int(row[1]));
            const auto* rr = rows_result(r);
            if (!rr || !rr->metadata.paging_state) break;
            state = *rr->metadata.paging_state;
        }
        return seen;
    };
    EXPECT_EQ(collect("SELECT k, c FROM t LIMIT 13", 4).size(), 13u);
    EXPECT_EQ(collect("SELECT k, c FROM t PER PARTITION LIMIT 3", 2).size(), 30u);
    auto ppl = collect("SELECT k, c FROM t PER PARTITION LIMIT 3 LIMIT 8", 3);
    EXPECT_EQ(ppl.size(), 8u);
    EXPECT_EQ(error_code(h.run("SELECT k, c FROM t WHERE k IN (1, 2) ORDER BY c ASC", {}, 3)), 0x2200);
    auto asc = collect("SELECT k, c FROM t WHERE k = 1 ORDER BY c ASC", 2);
    ASSERT_EQ(asc.size(), 5u);
    for (std::size_t i = 1; i < asc.size(); ++i)
        if (asc[i].first == asc[i - 1].first) {
            EXPECT_EQ(asc[i].second, asc[i - 1].second + 1);
        }
    auto bad = h.run("SELECT * FROM t", {}, 5, BytesView(txt("garbage")));
    EXPECT_EQ(error_code(bad), 0x2200);
}

TEST_F(EngineDml, PreparedExecuteAndUnprepared) {
    make_t();
    protocol::PrepareRequest p;
    p.query = "SELECT v FROM t WHERE k = ? AND c = :cc";
    auto pr = h.engine.execute(protocol::Request{p}, h.state);
    auto* res = std::get_if<protocol::ResultResponse>(&pr.response);
    ASSERT_NE(res, nullptr);
    auto* prepared = std::get_if<protocol::PreparedResult>(res);
    ASSERT_NE(prepared, nullptr);
    ASSERT_EQ(prepared->metadata.columns.size(), 2u);
    EXPECT_EQ(prepared->metadata.columns[0].name, "k");
    EXPECT_EQ(prepared->metadata.columns[1].name, "cc");
    EXPECT_EQ(prepared->metadata.partition_key_indexes, (std::vector<std::uint16_t>{0}));
    ASSERT_EQ(prepared->result_metadata.columns.size(), 1u);
    EXPECT_EQ(h.engine.prepared_query(h.state.node_id, prepared->id), std::string(p.query));
    // same text + keyspace -> same id
    auto pr2 = h.engine.execute(protocol::Request{p}, h.state);
    EXPECT_EQ(std::get<protocol::PreparedResult>(std::get<protocol::ResultResponse>(pr2.response)).id, prepared->id);

    protocol::ExecuteRequest e;
    e.id = prepared->id;
    Bytes k = i32(3), c = i32(4);
    e.params.values = {view(k), view(c)};
    e.params.skip_metadata = true;
    auto er = h.engine.execute(protocol::Request{e}, h.state);
    auto rows = rows_of(er);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(as_text(rows[0][0]), "v3-4");
    EXPECT_TRUE(rows_result(er)->metadata.no_metadata);
    // named values
    e.params.value_names = {"cc", "k"};
    e.params.values = {view(c), view(k)};
    EXPECT_EQ(rows_of(h.engine.execute(protocol::Request{e}, h.state)).size(), 1u);
    e.params.value_names.clear();
    // wrong arity / wrong size
    e.params.values = {view(k)};
    EXPECT_EQ(error_code(h.engine.execute(protocol::Request{e}, h.state)), 0x2200);
    Bytes big = i64(1);
    e.params.values = {view(big), view(c)};
    EXPECT_EQ(error_code(h.engine.execute(protocol::Request{e}, h.state)), 0x2200);
    // another node does not know the id; a restarted node forgets
    ConnectionState other = h.state;
    other.node_id = 2;
    e.params.values = {view(k), view(c)};
    auto un = h.engine.execute(protocol::Request{e}, other);
    ASSERT_EQ(error_code(un), 0x2500);
    EXPECT_EQ(error_of(un)->unprepared_id, prepared->id);
    h.engine.forget_prepared(h.state.node_id);
    EXPECT_EQ(error_code(h.engine.execute(protocol::Request{e}, h.state)), 0x2500);
}

TEST_F(EngineDml, PreparedV5MetadataId) {
    make_t();
    h.state.version = protocol::ProtocolVersion::v5;
    protocol::PrepareRequest p;
    p.query = "SELECT * FROM t WHERE k = ?";
    auto prepared = std::get<protocol::PreparedResult>(std::get<protocol::ResultResponse>(
        h.engine.execute(protocol::Request{p}, h.state).response));
    EXPECT_FALSE(prepared.result_metadata_id.empty());
    protocol::ExecuteRequest e;
    e.id = prepared.id;
    e.result_metadata_id = prepared.result_metadata_id;
    Bytes k = i32(1);
    e.params.values = {view(k)};
    e.params.skip_metadata = true;
    auto same = h.engine.execute(protocol::Request{e}, h.state);
    EXPECT_TRUE(rows_result(same)->metadata.no_metadata);
    h.ok("ALTER TABLE t ADD w int");
    auto changed = h.engine.execute(protocol::Request{e}, h.state);
    const auto* rr = rows_result(changed);
    ASSERT_NE(rr, nullptr);
    ASSERT_TRUE(rr->metadata.new_metadata_id.has_value());
    EXPECT_NE(*rr->metadata.new_metadata_id, prepared.result_metadata_id);
    EXPECT_EQ(rr->metadata.columns.size(), 5u);
    // The new id is stable (the node remembers ids per metadata shape): sent back, it matches.
    e.result_metadata_id = *rr->metadata.new_metadata_id;
    auto again = h.engine.execute(protocol::Request{e}, h.state);
    ASSERT_NE(rows_result(again), nullptr);
    EXPECT_TRUE(rows_result(again)->metadata.no_metadata);
}

// A prepared statement's bind markers, result columns and metadata id are kept with it
// (prepared_shape.hpp) and recomputed after a schema change: the same prepared SELECT reads the
// re-created table's new layout, and EXECUTE and route() of a statement whose table is gone fail.
TEST_F(EngineDml, PreparedStatementsFollowSchemaChanges) {
    make_t();
    auto prepare = [&](std::string_view cql) {
        protocol::PrepareRequest p;
        p.query = cql;
        return std::get<protocol::PreparedResult>(std::get<protocol::ResultResponse>(
            h.engine.execute(protocol::Request{p}, h.state).response));
    };
    auto select = prepare("SELECT * FROM t WHERE k = ? AND c = ?");
    auto insert = prepare("INSERT INTO t (k, c, v) VALUES (?, ?, ?)");
    Bytes k = i32(1), c = i32(2), v = txt("new");
    protocol::ExecuteRequest e;
    e.id = select.id;
    e.params.values = {view(k), view(c)};
    for (int repeat = 0; repeat < 2; ++repeat) {  // the second EXECUTE uses the remembered shape
        auto rows = rows_of(h.engine.execute(protocol::Request{e}, h.state));
        ASSERT_EQ(rows.size(), 1u);
        ASSERT_EQ(rows[0].size(), 4u);  // k, c, n, v
        EXPECT_EQ(as_int(rows[0][2]), 12);
        EXPECT_EQ(as_text(rows[0][3]), "v1-2");
        auto route = h.engine.route(protocol::Request{e}, h.state);
        ASSERT_TRUE(route);
        EXPECT_EQ(route->token, token_of_int(1));
    }
    h.ok("DROP TABLE t");
    h.ok("CREATE TABLE t (k int, c int, a text, PRIMARY KEY (k, c))");
    protocol::ExecuteRequest ins;
    ins.id = insert.id;
    ins.params.values = {view(k), view(c), view(v)};
    EXPECT_EQ(error_code(h.engine.execute(protocol::Request{ins}, h.state)), 0x2200);  // no column v any more
    EXPECT_FALSE(h.engine.route(protocol::Request{ins}, h.state));
    h.ok("INSERT INTO t (k, c, a) VALUES (1, 2, 'x')");
    auto result = h.engine.execute(protocol::Request{e}, h.state);
    auto rows = rows_of(result);
    ASSERT_EQ(rows.size(), 1u);
    ASSERT_EQ(rows[0].size(), 3u);  // k, c, a
    EXPECT_EQ(as_text(rows[0][2]), "x");
    EXPECT_EQ(rows_result(result)->metadata.columns.at(2).name, "a");
    h.ok("DROP TABLE t");
    EXPECT_EQ(error_code(h.engine.execute(protocol::Request{e}, h.state)), 0x2200);
    EXPECT_FALSE(h.engine.route(protocol::Request{e}, h.state));
}

TEST_F(EngineDml, Batches) {
    make_t();
    h.ok("BEGIN BATCH INSERT INTO t (k, c, v) VALUES (100, 1, 'a'); UPDATE t SET v = 'b' WHERE k = 100 AND c = 2; "
         "DELETE FROM t WHERE k = 0; APPLY BATCH");
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 100")).size(), 2u);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 0")).size(), 0u);

    protocol::PrepareRequest p;
    p.query = "INSERT INTO t (k, c, v) VALUES (?, ?, ?)";
    auto prepared = std::get<protocol::PreparedResult>(std::get<protocol::ResultResponse>(
        h.engine.execute(protocol::Request{p}, h.state).response));
    Bytes k = i32(200), c1 = i32(1), c2 = i32(2), v = txt("p");
    protocol::BatchRequest b;
    protocol::BatchStatement s1;
    s1.is_prepared = true;
    s1.id = prepared.id;
    s1.values = {view(k), view(c1), view(v)};
    protocol::BatchStatement s2;
    s2.query = "INSERT INTO t (k, c, v) VALUES (200, ?, 'q')";
    s2.values = {view(c2)};
    b.statements = {s1, s2};
    auto r = h.engine.execute(protocol::Request{b}, h.state);
    EXPECT_EQ(error_code(r), -1);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 200")).size(), 2u);
    // a bad statement rejects the whole batch before anything is applied
    protocol::BatchStatement bad;
    bad.query = "INSERT INTO t (k, c, v) VALUES (300, 1, 1)";
    protocol::BatchStatement good;
    good.query = "INSERT INTO t (k, c, v) VALUES (301, 1, 'x')";
    b.statements = {good, bad};
    EXPECT_EQ(error_code(h.engine.execute(protocol::Request{b}, h.state)), 0x2200);
    EXPECT_TRUE(rows_of(h.ok("SELECT * FROM t WHERE k = 301")).empty());
    EXPECT_EQ(error_code(h.run("BEGIN BATCH INSERT INTO t (k, c, v) VALUES (302, 1, 'x'); DELETE FROM t WHERE k = 1; "
                               "INSERT INTO t (k, c, v) VALUES (303, 1, 1); APPLY BATCH")),
              0x2200);
    EXPECT_TRUE(rows_of(h.ok("SELECT * FROM t WHERE k = 302")).empty());
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM t WHERE k = 1")).size(), 5u);
    protocol::BatchStatement sel;
    sel.query = "SELECT * FROM t";
    b.statements = {sel};
    EXPECT_EQ(error_code(h.engine.execute(protocol::Request{b}, h.state)), 0x2200);
}

TEST_F(EngineDml, SystemKeyspacesAreReadOnly) {
    EXPECT_EQ(error_code(h.run("INSERT INTO system.local (key) VALUES ('x')")), 0x2100);
    EXPECT_EQ(error_code(h.run("DROP KEYSPACE system")), 0x2100);
    EXPECT_EQ(error_code(h.run("CREATE TABLE system.x (k int PRIMARY KEY)")), 0x2100);
}

TEST_F(EngineDml, NoKeyspace) {
    Harness fresh;
    EXPECT_EQ(error_code(fresh.run("SELECT * FROM t")), 0x2200);
    EXPECT_EQ(error_code(fresh.run("CREATE TABLE t (k int PRIMARY KEY)")), 0x2200);
}

TEST_F(EngineDml, UserTypes) {
    auto created = h.ok("CREATE TYPE addr (street text, zip int)");
    ASSERT_TRUE(created.schema_event);
    EXPECT_EQ(created.schema_event->target, "TYPE");
    EXPECT_EQ(error_code(h.run("CREATE TYPE addr (x int)")), 0x2400);
    h.ok("CREATE TABLE people (k int PRIMARY KEY, a frozen<addr>)");
    h.ok("INSERT INTO people (k, a) VALUES (1, {street: 'Main', zip: 5})");
    auto r = h.ok("SELECT a FROM people WHERE k = 1");
    auto rows = rows_of(r);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(*rows[0][0], (Bytes{0, 0, 0, 4, 'M', 'a', 'i', 'n', 0, 0, 0, 4, 0, 0, 0, 5}));
    EXPECT_EQ(rows_result(r)->metadata.columns[0].type->kind, TypeKind::udt);
    EXPECT_EQ(error_code(h.run("INSERT INTO people (k, a) VALUES (2, {nosuch: 1})")), 0x2200);
    EXPECT_EQ(error_code(h.run("DROP TYPE addr")), 0x2200);  // still used by people
    h.ok("DROP TABLE people");
    EXPECT_EQ(h.ok("DROP TYPE addr").schema_event->change_type, "DROPPED");
}

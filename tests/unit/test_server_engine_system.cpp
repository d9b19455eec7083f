// Engine: system tables drivers read at connect, system_schema contents, and synthetic.rows.
#include "test_server_engine_util.hpp"

#include "protocol/murmur3.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

using namespace engine_test;

namespace {

ClusterView three_nodes() {
    ClusterView v;
    v.cluster_name = "C1";
    for (int i = 1; i <= 3; ++i) {
        NodeInfo n;
        n.id = i;
        n.address = "127.0.0." + std::to_string(i);
        n.host_id = "00000000-0000-4000-8000-00000000000" + std::to_string(i);
        n.tokens = {static_cast<std::int64_t>(i) * 1000 - 3000};
        v.nodes.push_back(n);
    }
    return v;
}

std::map<std::string, Cell> by_name(const ExecutionResult& r, const std::vector<Cell>& row) {
    std::map<std::string, Cell> out;
    const auto* rr = rows_result(r);
    for (std::size_t i = 0; i < row.size(); ++i) out[rr->metadata.columns[i].name] = row[i];
    return out;
}

double as_double(const Cell& c) {
    std::uint64_t v = 0;
    for (auto x : *c) v = (v << 8) | x;
    double d;
    std::memcpy(&d, &v, 8);
    return d;
}

}  // namespace

TEST(EngineSystem, LocalAndPeers) {
    Harness h;
    h.engine.set_cluster_view_provider(three_nodes);
    h.state.node_id = 2;
    auto local = h.ok("SELECT * FROM system.local WHERE key='local'");
    auto rows = rows_of(local);
    ASSERT_EQ(rows.size(), 1u);
    auto row = by_name(local, rows[0]);
    EXPECT_EQ(as_text(row["cluster_name"]), "C1");
    EXPECT_EQ(as_text(row["partitioner"]), "org.apache.cassandra.dht.Murmur3Partitioner");
    EXPECT_EQ(as_text(row["cql_version"]), "3.4.6");
    EXPECT_EQ(as_text(row["data_center"]), "datacenter1");
    EXPECT_EQ(*row["rpc_address"], (Bytes{127, 0, 0, 2}));
    EXPECT_EQ(row["host_id"]->size(), 16u);
    EXPECT_EQ(row["schema_version"]->size(), 16u);
    EXPECT_TRUE(row["tokens"].has_value());
    EXPECT_EQ(as_int(row["rpc_port"]), 9042);

    auto peers = h.ok("SELECT * FROM system.peers");
    auto prow = rows_of(peers);
    ASSERT_EQ(prow.size(), 2u);
    std::set<Bytes> addrs;
    for (auto& r : prow) {
        auto m = by_name(peers, r);
        addrs.insert(*m["peer"]);
        EXPECT_TRUE(m["rpc_address"] && m["host_id"] && m["data_center"] && m["rack"] && m["tokens"]);
        EXPECT_EQ(*m["schema_version"], *row["schema_version"]);
    }
    EXPECT_EQ(addrs, (std::set<Bytes>{{127, 0, 0, 1}, {127, 0, 0, 3}}));
    auto v2 = h.ok("SELECT * FROM system.peers_v2");
    auto v2rows = rows_of(v2);
    ASSERT_EQ(v2rows.size(), 2u);
    EXPECT_EQ(as_int(by_name(v2, v2rows[0])["native_port"]), 9042);
    auto few = rows_of(h.ok("SELECT peer, rpc_address, schema_version FROM system.peers"));
    EXPECT_EQ(few[0].size(), 3u);
    EXPECT_EQ(rows_of(h.ok("SELECT schema_version FROM system.local WHERE key='local'")).size(), 1u);
}

TEST(EngineSystem, SchemaTablesFollowDdl) {
    Harness h;
    h.ok("CREATE KEYSPACE app WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '2'}");
    h.ok("CREATE TABLE app.t (k int, c text, v list<int>, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)");
    h.ok("CREATE TYPE app.addr (street text, zip int)");
    auto ks = h.ok("SELECT * FROM system_schema.keyspaces");
    std::set<std::string> names;
    for (auto& r : rows_of(ks)) names.insert(as_text(by_name(ks, r)["keyspace_name"]));
    for (const char* n : {"app", "system", "system_schema", "system_auth", "system_distributed", "system_traces"})
        EXPECT_TRUE(names.count(n)) << n;
    auto one = h.ok("SELECT * FROM system_schema.keyspaces WHERE keyspace_name = 'app'");
    ASSERT_EQ(rows_of(one).size(), 1u);
    auto tables = h.ok("SELECT * FROM system_schema.tables WHERE keyspace_name = 'app'");
    auto trows = rows_of(tables);
    ASSERT_EQ(trows.size(), 1u);
    EXPECT_EQ(as_text(by_name(tables, trows[0])["table_name"]), "t");
    EXPECT_EQ(by_name(tables, trows[0])["id"]->size(), 16u);
    auto cols = h.ok("SELECT * FROM system_schema.columns WHERE keyspace_name = 'app' AND table_name = 't'");
    std::map<std::string, std::map<std::string, Cell>> by_col;
    for (auto& r : rows_of(cols)) {
        auto m = by_name(cols, r);
        by_col[as_text(m["column_name"])] = m;
    }
    ASSERT_EQ(by_col.size(), 3u);
    EXPECT_EQ(as_text(by_col["k"]["kind"]), "partition_key");
    EXPECT_EQ(as_int(by_col["k"]["position"]), 0);
    EXPECT_EQ(as_text(by_col["c"]["kind"]), "clustering");
    EXPECT_EQ(as_text(by_col["c"]["clustering_order"]), "desc");
    EXPECT_EQ(as_text(by_col["v"]["kind"]), "regular");
    EXPECT_EQ(as_int(by_col["v"]["position"]), -1);
    EXPECT_EQ(as_text(by_col["v"]["type"]), "list<int>");
    auto types = rows_of(h.ok("SELECT * FROM system_schema.types WHERE keyspace_name = 'app'"));
    EXPECT_EQ(types.size(), 1u);
    for (const char* t : {"functions", "aggregates", "triggers", "indexes", "views"})
        EXPECT_EQ(error_code(h.run(std::string("SELECT * FROM system_schema.") + t)), -1) << t;
    for (const char* t : {"keyspaces", "tables", "columns"})
        EXPECT_EQ(error_code(h.run(std::string("SELECT * FROM system_virtual_schema.") + t)), -1) << t;
    // system tables describe themselves
    EXPECT_FALSE(rows_of(h.ok("SELECT * FROM system_schema.columns WHERE keyspace_name = 'system' AND table_name = 'local'")).empty());
    h.ok("DROP TABLE app.t");
    EXPECT_TRUE(rows_of(h.ok("SELECT * FROM system_schema.tables WHERE keyspace_name = 'app'")).empty());
}

TEST(EngineSynthetic, FormulasAndShape) {
    EngineConfig cfg;
    cfg.synthetic_rows = 1050;  // 11 partitions, the last one with 50 rows
    Harness h(cfg);
    auto r = h.ok("SELECT pk, ck, name, value, ts FROM synthetic.rows WHERE pk = 7 AND ck = 3");
    auto rows = rows_of(r);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(as_int(rows[0][0]), 7);
    EXPECT_EQ(as_int(rows[0][1]), 3);
    EXPECT_EQ(as_text(rows[0][2]), "name-7-3");
    EXPECT_DOUBLE_EQ(as_double(rows[0][3]), 7 * 0.5 + 3);
    EXPECT_EQ(as_int(rows[0][4]), 1700000000000 + 7 * 1000 + 3);
    EXPECT_EQ(as_int(rows_of(h.ok("SELECT COUNT(*) FROM synthetic.rows"))[0][0]), 1050);
    EXPECT_EQ(as_int(rows_of(h.ok("SELECT COUNT(*) FROM synthetic.rows WHERE pk = 10"))[0][0]), 50);
    EXPECT_EQ(as_int(rows_of(h.ok("SELECT COUNT(*) FROM synthetic.rows LIMIT 77"))[0][0]), 77);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM synthetic.rows WHERE pk = 11")).size(), 0u);
    EXPECT_EQ(rows_of(h.ok("SELECT * FROM synthetic.rows WHERE pk IN (1, 2) AND ck >= 10 AND ck < 20")).size(), 20u);
    auto desc = rows_of(h.ok("SELECT ck FROM synthetic.rows WHERE pk = 1 ORDER BY ck DESC LIMIT 3"));
    ASSERT_EQ(desc.size(), 3u);
    EXPECT_EQ(as_int(desc[0][0]), 99);
    EXPECT_EQ(error_code(h.run("INSERT INTO synthetic.rows (pk, ck) VALUES (1, 1)")), 0x2200);
    // SELECT * column order: keys, then the rest by name
    auto star = h.ok("SELECT * FROM synthetic.rows LIMIT 1");
    const auto& cols = rows_result(star)->metadata.columns;
    ASSERT_EQ(cols.size(), 5u);
    EXPECT_EQ(cols[2].name, "name");
    EXPECT_EQ(cols[3].name, "ts");
    EXPECT_EQ(cols[4].name, "value");
    auto tables = rows_of(h.ok("SELECT * FROM system_schema.tables WHERE keyspace_name = 'synthetic'"));
    EXPECT_EQ(tables.size(), 1u);
}

TEST(EngineSynthetic, FullScanPagedAndByTokenRange) {
    EngineConfig cfg;
    cfg.synthetic_rows = 2345;
    Harness h(cfg);
    std::set<std::pair<std::int64_t, std::int64_t>> seen;
    std::optional<Bytes> state;
    std::int64_t last_token = std::numeric_limits<std::int64_t>::min();
    for (int i = 0; i < 1000; ++i) {
        auto r = h.run("SELECT pk, ck, token(pk) FROM synthetic.rows", {}, 100,
                       state ? std::optional<BytesView>(BytesView(*state)) : std::nullopt);
        for (auto& row : rows_of(r)) {
            EXPECT_TRUE(seen.emplace(as_int(row[0]), as_int(row[1])).second) << "duplicate row";
            EXPECT_LE(last_token, as_int(row[2]));
            last_token = as_int(row[2]);
            EXPECT_EQ(as_int(row[2]), protocol::murmur3_token(i64(as_int(row[0]))));
        }
        if (!rows_result(r)->metadata.paging_state) break;
        state = *rows_result(r)->metadata.paging_state;
    }
    EXPECT_EQ(seen.size(), 2345u);
    // Two token ranges cover the ring exactly once.
    Bytes mid = i64(0);
    auto a = rows_of(h.run("SELECT COUNT(*) FROM synthetic.rows WHERE token(pk) <= ?", {view(mid)}));
    auto b = rows_of(h.run("SELECT COUNT(*) FROM synthetic.rows WHERE token(pk) > ?", {view(mid)}));
    EXPECT_EQ(as_int(a[0][0]) + as_int(b[0][0]), 2345);
    // LIMIT across pages
    std::int64_t total = 0;
    state.reset();
    for (int i = 0; i < 100; ++i) {
        auto r = h.run("SELECT pk FROM synthetic.rows LIMIT 250", {}, 64,
                       state ? std::optional<BytesView>(BytesView(*state)) : std::nullopt);
        total += rows_result(r)->row_count;
        if (!rows_result(r)->metadata.paging_state) break;
        state = *rows_result(r)->metadata.paging_state;
    }
    EXPECT_EQ(total, 250);
}

TEST(EngineSynthetic, EncodingRate) {
    EngineConfig cfg;
    cfg.synthetic_rows = 2'000'000;
    Harness h(cfg);
    std::int64_t rows = 0;
    std::optional<Bytes> state;
    auto start = std::chrono::steady_clock::now();
    for (;;) {
        auto r = h.run("SELECT * FROM synthetic.rows", {}, 5000,
                       state ? std::optional<BytesView>(BytesView(*state)) : std::nullopt);
        const auto* rr = rows_result(r);
        ASSERT_NE(rr, nullptr);
        rows += rr->row_count;
        if (!rr->metadata.paging_state) break;
        state = *rr->metadata.paging_state;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(rows, 2'000'000);
    std::printf("synthetic page encoding: %lld rows in %.3f s = %.2f M rows/s\n", static_cast<long long>(rows), secs,
                static_cast<double>(rows) / secs / 1e6);
}

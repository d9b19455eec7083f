// Engine robustness: mangled statements, bound values and paging states become ERROR responses
// (never crashes), and concurrent connections can read and write at the same time.
#include "test_server_engine_util.hpp"

#include <random>
#include <thread>

using namespace engine_test;

namespace {

const char* const kStatements[] = {
    "CREATE TABLE t2 (k int, c text, v map<text, frozen<list<int>>>, PRIMARY KEY ((k), c)) WITH CLUSTERING ORDER BY (c DESC)",
    "INSERT INTO t (k, c, v) VALUES (1, 2, 'x') IF NOT EXISTS USING TTL 5",
    "UPDATE t SET v = 'y', n = n WHERE k IN (1, 2) AND c = 3 IF EXISTS",
    "SELECT k, c, count(*), token(k), writetime(v) AS w FROM ks.t WHERE token(k) > -5 AND token(k) <= ? LIMIT 3",
    "SELECT * FROM t WHERE k = 1 AND c >= 1 AND c < 4 ORDER BY c ASC PER PARTITION LIMIT 1 ALLOW FILTERING",
    "BEGIN UNLOGGED BATCH USING TIMESTAMP 5 INSERT INTO t (k, c) VALUES (1, 1); DELETE v FROM t WHERE k = 1 AND c = 1; APPLY BATCH",
    "INSERT INTO t (k, c, v) VALUES (7, 8, $$a'b$$) -- comment",
    "SELECT * FROM system_schema.columns WHERE keyspace_name = 'ks' AND table_name = 't'",
    "INSERT INTO t (k, c, v) VALUES (1, 1, '{[(0x1f, 1.5e3, -2, 123e4567-e89b-12d3-a456-426614174000, 1h2m)]}')",
};

struct EngineRobustness : ::testing::Test {
    Harness h;
    void SetUp() override {
        h.ok("CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        h.ok("USE ks");
        h.ok("CREATE TABLE t (k int, c int, v text, n int, PRIMARY KEY (k, c))");
        for (int i = 0; i < 20; ++i) h.ok("INSERT INTO t (k, c, v) VALUES (" + std::to_string(i % 4) + ", " + std::to_string(i) + ", 'v')");
    }
};

bool is_response(const ExecutionResult& r) {
    // Either an error with a message, or a result; both are fine, a crash is not.
    if (const auto* e = error_of(r)) return !e->message.empty();
    return std::holds_alternative<protocol::ResultResponse>(r.response);
}

}  // namespace

TEST_F(EngineRobustness, TruncatedAndMutatedStatements) {
    std::mt19937 rng(12345);
    const std::string junk = "()[]{},;:?'\"$-+*=<>.0x19aZ_ \n";
    int errors = 0;
    for (const char* s : kStatements) {
        std::string text(s);
        for (std::size_t cut = 0; cut <= text.size(); ++cut) {
            auto r = h.run(text.substr(0, cut), {});
            EXPECT_TRUE(is_response(r));
            errors += error_of(r) != nullptr;
        }
        for (int round = 0; round < 300; ++round) {
            std::string m = text;
            int edits = 1 + static_cast<int>(rng() % 4);
            for (int e = 0; e < edits; ++e) m[rng() % m.size()] = junk[rng() % junk.size()];
            EXPECT_TRUE(is_response(h.run(m, {})));
        }
    }
    EXPECT_GT(errors, 0);
}

TEST_F(EngineRobustness, BadBoundValuesAndPagingStates) {
    std::mt19937 rng(7);
    for (int round = 0; round < 500; ++round) {
        Bytes a(rng() % 12), b(rng() % 12);
        for (auto& x : a) x = static_cast<std::uint8_t>(rng());
        for (auto& x : b) x = static_cast<std::uint8_t>(rng());
        EXPECT_TRUE(is_response(h.run("SELECT * FROM t WHERE k = ? AND c > ?", {view(a), view(b)})));
        EXPECT_TRUE(is_response(h.run("INSERT INTO t (k, c, v) VALUES (?, ?, 'x')", {view(a), view(b)})));
        EXPECT_TRUE(is_response(h.run("SELECT * FROM t", {}, 3, BytesView(a))));
        EXPECT_TRUE(is_response(h.run("SELECT * FROM t WHERE k IN ?", {view(a)})));
    }
    // Every truncation of a real paging state is rejected.
    auto first = h.run("SELECT * FROM t", {}, 3);
    ASSERT_TRUE(rows_result(first) && rows_result(first)->metadata.paging_state);
    Bytes state = *rows_result(first)->metadata.paging_state;
    // (An empty state means "first page", like an absent one.)
    for (std::size_t cut = 1; cut < state.size(); ++cut)
        EXPECT_EQ(error_code(h.run("SELECT * FROM t", {}, 3, BytesView(state.data(), cut))), 0x2200);
    // Unsupported requests get a protocol error.
    EXPECT_EQ(error_code(h.engine.execute(protocol::Request{protocol::OptionsRequest{}}, h.state)), 0x000A);
}

TEST_F(EngineRobustness, ConcurrentReadersAndWriters) {
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int w = 0; w < 4; ++w) {
        threads.emplace_back([&, w] {
            ConnectionState st;
            st.keyspace = "ks";
            st.node_id = w + 1;
            for (int i = 0; i < 200; ++i) {
                std::string q = w % 2 ? "SELECT * FROM t WHERE k = 1"
                                      : "INSERT INTO t (k, c, v) VALUES (" + std::to_string(100 + w) + ", " + std::to_string(i) + ", 'x')";
                protocol::QueryRequest req;
                req.query = q;
                auto r = h.engine.execute(protocol::Request{req}, st);
                if (error_of(r)) ++failures;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(as_int(rows_of(h.ok("SELECT COUNT(*) FROM t WHERE k = 100"))[0][0]), 200);
}

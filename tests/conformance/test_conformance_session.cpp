// Conformance of the session and streaming layers with what real servers send, v4 and v5. The
// scripted server (tests/integration/fake_server.hpp) does the handshake; every answer under test
// is an envelope written by hand here:
//   - body prefix order tracing id, warnings, custom payload ([spec4] 2.2 flags 0x02/0x08/0x04;
//     apache/cassandra src/java/org/apache/cassandra/transport/Envelope.java and
//     Message.ProtocolEncoder.encode(), which writes tracing id, warnings, custom payload);
//   - warning texts as Cassandra words them (apache/cassandra ClientWarn users:
//     ReadCommand's tombstone warning, BatchStatement's unlogged-batch size warning);
//   - Rows with METADATA_CHANGED ([spec5] 4.2.5.2; ResultSet.ResultMetadata.codec encode()).

#include "integration/fake_server.hpp"
#include "support/embedded_server.hpp"
#include "support/run_coroutine.hpp"
#include "unit/test_messages_support.hpp"
#include "protocol/bytes.hpp"

#include <async_cassandra/async_cassandra.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

using namespace async_cassandra;
using namespace async_cassandra::testing;
using namespace std::chrono_literals;
using acass_test::Golden;
using acass_test::run;

namespace {

using Bytes = protocol::Bytes;

const std::string kTombstones =
    "Read 2 live rows and 1500 tombstone cells for query SELECT v FROM ks.t LIMIT 5000 (see "
    "tombstone_warn_threshold)";

Bytes envelope(const RequestInfo& info, std::uint8_t flags, std::uint8_t opcode, const Bytes& body) {
    Golden g;
    g.u8(static_cast<std::uint8_t>(0x80 | info.header.version)).u8(flags).u16(static_cast<std::uint16_t>(info.header.stream));
    g.u8(opcode).i32(static_cast<std::int32_t>(body.size())).raw(body);
    return g.build();
}

/// Rows of one varchar column v of ks.t ([spec4] 4.2.5.2, global table spec), optionally with a
/// paging state.
Bytes rows_body(const std::vector<std::string>& values, const std::optional<std::string>& paging) {
    Golden g;
    g.i32(2).i32(0x0001 | (paging ? 0x0002 : 0)).i32(1);
    if (paging) g.bytes(Bytes(paging->begin(), paging->end()));
    g.str("ks").str("t").str("v").u16(0x000D);
    g.i32(static_cast<std::int32_t>(values.size()));
    for (const auto& v : values) g.bytes(Bytes(v.begin(), v.end()));
    return g.build();
}

/// The paging state sent with a QUERY, if any (<query_parameters> of [spec4] 4.1.4).
std::optional<std::string> paging_state_of(const RequestInfo& info) {
    auto* q = std::get_if<protocol::QueryRequest>(&info.request);
    if (!q || !q->params.paging_state) return std::nullopt;
    return std::string(q->params.paging_state->begin(), q->params.paging_state->end());
}

ClusterConfig config_for(const FakeServer& server, int version) {
    ClusterConfig c;
    c.contact_points = {"127.0.0.1"};
    c.port = server.port();
    c.connection.protocol_version = version;
    c.request_timeout = 5s;
    return c;
}

struct Observer : RequestObserver {
    void on_request(const RequestEvent& e) noexcept override {
        std::lock_guard lock(mutex);
        for (const auto& w : e.warnings) warnings.push_back(w);
    }
    std::mutex mutex;
    std::vector<std::string> warnings;
};

class Session_ : public ::testing::TestWithParam<int> {};

}  // namespace

// Must show: a warning reaches the Page of a stream. Page 1 carries the tombstone warning
// (WARNING flag), page 2 a tracing id and a custom payload; ResultSet, the request observer and
// the log sink see the warning too.
TEST_P(Session_, WarningsTracingAndPayloadReachEveryPage) {
    FakeServer server([](const RequestInfo& info) {
        Action a;
        if (!std::holds_alternative<protocol::QueryRequest>(info.request)) return a;
        if (!paging_state_of(info)) {
            Bytes body = Golden().u16(1).str(kTombstones).build();  // [string list]
            Bytes rows = rows_body({"a", "b"}, "p1");
            body.insert(body.end(), rows.begin(), rows.end());
            a.raw_envelope = envelope(info, 0x08, 0x08, body);
        } else {
            Golden prefix;
            prefix.raw({0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00});
            prefix.u16(1).str("server").bytes({'n', 'o', 'd', 'e', '1'});  // [bytes map]
            Bytes body = prefix.build();
            Bytes rows = rows_body({"c"}, std::nullopt);
            body.insert(body.end(), rows.begin(), rows.end());
            a.raw_envelope = envelope(info, 0x02 | 0x04, 0x08, body);
        }
        return a;
    });
    auto observer = std::make_shared<Observer>();
    auto logged = std::make_shared<std::vector<std::string>>();
    auto log_mutex = std::make_shared<std::mutex>();
    run([&](auto ex) -> asio::awaitable<void> {
        ClusterConfig cfg = config_for(server, GetParam());
        cfg.observer = observer;
        cfg.log_sink = [logged, log_mutex](LogLevel level, std::string_view message) {
            std::lock_guard lock(*log_mutex);
            if (level == LogLevel::warn) logged->emplace_back(message);
        };
        Cluster cluster(ex, cfg);
        Session session = co_await cluster.connect();
        // An explicit ConnectionConfig::protocol_version is the one reported.
        EXPECT_EQ(cluster.protocol_version(), GetParam());
        EXPECT_EQ(session.protocol_version(), GetParam());
        EXPECT_EQ(Session().protocol_version(), std::nullopt);

        StreamConfig sc;
        sc.fetch_size = 2;
        auto stream = co_await execute_stream(session, Statement("SELECT v FROM ks.t"), sc);
        auto page1 = co_await stream.next_page();
        EXPECT_TRUE(page1);
        if (!page1) co_return;
        EXPECT_EQ(page1->size(), 2u);
        EXPECT_EQ(page1->warnings(), std::vector<std::string>{kTombstones});
        EXPECT_FALSE(page1->tracing_id());
        auto page2 = co_await stream.next_page();
        EXPECT_TRUE(page2);
        if (!page2) co_return;
        EXPECT_TRUE(page2->warnings().empty());
        EXPECT_TRUE(page2->tracing_id());
        if (page2->tracing_id()) {
            EXPECT_EQ((*page2->tracing_id())[0], 0x11);
        }
        const auto& payload = page2->response_info().custom_payload;
        EXPECT_EQ(payload.count("server"), 1u);
        if (payload.count("server")) {
            EXPECT_EQ(*payload.at("server"), (std::vector<std::uint8_t>{'n', 'o', 'd', 'e', '1'}));
        }
        EXPECT_FALSE(co_await stream.next_page());

        ResultSet rs = co_await session.execute(Statement("SELECT v FROM ks.t"));
        EXPECT_EQ(rs.size(), 3u);
        EXPECT_EQ(rs.warnings(), std::vector<std::string>{kTombstones});
        EXPECT_TRUE(rs.tracing_id());
        EXPECT_EQ(rs.custom_payload().count("server"), 1u);
        EXPECT_EQ(rs.pages().front().warnings(), std::vector<std::string>{kTombstones});
        co_await session.shutdown();
    });
    {
        std::lock_guard lock(observer->mutex);
        EXPECT_EQ(observer->warnings, (std::vector<std::string>{kTombstones, kTombstones}));
    }
    std::lock_guard lock(*log_mutex);
    bool seen = false;
    for (const auto& m : *logged) seen |= m.find(kTombstones) != std::string::npos;
    EXPECT_TRUE(seen);
}

// Warnings and the tracing id of an ERROR reach the ServerError (Cassandra sends the WARNING flag
// on ERROR bodies too, e.g. an unlogged batch over batch_size_warn_threshold that then fails).
TEST_P(Session_, ServerErrorCarriesWarnings) {
    const std::string warning =
        "Unlogged batch covering 12 partitions detected against table [ks.t]. You should use a logged batch "
        "for atomicity, or asynchronous writes for performance.";
    FakeServer server([&](const RequestInfo& info) {
        Action a;
        Bytes body = Golden().u16(1).str(warning).i32(0x1001).str("Server is overloaded").build();
        a.raw_envelope = envelope(info, 0x08, 0x00, body);
        return a;
    });
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server, GetParam()));
        Session session = co_await cluster.connect();
        bool thrown = false;
        try {
            co_await session.execute(Statement("INSERT INTO ks.t (k) VALUES (1)"));
        } catch (const Overloaded& e) {
            thrown = true;
            EXPECT_EQ(e.warnings(), std::vector<std::string>{warning});
        }
        EXPECT_TRUE(thrown);
        co_await session.shutdown();
    });
}

// An EXECUTE of a prepared SELECT answered with another statement's Rows (the server mixed up
// stream ids, the answers in different reads): Rows of another table, detectable in v4 and v5
// (the result of a prepared SELECT comes from its table: apache/cassandra SelectStatement,
// ResultSet.ResultMetadata), and in v5 Rows of the same table with another column count and no
// METADATA_CHANGED ([spec5] 4.2.5.2: the result metadata id the request carries fixes the
// columns). The wrong rows never reach the caller: the connection closes as on a lost byte
// stream, the request fails as on connection loss, and the next execution gets the right rows.
TEST_P(Session_, ExecuteAnsweredWithAnotherStatementsRowsIsNeverDelivered) {
    const int v = GetParam();
    for (const bool same_table : {false, true}) {
        if (same_table && v == 4) continue;  // v4: another client may re-prepare the id with new columns
        std::atomic<int> executes{0};
        FakeServer server([&](const RequestInfo& info) {
            Action a;
            if (std::holds_alternative<protocol::PrepareRequest>(info.request)) {
                // Prepared ([spec4]/[spec5] 4.2.5.4): id, (v5: result_metadata_id), no bind
                // markers, result metadata ks.t (v varchar).
                Golden g;
                g.i32(4).sbytes({'P'});
                if (info.header.version == 5) g.sbytes({'m', '1'});
                g.i32(0x0001).i32(0).i32(0).str("ks").str("t");
                g.i32(0x0001).i32(1).str("ks").str("t").str("v").u16(0x000D);
                a.raw_envelope = envelope(info, 0, 0x08, g.build());
                return a;
            }
            if (!std::holds_alternative<protocol::ExecuteRequest>(info.request)) return a;
            Golden g;
            g.i32(2);
            if (executes++ == 0) {  // another statement's answer
                if (same_table) g.i32(0x0001).i32(2).str("ks").str("t").str("v").u16(0x000D).str("w").u16(0x000D);
                else g.i32(0x0001).i32(2).str("ks").str("other").str("v").u16(0x000D).str("w").u16(0x000D);
                g.i32(1).bytes({'x'}).bytes({'y'});
            } else {
                g.i32(0x0001).i32(1).str("ks").str("t").str("v").u16(0x000D).i32(1).bytes({'a'});
            }
            a.raw_envelope = envelope(info, 0, 0x08, g.build());
            return a;
        });
        run([&](auto ex) -> asio::awaitable<void> {
            Cluster cluster(ex, config_for(server, v));
            Session session = co_await cluster.connect();
            PreparedStatement p = co_await session.prepare("SELECT v FROM ks.t");
            BoundStatement bound = p.bind();
            bound.set_idempotent();
            std::string error;
            try {
                ResultSet wrong = co_await session.execute(bound);
                ADD_FAILURE() << "another statement's rows were delivered: " << wrong.size() << " rows, "
                              << wrong.columns().size() << " columns";
            } catch (const Error& e) {
                error = e.what();
            }
            EXPECT_NE(error.find("stream ids mixed up"), std::string::npos) << error;
            ResultSet right = co_await session.execute(bound);  // a fresh connection
            EXPECT_EQ(right.size(), 1u);
            if (right.size() == 1) {
                EXPECT_EQ(right.at(0).get<std::string_view>(0), "a");
            }
            co_await session.shutdown();
        });
        EXPECT_GE(executes.load(), 2) << (same_table ? "same table" : "other table");
    }
}

INSTANTIATE_TEST_SUITE_P(V4AndV5, Session_, ::testing::Values(4, 5), [](const auto& info) {
    return "v" + std::to_string(info.param);
});

// [spec5] 4.2.5.2: a page of a prepared statement's stream may announce METADATA_CHANGED with the
// new result metadata id and metadata (the table was altered between pages); the stream decodes
// the new columns and later EXECUTEs carry the new id.
TEST(SessionV5, MetadataChangedMidStream) {
    std::mutex mutex;
    std::vector<std::string> ids_seen;
    FakeServer server([&](const RequestInfo& info) {
        Action a;
        if (std::holds_alternative<protocol::PrepareRequest>(info.request)) {
            // Prepared ([spec5] 4.2.5.4): id, result_metadata_id, bind metadata (none), result metadata.
            Bytes body = Golden().i32(4).sbytes({'P'}).sbytes({'m', '1'})
                             .i32(0x0001).i32(0).i32(0).str("ks").str("t")
                             .i32(0x0001).i32(1).str("ks").str("t").str("v").u16(0x000D)
                             .build();
            a.raw_envelope = envelope(info, 0, 0x08, body);
            return a;
        }
        auto* e = std::get_if<protocol::ExecuteRequest>(&info.request);
        if (!e) return a;
        const std::string id(e->result_metadata_id.begin(), e->result_metadata_id.end());
        const bool first = !e->params.paging_state;
        {
            std::lock_guard lock(mutex);
            ids_seen.push_back(id);
        }
        Golden g;
        g.i32(2);
        if (first) {  // page 1: old metadata (one column), more pages
            g.i32(0x0001 | 0x0002).i32(1).bytes({'p', '1'}).str("ks").str("t").str("v").u16(0x000D);
            g.i32(1).bytes({'a'});
        } else if (id == "m1") {  // page 2: the table gained column w
            g.i32(0x0001 | 0x0002 | 0x0008).i32(2).bytes({'p', '2'}).sbytes({'m', '2'});
            g.str("ks").str("t").str("v").u16(0x000D).str("w").u16(0x0009);
            g.i32(1).bytes({'b'}).bytes({0, 0, 0, 7});
        } else {  // page 3, asked with the new id: metadata as known
            g.i32(0x0001).i32(2).str("ks").str("t").str("v").u16(0x000D).str("w").u16(0x0009);
            g.i32(1).bytes({'c'}).bytes({0, 0, 0, 8});
        }
        a.raw_envelope = envelope(info, 0, 0x08, g.build());
        return a;
    });
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server, 5));
        Session session = co_await cluster.connect();
        PreparedStatement p = co_await session.prepare("SELECT * FROM ks.t");
        StreamConfig sc;
        sc.fetch_size = 1;
        auto stream = co_await execute_stream(session, p.bind(), sc);
        std::vector<std::string> cells;
        while (auto page = co_await stream.next_page()) {
            for (Row r : *page) {
                std::string cell(r.get<std::string_view>(0));
                if (page->columns().size() == 2) cell += "/" + std::to_string(r.get<std::int32_t>(1));
                cells.push_back(cell);
            }
        }
        EXPECT_EQ(cells, (std::vector<std::string>{"a", "b/7", "c/8"}));
        co_await session.shutdown();
    });
    EXPECT_EQ(ids_seen, (std::vector<std::string>{"m1", "m1", "m2"}));
}

// [spec5] 4.1.4 flag 0x02 and 4.2.5.2: with v5, an EXECUTE whose result metadata the client has
// (from PREPARED) asks for rows without it (skip_metadata), and the rows are read with the
// prepared columns; the result metadata id lets the node announce a change (METADATA_CHANGED,
// test above). v4 has no such id, so there every EXECUTE asks for the metadata.
class SkipMetadata : public ::testing::TestWithParam<int> {};

TEST_P(SkipMetadata, ExecuteAsksForRowsWithoutMetadataOnlyWithV5) {
    const int version = GetParam();
    std::atomic<int> executes{0}, skipped{0};
    FakeServer server([&](const RequestInfo& info) {
        Action a;
        if (std::holds_alternative<protocol::PrepareRequest>(info.request)) {
            Golden g;
            g.i32(4).sbytes({'P'});
            if (version == 5) g.sbytes({'m', '1'});
            g.i32(0x0001).i32(0).i32(0).str("ks").str("t");                          // no bind markers
            g.i32(0x0001).i32(1).str("ks").str("t").str("v").u16(0x000D);            // result: v text
            a.raw_envelope = envelope(info, 0, 0x08, g.build());
            return a;
        }
        auto* e = std::get_if<protocol::ExecuteRequest>(&info.request);
        if (!e) return a;
        ++executes;
        Golden g;
        g.i32(2);
        if (e->params.skip_metadata) {
            ++skipped;
            g.i32(0x0004).i32(1);  // NO_METADATA, one column
        } else {
            g.i32(0x0001).i32(1).str("ks").str("t").str("v").u16(0x000D);
        }
        g.i32(1).bytes({'a'});
        a.raw_envelope = envelope(info, 0, 0x08, g.build());
        return a;
    });
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, config_for(server, version));
        Session session = co_await cluster.connect();
        PreparedStatement p = co_await session.prepare("SELECT v FROM ks.t");
        for (int i = 0; i < 2; ++i) {
            ResultSet rs = co_await session.execute(p.bind());
            EXPECT_EQ(rs.size(), 1u);
            for (const Row& r : rs) EXPECT_EQ(r.get<std::string_view>(0), "a");
        }
        co_await session.shutdown();
    });
    EXPECT_EQ(executes.load(), 2);
    EXPECT_EQ(skipped.load(), version == 5 ? 2 : 0);
}

INSTANTIATE_TEST_SUITE_P(V4AndV5, SkipMetadata, ::testing::Values(4, 5), [](const auto& info) {
    return "v" + std::to_string(info.param);
});

// Must show: `acass` prints a server warning to stderr once per distinct text, and the data on
// stdout stays clean. Pages 1 and 2 carry the same tombstone warning, page 3 another one.
class AcassCli : public ::testing::TestWithParam<int> {};

TEST_P(AcassCli, WarningsGoToStderrOncePerText) {
    const std::string other = "Aggregation query used without partition key";
    FakeServer server([&](const RequestInfo& info) {
        Action a;
        if (!std::holds_alternative<protocol::QueryRequest>(info.request)) return a;
        const auto state = paging_state_of(info);
        const std::string warning = state == "p2" ? other : kTombstones;
        Bytes body = Golden().u16(1).str(warning).build();
        Bytes rows = !state ? rows_body({"a"}, "p1") : state == "p1" ? rows_body({"b"}, "p2") : rows_body({"c"}, std::nullopt);
        body.insert(body.end(), rows.begin(), rows.end());
        a.raw_envelope = envelope(info, 0x08, 0x08, body);
        return a;
    });
    const std::string dir = ::testing::TempDir();
    const std::string v = std::to_string(GetParam());
    const std::string out = dir + "/acass_warnings_v" + v + ".out", err = dir + "/acass_warnings_v" + v + ".err";
    const std::string cmd = std::string(ACASS_BINARY_DIR) + "/bin/acass query --port " + std::to_string(server.port()) +
                            " --protocol-version " + v + " -f csv --fetch-size 1 \"SELECT v FROM ks.t\" >" + out +
                            " 2>" + err;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    auto slurp = [](const std::string& path) {
        std::string s;
        if (FILE* f = std::fopen(path.c_str(), "r")) {
            char buf[4096];
            for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
            std::fclose(f);
        }
        return s;
    };
    EXPECT_EQ(slurp(out), "v\na\nb\nc\n");
    const std::string errors = slurp(err);
    auto count = [&](const std::string& needle) {
        std::size_t n = 0;
        for (std::size_t at = errors.find(needle); at != std::string::npos; at = errors.find(needle, at + 1)) ++n;
        return n;
    };
    EXPECT_EQ(count(kTombstones), 1u) << errors;
    EXPECT_EQ(count(other), 1u) << errors;
}

INSTANTIATE_TEST_SUITE_P(V4AndV5, AcassCli, ::testing::Values(4, 5), [](const auto& info) {
    return "v" + std::to_string(info.param);
});

// Must show: a cluster of v4-only nodes opens N connections with N handshakes, not 2N. The
// version is negotiated once per cluster (the control connection's first attempt is the only one
// refused) and every pool connection opens with v4 directly. Counted on the nodes: connections
// accepted, against the same cluster that accepts v5 (no refusal at all).
TEST(Negotiation, V4OnlyClusterPaysOneRefusalNotOnePerConnection) {
    constexpr int kNodes = 3;
    constexpr std::size_t kPerHost = 3;
    std::optional<int> negotiated;  // Cluster::protocol_version() of the last run
    auto accepted = [&](const std::string& emulate) {
        server::net::ClusterOptions options;
        options.port = 0;
        options.nodes = kNodes;
        options.emulate = emulate;
        server::net::Cluster server(options);
        server.start();
        run([&](auto ex) -> asio::awaitable<void> {
            ClusterConfig cfg = acass_test::config_for_all_nodes(server);
            cfg.connections_per_host = kPerHost;
            Cluster cluster(ex, cfg);
            EXPECT_EQ(cluster.protocol_version(), std::nullopt) << "nothing negotiated before connect()";
            Session session = co_await cluster.connect();
            negotiated = cluster.protocol_version();
            EXPECT_EQ(session.protocol_version(), negotiated);
            for (int i = 0; i < 30; ++i) {
                ResultSet rs = co_await session.execute(Statement("SELECT release_version FROM system.local"));
                EXPECT_EQ(rs.size(), 1u);
            }
            // Pools fill in the background: wait until every slot has been opened.
            asio::steady_timer timer(ex);
            for (int waited = 0; waited < 500; ++waited) {
                std::uint64_t open = 0;
                for (int n = 1; n <= kNodes; ++n) open += server.stats(n).open_connections;
                if (open >= 1 + kNodes * kPerHost) break;
                timer.expires_after(10ms);
                co_await timer.async_wait(asio::use_awaitable);
            }
            co_await session.shutdown();
        });
        std::uint64_t total = 0;
        for (int n = 1; n <= kNodes; ++n) total += server.stats(n).connections;
        server.stop();
        return total;
    };
    const std::uint64_t native = accepted("");
    EXPECT_EQ(negotiated, 5) << "a v5-capable cluster negotiates v5";
    const std::uint64_t v4_only = accepted("cassandra-3.11");
    EXPECT_EQ(negotiated, 4) << "a v4-only cluster (emulated Cassandra 3.11) negotiates v4";
    // The control connection and every pool slot (at least; a pool may have reopened a slot).
    EXPECT_GE(native, 1 + kNodes * kPerHost);
    EXPECT_EQ(v4_only, native + 1) << "v4-only cluster: " << v4_only << " connections, v5-capable: " << native;
}

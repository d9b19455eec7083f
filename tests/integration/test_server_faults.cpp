// Fault injection of acass-server and the per-node request counters, plus the SCHEMA_CHANGE
// event pushed after DDL. Each test starts its own cluster on a free port.
#include "server/net/cluster.hpp"
#include "test_server_raw_client.hpp"

#include <gtest/gtest.h>

namespace {

using namespace acass_test;
using async_cassandra::Consistency;
using async_cassandra::ServerErrorCode;
namespace net = async_cassandra::server::net;
using p::ProtocolVersion;
using namespace std::chrono_literals;

constexpr std::string_view kLocal = "SELECT * FROM system.local WHERE key='local'";
constexpr std::string_view kSynthetic = "SELECT * FROM synthetic.rows";

std::unique_ptr<net::Cluster> start_cluster(net::ClusterOptions o = {}) {
    o.port = 0;
    if (o.synthetic_rows == 0) o.synthetic_rows = 100;
    auto c = std::make_unique<net::Cluster>(std::move(o));
    c->start();
    return c;
}

RawClient ready_client(net::Cluster& c, ProtocolVersion v = ProtocolVersion::v4, int node = 1) {
    RawClient r(c.address(node), c.port());
    r.startup(v);
    return r;
}

const p::RowsResult& rows_of(const Received& r) {
    return std::get<p::RowsResult>(as<p::ResultResponse>(r));
}

bool is_error(const Received& r) { return std::holds_alternative<p::ErrorResponse>(r.response); }

p::QueryRequest paged(std::string_view text, std::int32_t page_size, std::optional<p::BytesView> state = {}) {
    auto q = query(text);
    q.params.page_size = page_size;
    q.params.paging_state = state;
    return q;
}

TEST(ServerFaults, ErrorOnNthRequestWithExtraBodies) {
    struct Case {
        const char* spec;
        ServerErrorCode code;
    };
    for (auto c : {Case{"error=overloaded", ServerErrorCode::overloaded},
                   Case{"error=read_timeout", ServerErrorCode::read_timeout},
                   Case{"error=write_timeout", ServerErrorCode::write_timeout},
                   Case{"error=unavailable", ServerErrorCode::unavailable},
                   Case{"error=is_bootstrapping", ServerErrorCode::is_bootstrapping}}) {
        SCOPED_TRACE(c.spec);
        auto cluster = start_cluster();
        auto rule = net::parse_fault(std::string(c.spec) + ",nth=2,pattern=system.local");
        auto index = cluster->faults().add(rule);
        for (auto v : {ProtocolVersion::v4, ProtocolVersion::v5}) {
            auto client = ready_client(*cluster, v);
            auto q = query(kLocal);
            q.params.consistency = Consistency::local_quorum;
            client.send(v, 1, q);
            auto first = client.read();
            if (v == ProtocolVersion::v5) {
                // The rule fired once already (on the v4 connection): v5 just decodes fine.
                EXPECT_FALSE(is_error(first));
                continue;
            }
            EXPECT_FALSE(is_error(first));
            client.send(v, 2, q);
            auto second = client.read();
            ASSERT_TRUE(is_error(second));
            const auto& e = as_error(second);
            EXPECT_EQ(e.code, c.code);
            EXPECT_FALSE(e.message.empty());
            if (c.code == ServerErrorCode::read_timeout || c.code == ServerErrorCode::write_timeout ||
                c.code == ServerErrorCode::unavailable) {
                EXPECT_EQ(e.consistency, Consistency::local_quorum);
            }
            if (c.code == ServerErrorCode::read_timeout) {
                EXPECT_EQ(e.block_for, 1);
                EXPECT_FALSE(e.data_present);
            }
            if (c.code == ServerErrorCode::write_timeout) {
                EXPECT_EQ(e.write_type, "SIMPLE");
            }
            if (c.code == ServerErrorCode::unavailable) {
                EXPECT_EQ(e.required, 1);
                EXPECT_EQ(e.alive, 0);
            }
            client.send(v, 3, q);
            EXPECT_FALSE(is_error(client.read()));
            // A request that does not match the pattern is never affected.
            client.send(v, 4, query("SELECT release_version FROM system.local"));
            client.read();
        }
        EXPECT_EQ(cluster->faults().hits(index), 1);
    }
}

TEST(ServerFaults, ErrorForAFractionOfRequests) {
    auto cluster = start_cluster();
    cluster->faults().add(net::parse_fault("error=overloaded,fraction=0.5,pattern=system.local"));
    auto client = ready_client(*cluster);
    int errors = 0;
    for (int i = 0; i < 200; ++i) {
        client.send(ProtocolVersion::v4, 1, query(kLocal));
        if (is_error(client.read())) ++errors;
    }
    EXPECT_GT(errors, 50);
    EXPECT_LT(errors, 150);
}

TEST(ServerFaults, DelayOnlyMatchingResponses) {
    auto cluster = start_cluster();
    cluster->faults().add(net::parse_fault("delay=300,pattern=synthetic"));
    auto client = ready_client(*cluster);
    auto t0 = std::chrono::steady_clock::now();
    client.send(ProtocolVersion::v4, 1, query(kSynthetic));
    client.send(ProtocolVersion::v4, 2, query(kLocal));
    auto a = client.read();
    auto b = client.read();
    auto elapsed = std::chrono::steady_clock::now() - t0;
    // The undelayed answer overtakes the delayed one (responses go out as they are ready).
    EXPECT_EQ(a.header.stream, 2);
    EXPECT_EQ(b.header.stream, 1);
    EXPECT_GE(elapsed, 300ms);
}

TEST(ServerFaults, DelayOnlyPages) {
    auto cluster = start_cluster();
    cluster->faults().add(net::parse_fault("delay_pages=300,pattern=synthetic"));
    auto client = ready_client(*cluster);
    // Unpaged: no delay.
    auto t0 = std::chrono::steady_clock::now();
    client.send(ProtocolVersion::v4, 1, query(kSynthetic));
    auto whole = client.read();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 250ms);
    EXPECT_FALSE(rows_of(whole).metadata.has_more_pages());
    // A page with more to come: delayed.
    t0 = std::chrono::steady_clock::now();
    client.send(ProtocolVersion::v4, 2, paged(kSynthetic, 10));
    EXPECT_TRUE(rows_of(client.read()).metadata.has_more_pages());
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);
}

TEST(ServerFaults, DropConnectionAfterNPages) {
    auto cluster = start_cluster();
    cluster->faults().add(net::parse_fault("drop_after_pages=1,pattern=synthetic"));
    auto client = ready_client(*cluster);
    client.send(ProtocolVersion::v4, 1, paged(kSynthetic, 10));
    auto first = client.read();
    const auto& rows = rows_of(first);
    ASSERT_TRUE(rows.metadata.has_more_pages());
    p::Bytes state = *rows.metadata.paging_state;
    client.send(ProtocolVersion::v4, 2, paged(kSynthetic, 10, p::BytesView(state)));
    EXPECT_TRUE(client.closed_within(5s));
}

TEST(ServerFaults, DropMidFrame) {
    auto cluster = start_cluster();
    cluster->faults().add(net::parse_fault("drop_mid_frame,pattern=synthetic"));
    for (auto v : {ProtocolVersion::v4, ProtocolVersion::v5}) {
        auto client = ready_client(*cluster, v);
        client.send(v, 1, query(kSynthetic));
        // Some bytes arrive, then the end of the stream, and they do not make a whole frame.
        p::Bytes got;
        std::uint8_t buf[4096];
        for (;;) {
            asio::error_code ec;
            std::size_t n = client.socket().read_some(asio::buffer(buf), ec);
            if (ec) break;
            got.insert(got.end(), buf, buf + n);
        }
        EXPECT_GT(got.size(), 0u);
        p::FrameDecoder fresh;
        if (v == ProtocolVersion::v5) fresh.enable_segments(p::Compression::none);
        fresh.feed(got);
        std::optional<p::Envelope> env;
        try {
            env = fresh.next();
        } catch (const async_cassandra::ProtocolError&) {
        }
        EXPECT_FALSE(env.has_value());
    }
}

TEST(ServerFaults, StallNeverAnswersButKeepsTheConnection) {
    auto cluster = start_cluster();
    cluster->faults().add(net::parse_fault("stall,pattern=synthetic"));
    auto client = ready_client(*cluster);
    client.send(ProtocolVersion::v4, 1, query(kSynthetic));
    client.send(ProtocolVersion::v4, 2, query(kLocal));
    EXPECT_EQ(client.read().header.stream, 2);
    EXPECT_THROW(client.read(300ms), std::runtime_error);
}

TEST(ServerFaults, CorruptFrame) {
    auto cluster = start_cluster();
    cluster->faults().add(net::parse_fault("corrupt_frame,pattern=synthetic"));
    {
        auto client = ready_client(*cluster, ProtocolVersion::v4);
        client.send(ProtocolVersion::v4, 1, query(kSynthetic));
        try {
            client.read();
            ADD_FAILURE() << "v4 corrupted frame decoded";
        } catch (const async_cassandra::ProtocolError& e) {
            EXPECT_EQ(e.code(), async_cassandra::ProtocolErrc::unknown_opcode);
        }
    }
    {
        auto client = ready_client(*cluster, ProtocolVersion::v5);
        client.send(ProtocolVersion::v5, 1, query(kSynthetic));
        try {
            client.read();
            ADD_FAILURE() << "v5 corrupted segment decoded";
        } catch (const async_cassandra::ProtocolError& e) {
            EXPECT_EQ(e.code(), async_cassandra::ProtocolErrc::bad_checksum);
        }
    }
}

TEST(ServerFaults, WrongStreamId) {
    auto cluster = start_cluster();
    cluster->faults().add(net::parse_fault("wrong_stream,pattern=system.local"));
    auto client = ready_client(*cluster);
    client.send(ProtocolVersion::v4, 40, query(kLocal));
    EXPECT_EQ(client.read().header.stream, 41);
}

TEST(ServerFaults, ExecuteMatchesOnThePreparedQueryText) {
    auto cluster = start_cluster();
    auto client = ready_client(*cluster);
    client.send(ProtocolVersion::v4, 1, p::PrepareRequest{"SELECT * FROM synthetic.rows WHERE pk = ?", {}});
    auto prepared = std::get<p::PreparedResult>(as<p::ResultResponse>(client.read()));
    // Added after PREPARE, so the first match is the EXECUTE below.
    cluster->faults().add(net::parse_fault("error=unavailable,nth=1,pattern=synthetic.rows WHERE"));
    std::uint8_t pk[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    p::ExecuteRequest e;
    e.id = prepared.id;
    e.params.consistency = Consistency::one;
    e.params.values.push_back({p::ValueView::Kind::value, p::BytesView(pk, 8)});
    client.send(ProtocolVersion::v4, 2, e);
    EXPECT_EQ(as_error(client.read()).code, ServerErrorCode::unavailable);
    client.send(ProtocolVersion::v4, 3, e);
    EXPECT_FALSE(is_error(client.read()));
}

TEST(ServerFaults, RuleForOneNodeAndPerNodeCounters) {
    net::ClusterOptions o;
    o.nodes = 2;
    auto cluster = start_cluster(o);
    cluster->faults().add(net::parse_fault("error=overloaded,node=2"));
    auto one = ready_client(*cluster, ProtocolVersion::v4, 1);
    auto two = ready_client(*cluster, ProtocolVersion::v4, 2);
    cluster->reset_stats();
    for (int i = 0; i < 3; ++i) {
        one.send(ProtocolVersion::v4, 1, query(kLocal));
        EXPECT_FALSE(is_error(one.read()));
    }
    two.send(ProtocolVersion::v4, 1, query(kLocal));
    EXPECT_EQ(as_error(two.read()).code, ServerErrorCode::overloaded);
    EXPECT_EQ(cluster->stats(1).queries, 3u);
    EXPECT_EQ(cluster->stats(2).queries, 1u);
    EXPECT_EQ(cluster->stats(1).open_connections, 1u);
    cluster->faults().clear();
    two.send(ProtocolVersion::v4, 2, query(kLocal));
    EXPECT_FALSE(is_error(two.read()));
}

TEST(ServerEvents, SchemaChangeIsPushedToRegisteredConnectionsOfEveryNode) {
    net::ClusterOptions o;
    o.nodes = 2;
    auto cluster = start_cluster(o);
    auto watcher = ready_client(*cluster, ProtocolVersion::v5, 1);
    watcher.send(ProtocolVersion::v5, 1, p::RegisterRequest{{"SCHEMA_CHANGE"}});
    ASSERT_TRUE(std::holds_alternative<p::ReadyResponse>(watcher.read().response));

    auto ddl = ready_client(*cluster, ProtocolVersion::v4, 2);
    ddl.send(ProtocolVersion::v4, 5,
             query("CREATE KEYSPACE ks_events WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"));
    auto result = ddl.read();
    ASSERT_FALSE(is_error(result)) << as_error(result).message;

    auto ev = watcher.read();
    EXPECT_EQ(ev.header.stream, -1);
    const auto& change = std::get<p::SchemaChange>(as<p::EventResponse>(ev));
    EXPECT_EQ(change.change_type, "CREATED");
    EXPECT_EQ(change.target, "KEYSPACE");
}

}  // namespace

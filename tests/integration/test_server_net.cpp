// The network front end of acass-server, driven by a raw client: version negotiation, handshake,
// authentication, v4 compression, v5 segments, events, multiplexing, malformed input.
// Every test starts its own cluster on a free port.
#include "server/net/cluster.hpp"
#include "test_server_raw_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <set>
#include <thread>

namespace {

using namespace acass_test;
using async_cassandra::ServerErrorCode;
namespace net = async_cassandra::server::net;
using p::ProtocolVersion;

std::unique_ptr<net::Cluster> start_cluster(net::ClusterOptions o = {}) {
    o.port = 0;
    auto c = std::make_unique<net::Cluster>(std::move(o));
    c->start();
    return c;
}

RawClient connect(net::Cluster& c, int node = 1) { return RawClient(c.address(node), c.port()); }

p::Bytes options_frame(std::uint8_t version_byte, std::int16_t stream) {
    p::Bytes b{version_byte, 0, static_cast<std::uint8_t>(stream >> 8), static_cast<std::uint8_t>(stream),
               static_cast<std::uint8_t>(p::Opcode::options), 0, 0, 0, 0};
    return b;
}

TEST(ServerNet, UnsupportedVersionGetsCassandraWordingThenClose) {
    auto cluster = start_cluster();
    auto c = connect(*cluster);
    c.send_raw(options_frame(0x42, 7));
    auto env = c.read_envelope();
    ASSERT_TRUE(env);
    EXPECT_EQ(env->header.version, 5);  // the greatest version we speak, readable by the client
    EXPECT_TRUE(env->header.is_response);
    EXPECT_EQ(env->header.stream, 7);
    ASSERT_EQ(env->header.opcode, p::Opcode::error);
    auto r = p::decode_response(p::Opcode::error, env->body_view(), ProtocolVersion::v5);
    const auto& e = std::get<p::ErrorResponse>(r);
    EXPECT_EQ(e.code, ServerErrorCode::protocol_error);
    EXPECT_EQ(e.message,
              "Invalid or unsupported protocol version (66); the lowest supported version is 4 and the greatest is 5");
    EXPECT_TRUE(c.closed_within(std::chrono::seconds(5)));
}

TEST(ServerNet, OlderVersionIsAnsweredInItsOwnVersion) {
    auto cluster = start_cluster();
    auto c = connect(*cluster);
    c.send_raw(options_frame(0x03, 1));
    auto env = c.read_envelope();
    ASSERT_TRUE(env);
    EXPECT_EQ(env->header.version, 3);
    auto r = p::decode_response(p::Opcode::error, env->body_view(), ProtocolVersion::v4);
    EXPECT_NE(std::get<p::ErrorResponse>(r).message.find("Invalid or unsupported protocol version (3)"),
              std::string::npos);
}

TEST(ServerNet, DisabledVersionIsRefusedWithTheConfiguredRange) {
    net::ClusterOptions o;
    o.protocol_versions = {4};
    auto cluster = start_cluster(o);
    auto c = connect(*cluster);
    c.send(ProtocolVersion::v5, 3, p::OptionsRequest{});
    auto env = c.read_envelope();
    ASSERT_TRUE(env);
    EXPECT_EQ(env->header.version, 4);
    auto r = p::decode_response(p::Opcode::error, env->body_view(), ProtocolVersion::v4);
    EXPECT_EQ(std::get<p::ErrorResponse>(r).message,
              "Invalid or unsupported protocol version (5); the lowest supported version is 4 and the greatest is 4");
    // v4 still works on a new connection.
    auto c4 = connect(*cluster);
    c4.startup(ProtocolVersion::v4);
}

TEST(ServerNet, OptionsListsVersionsAndCompression) {
    auto cluster = start_cluster();
    for (auto v : {ProtocolVersion::v4, ProtocolVersion::v5}) {
        auto c = connect(*cluster);
        c.send(v, 0, p::OptionsRequest{});
        auto r = c.read();
        EXPECT_EQ(r.header.version, static_cast<int>(v));
        const auto& s = as<p::SupportedResponse>(r);
        EXPECT_EQ(s.options.at("PROTOCOL_VERSIONS"), (std::vector<std::string>{"4/v4", "5/v5"}));
        EXPECT_EQ(s.options.at("COMPRESSION"), (std::vector<std::string>{"lz4", "snappy"}));
        ASSERT_FALSE(s.options.at("CQL_VERSION").empty());
        EXPECT_EQ(s.options.at("CQL_VERSION")[0].substr(0, 2), "3.");
    }
}

TEST(ServerNet, QueryBeforeStartupIsAnError) {
    auto cluster = start_cluster();
    auto c = connect(*cluster);
    c.send(ProtocolVersion::v4, 5, query("SELECT * FROM system.local"));
    auto r = c.read();
    EXPECT_EQ(r.header.stream, 5);
    EXPECT_EQ(as_error(r).code, ServerErrorCode::protocol_error);
    // The connection survives: STARTUP still works.
    c.startup(ProtocolVersion::v4);
}

TEST(ServerNet, StartupWithoutCqlVersionIsRefused) {
    auto cluster = start_cluster();
    auto c = connect(*cluster);
    c.send(ProtocolVersion::v4, 1, p::StartupRequest{});
    EXPECT_EQ(as_error(c.read()).code, ServerErrorCode::protocol_error);
}

// After the handshake, REGISTER and OPTIONS are answered by the front end itself, so these
// checks of framing do not depend on the engine.
void roundtrip_after_handshake(RawClient& c, ProtocolVersion v) {
    c.send(v, 10, p::RegisterRequest{{"SCHEMA_CHANGE"}});
    auto r = c.read();
    EXPECT_EQ(r.header.stream, 10);
    EXPECT_TRUE(std::holds_alternative<p::ReadyResponse>(r.response));
    c.send(v, 11, p::OptionsRequest{});
    auto s = c.read();
    EXPECT_EQ(s.header.stream, 11);
    EXPECT_TRUE(std::holds_alternative<p::SupportedResponse>(s.response));
}

TEST(ServerNet, V4PlainLz4AndSnappy) {
    auto cluster = start_cluster();
    for (auto comp : {p::Compression::none, p::Compression::lz4, p::Compression::snappy}) {
        SCOPED_TRACE(std::string(p::to_string(comp)));
        auto c = connect(*cluster);
        c.startup(ProtocolVersion::v4, comp);
        roundtrip_after_handshake(c, ProtocolVersion::v4);
    }
}

TEST(ServerNet, V4CompressedResponsesCarryTheFlag) {
    auto cluster = start_cluster();
    auto c = connect(*cluster);
    c.startup(ProtocolVersion::v4, p::Compression::lz4);
    // Send OPTIONS and look at the raw frame: a non-empty body must come back compressed.
    c.send(ProtocolVersion::v4, 3, p::OptionsRequest{});
    // Read raw bytes with a plain decoder that knows no compression: it must see the flag.
    p::FrameDecoder plain;
    std::uint8_t buf[65536];
    std::optional<p::Envelope> env;
    while (!env) {
        std::size_t n = c.socket().read_some(asio::buffer(buf));
        plain.feed(p::BytesView(buf, n));
        try {
            env = plain.next();
        } catch (const async_cassandra::ProtocolError& e) {
            EXPECT_EQ(e.code(), async_cassandra::ProtocolErrc::compression);  // flagged, as it must be
            return;
        }
    }
    FAIL() << "response was not compressed";
}

TEST(ServerNet, V5SegmentsPlainAndLz4) {
    auto cluster = start_cluster();
    for (auto comp : {p::Compression::none, p::Compression::lz4}) {
        SCOPED_TRACE(std::string(p::to_string(comp)));
        auto c = connect(*cluster);
        c.send(ProtocolVersion::v5, 0, p::OptionsRequest{});  // unframed before STARTUP
        EXPECT_TRUE(std::holds_alternative<p::SupportedResponse>(c.read().response));
        c.startup(ProtocolVersion::v5, comp);
        roundtrip_after_handshake(c, ProtocolVersion::v5);
    }
}

TEST(ServerNet, V5RejectsSnappy) {
    auto cluster = start_cluster();
    auto c = connect(*cluster);
    p::StartupRequest s;
    s.options["CQL_VERSION"] = "3.0.0";
    s.options["COMPRESSION"] = "snappy";
    c.send(ProtocolVersion::v5, 1, s);
    EXPECT_EQ(as_error(c.read()).code, ServerErrorCode::protocol_error);
}

TEST(ServerNet, V5UnframedRequestAfterHandshakeClosesTheConnection) {
    auto cluster = start_cluster();
    auto c = connect(*cluster);
    c.startup(ProtocolVersion::v5);
    // A raw (unsegmented) frame now fails the CRC24 check of the segment header.
    c.send_raw(options_frame(0x05, 4));
    EXPECT_TRUE(c.closed_within(std::chrono::seconds(5)));
}

TEST(ServerNet, PasswordAuthentication) {
    net::ClusterOptions o;
    o.credentials = {"cassandra", "s3cret"};
    auto cluster = start_cluster(o);
    for (auto v : {ProtocolVersion::v4, ProtocolVersion::v5}) {
        auto good = connect(*cluster);
        good.startup(v, p::Compression::none, o.credentials);
        roundtrip_after_handshake(good, v);

        auto bad = connect(*cluster);
        p::StartupRequest s;
        s.options["CQL_VERSION"] = "3.0.0";
        bad.send(v, 1, s);
        auto a = bad.read();
        ASSERT_TRUE(std::holds_alternative<p::AuthenticateResponse>(a.response));
        EXPECT_EQ(std::get<p::AuthenticateResponse>(a.response).authenticator,
                  "org.apache.cassandra.auth.PasswordAuthenticator");
        bad.switch_framing(v, p::Compression::none);
        // Queries before authentication are refused.
        bad.send(v, 2, query("SELECT * FROM system.local"));
        EXPECT_EQ(as_error(bad.read()).code, ServerErrorCode::protocol_error);
        std::string token = std::string(1, '\0') + "cassandra" + std::string(1, '\0') + "wrong";
        bad.send(v, 3, p::AuthResponseRequest{p::Bytes(token.begin(), token.end())});
        auto e = bad.read();
        EXPECT_EQ(e.header.stream, 3);
        EXPECT_EQ(as_error(e).code, ServerErrorCode::bad_credentials);
    }
}

TEST(ServerNet, ManyConnectionsPipelineConcurrently) {
    auto cluster = start_cluster();
    constexpr int kConnections = 24;
    constexpr int kRequests = 200;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kConnections; ++t) {
        threads.emplace_back([&, t] {
            try {
                auto v = t % 2 ? ProtocolVersion::v5 : ProtocolVersion::v4;
                auto c = connect(*cluster);
                c.startup(v, t % 3 == 0 ? p::Compression::lz4 : p::Compression::none);
                p::Bytes batch;
                for (int i = 0; i < kRequests; ++i)
                    c.queue(batch, v, static_cast<std::int16_t>(100 + i), p::OptionsRequest{});
                c.send_raw(batch);
                std::set<int> seen;
                for (int i = 0; i < kRequests; ++i) {
                    auto r = c.read();
                    if (!std::holds_alternative<p::SupportedResponse>(r.response)) return;
                    seen.insert(r.header.stream);
                }
                if (seen.size() == kRequests && *seen.begin() == 100) ok.fetch_add(1);
            } catch (const std::exception& e) {
                ADD_FAILURE() << e.what();
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok.load(), kConnections);
    EXPECT_GE(cluster->stats(1).requests, static_cast<std::uint64_t>(kConnections * (kRequests + 1)));
    EXPECT_EQ(cluster->stats(1).connections, static_cast<std::uint64_t>(kConnections));
}

TEST(ServerNet, MalformedFrameClosesOnlyThatConnection) {
    auto cluster = start_cluster();
    auto healthy = connect(*cluster);
    healthy.startup(ProtocolVersion::v4);
    auto bad = connect(*cluster);
    bad.startup(ProtocolVersion::v4);
    // Unknown opcode 0x7F.
    bad.send_raw(p::Bytes{0x04, 0, 0, 9, 0x7F, 0, 0, 0, 0});
    auto r = bad.read();
    EXPECT_EQ(as_error(r).code, ServerErrorCode::protocol_error);
    EXPECT_TRUE(bad.closed_within(std::chrono::seconds(5)));

    // A body that does not decode (REGISTER with a truncated string list).
    auto bad2 = connect(*cluster);
    bad2.startup(ProtocolVersion::v4);
    bad2.send_raw(p::Bytes{0x04, 0, 0, 9, static_cast<std::uint8_t>(p::Opcode::register_), 0, 0, 0, 3, 0, 5, 0});
    EXPECT_EQ(as_error(bad2.read()).code, ServerErrorCode::protocol_error);
    EXPECT_TRUE(bad2.closed_within(std::chrono::seconds(5)));

    // A response opcode sent as a request.
    auto bad3 = connect(*cluster);
    bad3.send_raw(p::Bytes{0x04, 0, 0, 9, static_cast<std::uint8_t>(p::Opcode::ready), 0, 0, 0, 0});
    EXPECT_EQ(as_error(bad3.read()).code, ServerErrorCode::protocol_error);
    EXPECT_TRUE(bad3.closed_within(std::chrono::seconds(5)));

    // A v4 body length over the limit.
    auto bad4 = connect(*cluster);
    bad4.send_raw(p::Bytes{0x04, 0, 0, 9, static_cast<std::uint8_t>(p::Opcode::options), 0x7F, 0xFF, 0xFF, 0xFF});
    EXPECT_TRUE(bad4.closed_within(std::chrono::seconds(5)));

    roundtrip_after_handshake(healthy, ProtocolVersion::v4);
}

// A v4 header announcing a body of `size` bytes (the body itself is never sent).
p::Bytes header_announcing(p::Opcode opcode, std::uint32_t size) {
    return p::Bytes{0x04, 0, 0, 7, static_cast<std::uint8_t>(opcode), static_cast<std::uint8_t>(size >> 24),
                    static_cast<std::uint8_t>(size >> 16), static_cast<std::uint8_t>(size >> 8),
                    static_cast<std::uint8_t>(size)};
}

TEST(ServerNet, LargeFramesAreRefusedUntilTheConnectionIsReady) {
    net::ClusterOptions o;
    o.credentials = {"cassandra", "s3cret"};
    auto cluster = start_cluster(o);
    // Before STARTUP: a header announcing 300 KB is refused at once (nothing is buffered for it).
    auto early = connect(*cluster);
    early.send_raw(header_announcing(p::Opcode::options, 300 * 1024));
    EXPECT_EQ(as_error(early.read()).code, ServerErrorCode::protocol_error);
    EXPECT_TRUE(early.closed_within(std::chrono::seconds(5)));
    for (auto v : {ProtocolVersion::v4, ProtocolVersion::v5}) {
        // Between STARTUP and AUTH_SUCCESS: a 300 KB AUTH_RESPONSE too; 200 KB is still read.
        for (std::size_t kb : {200, 300}) {
            auto c = connect(*cluster);
            p::StartupRequest s;
            s.options["CQL_VERSION"] = "3.0.0";
            c.send(v, 1, s);
            ASSERT_TRUE(std::holds_alternative<p::AuthenticateResponse>(c.read().response));
            c.switch_framing(v, p::Compression::none);
            std::string token(kb * 1024, 'x');
            c.send(v, 2, p::AuthResponseRequest{p::Bytes(token.begin(), token.end())});
            auto e = as_error(c.read());
            if (kb == 200) {
                EXPECT_EQ(e.code, ServerErrorCode::bad_credentials) << e.message;
            } else {
                EXPECT_EQ(e.code, ServerErrorCode::protocol_error) << e.message;
                EXPECT_TRUE(c.closed_within(std::chrono::seconds(5)));
            }
        }
        // Once authenticated, a 1 MB request is served.
        auto ready = connect(*cluster);
        ready.startup(v, p::Compression::none, o.credentials);
        const std::string big = "SELECT * FROM system.local WHERE key = '" + std::string(1 << 20, 'x') + "'";
        ready.send(v, 5, query(big));
        auto r = ready.read();
        EXPECT_EQ(r.header.stream, 5);
        EXPECT_TRUE(std::holds_alternative<p::ResultResponse>(r.response));
    }
}

TEST(ServerNet, HandshakeTimeoutClosesConnectionsThatNeverBecomeReady) {
    net::ClusterOptions o;
    o.handshake_timeout = std::chrono::milliseconds(300);
    auto cluster = start_cluster(o);
    auto silent = connect(*cluster);  // sends nothing at all
    auto options_only = connect(*cluster);  // asks OPTIONS, never STARTUP
    options_only.send(ProtocolVersion::v4, 1, p::OptionsRequest{});
    EXPECT_TRUE(std::holds_alternative<p::SupportedResponse>(options_only.read().response));
    auto ready = connect(*cluster);
    ready.startup(ProtocolVersion::v4);
    EXPECT_TRUE(silent.closed_within(std::chrono::seconds(5)));
    EXPECT_TRUE(options_only.closed_within(std::chrono::seconds(5)));
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // past the timeout: still served
    roundtrip_after_handshake(ready, ProtocolVersion::v4);
}

TEST(ServerNet, IdleTimeoutClosesQuietConnectionsOnly) {
    net::ClusterOptions o;
    o.idle_timeout = std::chrono::milliseconds(500);
    auto cluster = start_cluster(o);
    auto quiet = connect(*cluster);
    quiet.startup(ProtocolVersion::v4);
    auto busy = connect(*cluster);
    busy.startup(ProtocolVersion::v5);
    for (int i = 0; i < 10; ++i) {  // 1.5 s of a request every 150 ms, as a driver's heartbeat
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
        busy.send(ProtocolVersion::v5, static_cast<std::int16_t>(20 + i), p::OptionsRequest{});
        ASSERT_TRUE(std::holds_alternative<p::SupportedResponse>(busy.read().response));
    }
    EXPECT_TRUE(quiet.closed_within(std::chrono::seconds(1)));  // closed long ago
    roundtrip_after_handshake(busy, ProtocolVersion::v5);
}

TEST(ServerNet, MaxConnectionsClosesTheExtraOnesAtAccept) {
    net::ClusterOptions o;
    o.max_connections = 2;
    auto cluster = start_cluster(o);
    std::optional<RawClient> a(connect(*cluster));
    a->startup(ProtocolVersion::v4);
    auto b = connect(*cluster);
    b.startup(ProtocolVersion::v4);
    auto extra = connect(*cluster);
    EXPECT_TRUE(extra.closed_within(std::chrono::seconds(5)));
    EXPECT_EQ(cluster->stats(1).refused_connections, 1u);
    EXPECT_EQ(cluster->stats(1).open_connections, 2u);
    // Once one is gone, a new connection is served again.
    a.reset();
    for (int i = 0; i < 100 && cluster->stats(1).open_connections > 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto c = connect(*cluster);
    c.startup(ProtocolVersion::v4);
    roundtrip_after_handshake(c, ProtocolVersion::v4);
    roundtrip_after_handshake(b, ProtocolVersion::v4);
}

TEST(ServerNet, TopologyAndStatusEventsOnNodeChanges) {
    net::ClusterOptions o;
    o.nodes = 3;
    auto cluster = start_cluster(o);
    EXPECT_EQ(cluster->address(2), "127.0.0.2");
    auto view = cluster->view();
    ASSERT_EQ(view.nodes.size(), 3u);
    std::set<std::int64_t> tokens;
    for (const auto& n : view.nodes) {
        EXPECT_EQ(n.tokens.size(), 1u);
        EXPECT_TRUE(n.up);
        EXPECT_EQ(n.native_port, cluster->port());
        tokens.insert(n.tokens.begin(), n.tokens.end());
    }
    EXPECT_EQ(tokens.size(), 3u);

    auto watcher = connect(*cluster, 1);
    watcher.startup(ProtocolVersion::v4);
    watcher.send(ProtocolVersion::v4, 1, p::RegisterRequest{{"STATUS_CHANGE", "TOPOLOGY_CHANGE"}});
    ASSERT_TRUE(std::holds_alternative<p::ReadyResponse>(watcher.read().response));

    auto on_two = connect(*cluster, 2);
    on_two.startup(ProtocolVersion::v5);

    auto expect_event = [&](const std::string& kind, const std::string& change) {
        auto r = watcher.read();
        EXPECT_EQ(r.header.stream, -1);
        const auto& ev = as<p::EventResponse>(r);
        p::Bytes addr{127, 0, 0, 2};
        if (kind == "STATUS") {
            ASSERT_TRUE(std::holds_alternative<p::StatusChangeEvent>(ev));
            EXPECT_EQ(std::get<p::StatusChangeEvent>(ev).change_type, change);
            EXPECT_EQ(std::get<p::StatusChangeEvent>(ev).address, addr);
            EXPECT_EQ(std::get<p::StatusChangeEvent>(ev).port, cluster->port());
        } else {
            ASSERT_TRUE(std::holds_alternative<p::TopologyChangeEvent>(ev));
            EXPECT_EQ(std::get<p::TopologyChangeEvent>(ev).change_type, change);
            EXPECT_EQ(std::get<p::TopologyChangeEvent>(ev).address, addr);
        }
    };

    cluster->stop_node(2);
    expect_event("STATUS", "DOWN");
    EXPECT_TRUE(on_two.closed_within(std::chrono::seconds(5)));
    EXPECT_FALSE(cluster->view().nodes[1].up);
    EXPECT_THROW(connect(*cluster, 2), std::system_error);

    cluster->restart_node(2);
    expect_event("STATUS", "UP");
    auto again = connect(*cluster, 2);
    again.startup(ProtocolVersion::v4);

    cluster->remove_node(2);
    expect_event("TOPOLOGY", "REMOVED_NODE");
    EXPECT_EQ(cluster->view().nodes.size(), 2u);
    cluster->add_node(2);
    expect_event("TOPOLOGY", "NEW_NODE");
    EXPECT_EQ(cluster->view().nodes.size(), 3u);
}

TEST(ServerNet, EventsOnlyToRegisteredConnections) {
    net::ClusterOptions o;
    o.nodes = 2;
    o.down_event_delay = std::chrono::milliseconds(0);  // the DOWN event goes out at once
    auto cluster = start_cluster(o);
    auto quiet = connect(*cluster, 1);
    quiet.startup(ProtocolVersion::v4);
    auto listener = connect(*cluster, 1);
    listener.startup(ProtocolVersion::v4);
    listener.send(ProtocolVersion::v4, 1, p::RegisterRequest{{"STATUS_CHANGE"}});
    ASSERT_TRUE(std::holds_alternative<p::ReadyResponse>(listener.read().response));
    cluster->stop_node(2);
    // The registered connection gets the event (so it has been sent by now) ...
    auto event = listener.read();
    EXPECT_EQ(event.header.stream, -1);
    EXPECT_TRUE(std::holds_alternative<p::EventResponse>(event.response));
    // ... and the other does not: the next thing on its wire is the answer to our OPTIONS.
    quiet.send(ProtocolVersion::v4, 9, p::OptionsRequest{});
    EXPECT_EQ(quiet.read().header.stream, 9);
}

TEST(ServerNet, StopClosesConnectionsAndCanRunTwoClustersInParallel) {
    auto a = start_cluster();
    auto b = start_cluster();
    EXPECT_NE(a->port(), b->port());
    auto c = connect(*a);
    c.startup(ProtocolVersion::v4);
    a->stop();
    EXPECT_TRUE(c.closed_within(std::chrono::seconds(5)));
    auto d = connect(*b);
    d.startup(ProtocolVersion::v5);
}

}  // namespace

// acass-server --emulate: the version refusal frames, SUPPORTED options, release_version and
// system tables of Cassandra 3.11 / 4.1 / 5.0 and ScyllaDB; client warnings (aggregation without
// partition key, batch size, fault rule warn=TEXT); LWT WRITE_TIMEOUT / CAS_WRITE_UNKNOWN shapes.
// Expected bytes are written from the servers' sources (see server/net/emulation.hpp), not from
// our codec.
#include "server/net/cluster.hpp"
#include "test_server_raw_client.hpp"

#include <gtest/gtest.h>

namespace {

using namespace acass_test;
using async_cassandra::ServerErrorCode;
namespace net = async_cassandra::server::net;
using p::ProtocolVersion;

std::unique_ptr<net::Cluster> start_cluster(const std::string& emulate) {
    net::ClusterOptions o;
    o.port = 0;
    o.emulate = emulate;
    auto c = std::make_unique<net::Cluster>(std::move(o));
    c->start();
    return c;
}

p::Bytes options_frame(std::uint8_t version_byte, std::uint8_t flags, std::int16_t stream) {
    return p::Bytes{version_byte, flags, static_cast<std::uint8_t>(stream >> 8), static_cast<std::uint8_t>(stream),
                    static_cast<std::uint8_t>(p::Opcode::options), 0, 0, 0, 0};
}

/// The whole ERROR frame a server sends: header, code 0x000A, [string] message.
p::Bytes refusal_frame(std::uint8_t version, std::int16_t stream, const std::string& message) {
    // v1/v2 headers have a one-byte stream id.
    p::Bytes out{static_cast<std::uint8_t>(0x80 | version), 0};
    if (version > 2) out.push_back(static_cast<std::uint8_t>(stream >> 8));
    out.push_back(static_cast<std::uint8_t>(stream));
    out.push_back(0x00);
    std::uint32_t len = static_cast<std::uint32_t>(4 + 2 + message.size());
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(len >> s));
    for (std::uint8_t b : {0, 0, 0, 0x0A}) out.push_back(b);
    out.push_back(static_cast<std::uint8_t>(message.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(message.size()));
    out.insert(out.end(), message.begin(), message.end());
    return out;
}

/// Everything the server sends until it closes the connection.
p::Bytes read_until_closed(RawClient& c) {
    p::Bytes all;
    std::uint8_t buf[4096];
    for (;;) {
        asio::error_code ec;
        std::size_t n = c.socket().read_some(asio::buffer(buf), ec);
        if (ec) return all;
        all.insert(all.end(), buf, buf + n);
    }
}

struct RefusalCase {
    std::string emulate;
    std::uint8_t version_byte;
    std::uint8_t flags;
    p::Bytes expected;
};

TEST(ServerEmulation, VersionRefusalsAreTheRealServersFrames) {
    const std::string c4 = "; supported versions are (3/v3, 4/v4, 5/v5, 6/v6-beta)";
    const std::vector<RefusalCase> cases = {
        // Native: Cassandra 3.0 wording, highest version of ours, the client's stream.
        {"", 0x42, 0, refusal_frame(5, 7, "Invalid or unsupported protocol version (66); the lowest supported version is 4 and the greatest is 5")},
        {"cassandra-3.11", 0x05, 0, refusal_frame(5, 0, "Beta version of the protocol used (5/v5-beta), but USE_BETA flag is unset")},
        {"cassandra-3.11", 0x42, 0, refusal_frame(5, 0, "Invalid or unsupported protocol version (66); supported versions are (3/v3, 4/v4, 5/v5-beta)")},
        {"cassandra-3.11", 0x02, 0, refusal_frame(2, 0, "Invalid or unsupported protocol version (2); supported versions are (3/v3, 4/v4, 5/v5-beta)")},
        {"cassandra-4.1", 0x42, 0, refusal_frame(5, 0, "Invalid or unsupported protocol version (66)" + c4)},
        {"cassandra-5.0", 0x41, 0, refusal_frame(5, 0, "Invalid or unsupported protocol version (65)" + c4)},
        {"cassandra-5.0", 0x06, 0, refusal_frame(6, 0, "Beta version of the protocol used (6/v6-beta), but USE_BETA flag is unset")},
        {"scylla", 0x05, 0, refusal_frame(4, 0, "Invalid or unsupported protocol version: 5")},
        {"scylla", 0x42, 0, refusal_frame(4, 0, "Invalid or unsupported protocol version: 66")},
    };
    for (const auto& tc : cases) {
        SCOPED_TRACE(tc.emulate + " version byte " + std::to_string(tc.version_byte));
        auto cluster = start_cluster(tc.emulate);
        RawClient c(cluster->address(1), cluster->port());
        c.send_raw(options_frame(tc.version_byte, tc.flags, 7));
        EXPECT_EQ(read_until_closed(c), tc.expected);  // ... and then the connection closes
    }
}

std::vector<std::string> supported(net::Cluster& cluster, ProtocolVersion v, const std::string& key) {
    RawClient c(cluster.address(1), cluster.port());
    c.send(v, 3, p::OptionsRequest{});
    auto options = as<p::SupportedResponse>(c.read()).options;
    return options[key];
}

std::string text_cell(const Received& r) {
    const auto& rows = std::get<p::RowsResult>(as<p::ResultResponse>(r));
    p::ByteReader in(rows.rows_content);
    auto v = in.read_bytes();
    return v ? std::string(v->begin(), v->end()) : "<null>";
}

TEST(ServerEmulation, SupportedReleaseVersionAndPeersTables) {
    struct Case {
        std::string emulate, cql_version, release;
        std::vector<std::string> versions;
        bool peers_v2;
        ProtocolVersion v;
    };
    const std::vector<Case> cases = {
        {"cassandra-3.11", "3.4.4", "3.11.17", {"3/v3", "4/v4", "5/v5-beta"}, false, ProtocolVersion::v4},
        {"cassandra-4.1", "3.4.6", "4.1.5", {"3/v3", "4/v4", "5/v5", "6/v6-beta"}, true, ProtocolVersion::v5},
        {"cassandra-5.0", "3.4.7", "5.0.2", {"3/v3", "4/v4", "5/v5", "6/v6-beta"}, true, ProtocolVersion::v5},
        {"scylla", "3.3.1", "3.0.8", {}, false, ProtocolVersion::v4},
    };
    for (const auto& tc : cases) {
        SCOPED_TRACE(tc.emulate);
        auto cluster = start_cluster(tc.emulate);
        EXPECT_EQ(supported(*cluster, tc.v, "CQL_VERSION"), std::vector<std::string>{tc.cql_version});
        EXPECT_EQ(supported(*cluster, tc.v, "PROTOCOL_VERSIONS"), tc.versions);
        EXPECT_EQ(supported(*cluster, tc.v, "SCYLLA_NR_SHARDS").size(), tc.emulate == "scylla" ? 1u : 0u);
        RawClient c(cluster->address(1), cluster->port());
        c.startup(tc.v);
        c.send(tc.v, 4, query("SELECT release_version FROM system.local"));
        EXPECT_EQ(text_cell(c.read()), tc.release);
        c.send(tc.v, 5, query("SELECT * FROM system.peers_v2"));
        auto r = c.read();
        if (tc.peers_v2) {
            EXPECT_TRUE(std::holds_alternative<p::ResultResponse>(r.response));
        } else {
            EXPECT_EQ(as_error(r).code, ServerErrorCode::invalid);
            EXPECT_NE(as_error(r).message.find("peers_v2"), std::string::npos);
        }
        c.send(tc.v, 6, query("SELECT * FROM system.peers"));
        EXPECT_TRUE(std::holds_alternative<p::ResultResponse>(c.read().response));
    }
    EXPECT_THROW(start_cluster("cassandra-2.1"), async_cassandra::UsageError);
}

void run_ok(RawClient& c, ProtocolVersion v, std::string_view cql) { as<p::ResultResponse>((c.send(v, 2, query(cql)), c.read())); }

TEST(ServerEmulation, CassandraClientWarnings) {
    for (const std::string emulate : {"", "cassandra-3.11", "scylla"}) {
        SCOPED_TRACE(emulate);
        const bool cassandra = emulate != "scylla";
        auto cluster = start_cluster(emulate);
        RawClient c(cluster->address(1), cluster->port());
        c.startup(ProtocolVersion::v4);
        run_ok(c, ProtocolVersion::v4, "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        run_ok(c, ProtocolVersion::v4, "CREATE TABLE ks.t (k int, c int, v text, PRIMARY KEY (k, c))");

        c.send(ProtocolVersion::v4, 3, query("SELECT COUNT(*) FROM ks.t"));
        auto r = c.read();
        EXPECT_EQ(r.prefix.warnings, cassandra ? std::vector<std::string>{"Aggregation query used without partition key"}
                                               : std::vector<std::string>{});
        EXPECT_EQ((r.header.flags & p::frame_flags::warning) != 0, cassandra);
        c.send(ProtocolVersion::v4, 3, query("SELECT COUNT(*) FROM ks.t WHERE k = 1"));
        EXPECT_TRUE(c.read().prefix.warnings.empty());
        c.send(ProtocolVersion::v4, 3, query("SELECT * FROM ks.t"));
        EXPECT_TRUE(c.read().prefix.warnings.empty());

        // A multi-partition batch over 5 KiB: Cassandra's batch_size_warn_threshold warning.
        const std::string big(3000, 'x');
        p::BatchRequest b;
        b.type = p::BatchType::unlogged;
        p::Bytes v1(big.begin(), big.end());
        std::string insert = "INSERT INTO ks.t (k, c, v) VALUES (1, 1, ?)";
        std::string insert2 = "INSERT INTO ks.t (k, c, v) VALUES (2, 1, ?)";
        p::BatchStatement s1;
        s1.query = insert;
        s1.values = {p::ValueView{p::ValueView::Kind::value, p::BytesView(v1)}};
        p::BatchStatement s2 = s1;
        s2.query = insert2;
        b.statements = {s1, s2};
        c.send(ProtocolVersion::v4, 4, b);
        r = c.read();
        ASSERT_TRUE(std::holds_alternative<p::ResultResponse>(r.response));
        const std::size_t size = 2 * big.size() + insert.size() + insert2.size();
        if (cassandra) {
            ASSERT_EQ(r.prefix.warnings.size(), 1u);
            EXPECT_EQ(r.prefix.warnings[0], "Batch for [ks.t] is of size " + std::to_string(size) +
                                                ", exceeding specified threshold of 5120 by " +
                                                std::to_string(size - 5120) + ".");
        } else {
            EXPECT_TRUE(r.prefix.warnings.empty());
        }
        // The same size in one partition: no warning (Cassandra warns only for several mutations).
        b.statements[1].query = "INSERT INTO ks.t (k, c, v) VALUES (1, 2, ?)";
        c.send(ProtocolVersion::v4, 4, b);
        EXPECT_TRUE(c.read().prefix.warnings.empty());
    }
}

TEST(ServerEmulation, FaultRuleWarnAddsAWarning) {
    auto cluster = start_cluster("cassandra-4.1");
    cluster->faults().add(net::parse_fault("warn=Read 0 live rows and 1001 tombstone cells,pattern=system.local"));
    for (ProtocolVersion v : {ProtocolVersion::v4, ProtocolVersion::v5}) {
        RawClient c(cluster->address(1), cluster->port());
        c.startup(v);
        c.send(v, 3, query("SELECT key FROM system.local"));
        auto r = c.read();
        EXPECT_TRUE(std::holds_alternative<p::ResultResponse>(r.response));
        EXPECT_EQ(r.prefix.warnings, std::vector<std::string>{"Read 0 live rows and 1001 tombstone cells"});
        c.send(v, 3, query("SELECT * FROM system.peers"));
        EXPECT_TRUE(c.read().prefix.warnings.empty());
    }
    EXPECT_THROW(net::parse_fault("warn"), async_cassandra::UsageError);
}

/// The ERROR body of the next response, raw.
p::Bytes error_body(RawClient& c) {
    auto env = c.read_envelope();
    EXPECT_TRUE(env);
    if (!env) return {};
    EXPECT_EQ(env->header.opcode, p::Opcode::error);
    auto body = env->body_view();
    return p::Bytes(body.begin(), body.end());
}

p::Bytes body_of(std::uint32_t code, const std::string& message, std::uint16_t cl, std::int32_t received,
                 std::int32_t block_for, const std::string& write_type, std::optional<std::uint16_t> contentions) {
    p::Bytes out;
    p::ByteWriter w(out);
    w.write_i32(static_cast<std::int32_t>(code));
    w.write_string(message);
    w.write_u16(cl);
    w.write_i32(received);
    w.write_i32(block_for);
    if (!write_type.empty()) w.write_string(write_type);
    if (contentions) w.write_u16(*contentions);
    return out;
}

TEST(ServerEmulation, LwtTimeoutShapes) {
    auto cluster = start_cluster("cassandra-4.1");
    cluster->faults().add(net::parse_fault("error=lwt_commit_timeout,pattern=IF NOT EXISTS"));
    cluster->faults().add(net::parse_fault("error=cas_write_timeout,pattern=IF v ="));
    cluster->faults().add(net::parse_fault("error=cas_write_unknown,pattern=IF EXISTS"));
    const std::string timeout0 = "Operation timed out - received only 0 responses.";
    const std::string timeout1 = "Operation timed out - received only 1 responses.";
    const std::string unknown = "CAS operation result is unknown - proposal accepted by 1 but not a quorum.";
    const std::uint16_t one = 0x0001, serial = 0x0008;
    for (ProtocolVersion v : {ProtocolVersion::v4, ProtocolVersion::v5}) {
        SCOPED_TRACE(static_cast<int>(v));
        const bool v5 = v == ProtocolVersion::v5;
        RawClient c(cluster->address(1), cluster->port());
        c.startup(v);
        c.send(v, 3, query("INSERT INTO ks.t (k) VALUES (1) IF NOT EXISTS"));
        // Paxos commit timeout: SIMPLE, and on v5 the contention count after it.
        EXPECT_EQ(error_body(c), body_of(0x1100, timeout0, one, 0, 1, "SIMPLE", v5 ? std::optional<std::uint16_t>(1) : std::nullopt));
        c.send(v, 4, query("UPDATE ks.t SET v = 2 WHERE k = 1 IF v = 1"));
        EXPECT_EQ(error_body(c), body_of(0x1100, timeout1, serial, 1, 2, "CAS", v5 ? std::optional<std::uint16_t>(1) : std::nullopt));
        c.send(v, 5, query("DELETE FROM ks.t WHERE k = 1 IF EXISTS"));
        if (v5) EXPECT_EQ(error_body(c), body_of(0x1700, unknown, serial, 1, 2, "", std::nullopt));
        else EXPECT_EQ(error_body(c), body_of(0x1100, timeout1, serial, 1, 2, "CAS", std::nullopt));
    }
}

}  // namespace

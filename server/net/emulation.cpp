#include "server/net/emulation.hpp"

#include <async_cassandra/error.hpp>

#include <algorithm>

namespace async_cassandra::server::net {

namespace {

constexpr std::uint8_t kUseBetaFlag = protocol::frame_flags::use_beta;

std::string version_list(std::initializer_list<const char*> versions) {
    std::string out;
    for (const char* v : versions) {
        if (!out.empty()) out += ", ";
        out += v;
    }
    return out;
}

}  // namespace

Emulation Emulation::parse(std::string_view name) {
    Emulation e;
    if (name.empty() || name == "native") e.kind_ = ServerKind::native;
    else if (name == "cassandra-3.11") e.kind_ = ServerKind::cassandra_3_11;
    else if (name == "cassandra-4.1") e.kind_ = ServerKind::cassandra_4_1;
    else if (name == "cassandra-5.0") e.kind_ = ServerKind::cassandra_5_0;
    else if (name == "scylla") e.kind_ = ServerKind::scylla;
    else
        throw UsageError("--emulate: unknown server '" + std::string(name) +
                         "' (cassandra-3.11, cassandra-4.1, cassandra-5.0, scylla)");
    return e;
}

std::string Emulation::release_version() const {
    switch (kind_) {
        case ServerKind::cassandra_3_11: return "3.11.17";
        case ServerKind::cassandra_5_0: return "5.0.2";
        // ScyllaDB reports the Cassandra version it is compatible with, not its own.
        case ServerKind::scylla: return "3.0.8";
        case ServerKind::native:
        case ServerKind::cassandra_4_1: break;
    }
    return "4.1.5";
}

std::vector<int> Emulation::protocol_versions() const {
    if (kind_ == ServerKind::cassandra_3_11 || kind_ == ServerKind::scylla) return {4};
    return {4, 5};
}

bool Emulation::has_peers_v2() const noexcept {
    return kind_ != ServerKind::cassandra_3_11 && kind_ != ServerKind::scylla;
}

protocol::SupportedResponse Emulation::supported(const std::vector<int>& enabled) const {
    protocol::SupportedResponse s;
    switch (kind_) {
        case ServerKind::native:
            s.options["CQL_VERSION"] = {"3.4.6"};
            s.options["COMPRESSION"] = {"lz4", "snappy"};
            for (int v : enabled) s.options["PROTOCOL_VERSIONS"].push_back(std::to_string(v) + "/v" + std::to_string(v));
            break;
        case ServerKind::cassandra_3_11:
            s.options["CQL_VERSION"] = {"3.4.4"};
            s.options["COMPRESSION"] = {"snappy", "lz4"};
            s.options["PROTOCOL_VERSIONS"] = {"3/v3", "4/v4", "5/v5-beta"};
            break;
        case ServerKind::cassandra_4_1:
        case ServerKind::cassandra_5_0:
            s.options["CQL_VERSION"] = {kind_ == ServerKind::cassandra_5_0 ? "3.4.7" : "3.4.6"};
            s.options["COMPRESSION"] = {"snappy", "lz4"};
            s.options["PROTOCOL_VERSIONS"] = {"3/v3", "4/v4", "5/v5", "6/v6-beta"};
            break;
        case ServerKind::scylla:
            // One shard, no shard-aware port: shard-aware drivers connect as to Cassandra.
            s.options["CQL_VERSION"] = {"3.3.1"};
            s.options["COMPRESSION"] = {"lz4", "snappy"};
            s.options["SCYLLA_SHARD"] = {"0"};
            s.options["SCYLLA_NR_SHARDS"] = {"1"};
            s.options["SCYLLA_PARTITIONER"] = {"org.apache.cassandra.dht.Murmur3Partitioner"};
            s.options["SCYLLA_SHARDING_ALGORITHM"] = {"biased-token-round-robin"};
            s.options["SCYLLA_SHARDING_IGNORE_MSB"] = {"12"};
            break;
    }
    return s;
}

Emulation::Refusal Emulation::refusal(int asked, std::uint8_t flags, std::int16_t stream,
                                      const std::vector<int>& enabled) const {
    Refusal r;
    const int lowest = enabled.front(), greatest = enabled.back();
    switch (kind_) {
        case ServerKind::native:
            // Cassandra 2.x-3.0 wording, which gocql parses; the client's own version if it is an
            // older one (the ERROR body is the same in every version), else our greatest.
            r.version = static_cast<std::uint8_t>(asked < lowest && asked >= 1 ? asked : greatest);
            r.stream = stream;
            r.message = "Invalid or unsupported protocol version (" + std::to_string(asked) +
                        "); the lowest supported version is " + std::to_string(lowest) + " and the greatest is " +
                        std::to_string(greatest);
            return r;
        case ServerKind::cassandra_3_11:
            r.stream = 0;
            if (asked == 5) {
                // Our v5 is the final one (segments), not 3.11's v5-beta, so it is refused even
                // with USE_BETA; without the flag this is exactly 3.11's answer.
                r.version = 5;
                r.message = (flags & kUseBetaFlag) ? "Invalid or unsupported protocol version (5); supported versions are (4/v4)"
                                                   : "Beta version of the protocol used (5/v5-beta), but USE_BETA flag is unset";
                return r;
            }
            r.version = static_cast<std::uint8_t>(asked == 1 || asked == 2 || asked == 3 ? asked : 5);
            r.message = "Invalid or unsupported protocol version (" + std::to_string(asked) +
                        "); supported versions are (" + version_list({"3/v3", "4/v4", "5/v5-beta"}) + ")";
            return r;
        case ServerKind::cassandra_4_1:
        case ServerKind::cassandra_5_0:
            r.stream = 0;
            if (asked == 6 && !(flags & kUseBetaFlag)) {
                r.version = 6;
                r.message = "Beta version of the protocol used (6/v6-beta), but USE_BETA flag is unset";
                return r;
            }
            // Old versions are answered in their own version; anything else in CURRENT (v5).
            r.version = static_cast<std::uint8_t>(asked == 1 || asked == 2 || asked == 3 ? asked : 5);
            r.message = "Invalid or unsupported protocol version (" + std::to_string(asked) +
                        "); supported versions are (" + version_list({"3/v3", "4/v4", "5/v5", "6/v6-beta"}) + ")";
            return r;
        case ServerKind::scylla:
            r.version = 4;
            r.stream = 0;
            r.message = "Invalid or unsupported protocol version: " + std::to_string(asked);
            return r;
    }
    return r;
}

}  // namespace async_cassandra::server::net

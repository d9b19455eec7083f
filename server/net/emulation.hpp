// What the node claims to be (`acass-server --emulate NAME`): the release version it reports, the
// SUPPORTED options, the protocol versions it accepts, and the exact frame with which it refuses
// a version, per real server. Sources (read with the project's search tool):
//  - Cassandra 3.11: transport/ProtocolVersion.java (V5 "v5-beta", MAX_SUPPORTED_VERSION V5) and
//    transport/Frame.java (beta version without USE_BETA: "Beta version of the protocol used
//    (5/v5-beta), but USE_BETA flag is unset", answered in v5, stream 0).
//  - Cassandra 4.0-5.0: transport/ProtocolVersion.java (supported 3/v3, 4/v4, 5/v5, 6/v6-beta;
//    invalidVersionMessage; CURRENT = V5 is the version of an answer before STARTUP,
//    PreV5Handlers.getConnectionVersion), transport/messages/OptionsMessage.java.
//  - ScyllaDB: transport/server.cc (read_frame: "Invalid or unsupported protocol version: N",
//    answered in its current version v4, stream 0, then the connection closes).
#pragma once

#include "protocol/messages.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace async_cassandra::server::net {

enum class ServerKind : std::uint8_t { native, cassandra_3_11, cassandra_4_1, cassandra_5_0, scylla };

class Emulation {
public:
    Emulation() = default;
    /// "" or "native", "cassandra-3.11", "cassandra-4.1", "cassandra-5.0", "scylla"; throws UsageError.
    static Emulation parse(std::string_view name);

    ServerKind kind() const noexcept { return kind_; }
    bool is_scylla() const noexcept { return kind_ == ServerKind::scylla; }
    bool is_native() const noexcept { return kind_ == ServerKind::native; }

    /// system.local / peers release_version.
    std::string release_version() const;
    /// Of the versions this node speaks (4, 5), the ones the emulated server accepts.
    std::vector<int> protocol_versions() const;
    /// Cassandra 3.11 and ScyllaDB have no system.peers_v2 (drivers fall back to system.peers).
    bool has_peers_v2() const noexcept;
    /// Cassandra's client warnings (batch size, aggregation without partition key); ScyllaDB's
    /// differ and are not emulated.
    bool cassandra_warnings() const noexcept { return !is_scylla(); }

    /// The SUPPORTED answer to OPTIONS; `enabled` = the versions this node accepts.
    protocol::SupportedResponse supported(const std::vector<int>& enabled) const;

    /// A whole ERROR frame refusing the first frame of a connection.
    struct Refusal {
        std::uint8_t version = 4;  ///< version of the answer frame (0x80 is added on the wire)
        std::int16_t stream = 0;
        std::string message;
    };
    /// `asked`: the version of the client's first frame; `flags` its flags; `stream` its stream
    /// id; `enabled`: the versions this node accepts (ascending).
    Refusal refusal(int asked, std::uint8_t flags, std::int16_t stream, const std::vector<int>& enabled) const;

private:
    ServerKind kind_ = ServerKind::native;
};

}  // namespace async_cassandra::server::net

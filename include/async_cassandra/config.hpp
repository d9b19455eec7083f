// Settings of a Cluster and of its connections. Plain aggregates: build them with designated
// initializers, e.g. ClusterConfig{.contact_points = {"127.0.0.1"}, .port = 9042}.
#pragma once

#include <async_cassandra/auth.hpp>
#include <async_cassandra/consistency.hpp>
#include <async_cassandra/observability.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace async_cassandra {

/// SASL PLAIN credentials (PasswordAuthenticator). Sent as the token "\0user\0password".
struct PlainTextAuth {
    std::string username;  ///< role name
    std::string password;  ///< kept in memory for reconnections
};

/// Body/segment compression to ask for in STARTUP. v5 only knows lz4 (snappy falls back to none);
/// if the server does not offer the algorithm the connection goes on uncompressed.
enum class CompressionAlgorithm : std::uint8_t { none, lz4, snappy };

/// TLS settings (asio::ssl / OpenSSL).
struct TlsConfig {
    /// PEM file with the CA certificates to trust; empty = the system's default paths.
    std::string ca_file;
    /// Verify the server's certificate chain.
    bool verify_peer = true;
    /// Host name to verify the certificate against (and to send as SNI); empty = the contact point.
    std::string server_name;
    /// Client certificate (PEM chain) presented to servers that require one (mutual TLS);
    /// empty = none. Needs key_file.
    std::string cert_file;
    /// Private key (PEM) of cert_file; it may be the same file.
    std::string key_file;
};

/// Settings of every connection of a Cluster.
struct ConnectionConfig {
    /// Protocol version to use: 4 or 5; nullopt negotiates (tries 5, falls back to 4).
    std::optional<int> protocol_version;
    /// Compression to ask for (see CompressionAlgorithm).
    CompressionAlgorithm compression = CompressionAlgorithm::none;
    /// Credentials for servers that require authentication; nullopt = none. SASL PLAIN
    /// (PlainTextAuthProvider), used unless auth_provider is set.
    std::optional<PlainTextAuth> auth;
    /// Any other SASL exchange (auth.hpp): takes precedence over `auth`.
    std::shared_ptr<AuthProvider> auth_provider;
    /// TLS; nullopt = plain TCP.
    std::optional<TlsConfig> tls;
    /// TCP connect + handshake limit.
    std::chrono::milliseconds connect_timeout{5000};
    /// Send OPTIONS on a connection idle for this long; nullopt disables heartbeats.
    std::optional<std::chrono::milliseconds> heartbeat_interval{std::chrono::seconds(30)};
    /// Stream ids per connection (1..32768): bounds the requests in flight; more requests wait.
    std::size_t max_in_flight = 2048;
    /// A connection whose abandoned (timed-out/cancelled) requests reach this count is closed.
    std::size_t max_orphans = 1024;
    /// Largest accepted response body.
    std::uint32_t max_body_size = 256u * 1024 * 1024;
    /// DRIVER_NAME / DRIVER_VERSION sent in STARTUP (shown by the server in its client list).
    std::string driver_name = "async-cassandra-cpp";
    std::string driver_version = "0.1.0";
};

/// Settings of a Cluster: where to connect, how, and the defaults of its sessions' requests.
struct ClusterConfig {
    /// Host names or addresses of nodes to connect to (all use `port`).
    std::vector<std::string> contact_points;
    /// Native protocol port of every contact point.
    std::uint16_t port = 9042;
    /// Settings of every connection (protocol version, compression, auth, TLS, limits).
    ConnectionConfig connection;
    /// Connections per host (>= 1).
    std::size_t connections_per_host = 1;
    /// Defaults of statements that do not set their own.
    Consistency default_consistency = Consistency::local_one;
    /// Serial consistency of conditional (IF ...) statements; nullopt = the server's (SERIAL).
    std::optional<Consistency> default_serial_consistency;
    /// Rows per page requested by execute(); execute() still returns every page.
    std::int32_t default_page_size = 5000;
    /// Per-request limit; nullopt = wait forever. A statement's own timeout wins.
    std::optional<std::chrono::milliseconds> request_timeout{std::chrono::seconds(12)};
    /// Told about every request (see RequestObserver); null = none. Shared by every session of
    /// the cluster, e.g. one MetricsCollector for the whole process.
    std::shared_ptr<RequestObserver> observer;
    /// Where the library logs (connection open/close/failure, negotiated protocol version,
    /// reconnections, heartbeat failures, orphaned stream ids, re-prepares). Empty (the default)
    /// = silent: a library should not write to the process's stderr unless asked to; use
    /// stderr_log_sink() for that.
    LogSink log_sink;
    /// Lines below this level are not built nor passed to the sink.
    LogLevel log_level = LogLevel::info;
};

}  // namespace async_cassandra

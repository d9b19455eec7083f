// Cluster: the entry point. Holds the configuration, the known hosts and their connection pools
// (`connections_per_host` per host, shared by the sessions that use the same keyspace), and
// opens Sessions. Requests are routed by the load-balancing policy and retried by the retry
// policy of ClusterConfig (see docs/cluster.md).
//
//   ac::Cluster cluster{io.get_executor(), ac::ClusterConfig{.contact_points = {"127.0.0.1"}}};
//   ac::Session session = co_await cluster.connect("my_keyspace");
//
// Threading: connections live on strands of the executor given here; connect()/shutdown()
// complete on the awaiting coroutine's executor. The Cluster must outlive its use but Sessions
// keep what they need alive on their own.
#pragma once

#include <async_cassandra/config.hpp>
#include <async_cassandra/host.hpp>
#include <async_cassandra/metadata.hpp>
#include <async_cassandra/session.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>

namespace async_cassandra {

/// The entry point: holds the configuration and opens Sessions (see the file comment).
class Cluster {
public:
    /// Throws ConfigurationError for an empty contact point list or a zero pool size.
    Cluster(asio::any_io_executor executor, ClusterConfig config);
    ~Cluster();
    Cluster(Cluster&&) noexcept;
    Cluster& operator=(Cluster&&) noexcept;

    /// Opens a session. The first connect() also starts the control connection, which discovers
    /// every node of the cluster (with data center, rack and tokens) from the contact points and
    /// follows topology, status and schema events. The session connects to every usable host
    /// (failures of some hosts are tolerated) and, if `keyspace` is given, runs USE on every
    /// connection. Throws NoHostAvailable (with
    /// each host's error) when no host accepted a connection, InvalidRequest for an unknown
    /// keyspace, AuthenticationError for bad credentials.
    asio::awaitable<Session> connect(std::optional<std::string> keyspace = std::nullopt);

    /// Shuts down every session opened by this cluster (closes every pool: pending requests
    /// fail with ConnectionClosed). Idempotent.
    asio::awaitable<void> shutdown();

    const ClusterConfig& config() const noexcept;
    /// The hosts the cluster knows, with their current up/down state (a snapshot): the contact
    /// points until the first connect() has discovered the cluster, then every node.
    HostList hosts() const;
    /// Nodes and schema as the control connection last read them (an immutable snapshot; empty
    /// before the first connect() or when the control connection could not start).
    ClusterMetadata metadata() const;
    /// The CQL protocol version (4 or 5) negotiated once per cluster by its first connection
    /// (ConnectionConfig::protocol_version when set, else v5 with a fall back to v4) and used for
    /// every later connection; nullopt until the first connect() has opened a connection.
    std::optional<int> protocol_version() const;

    struct State;  ///< internal (src/cluster)

private:
    std::shared_ptr<State> state_;
};

}  // namespace async_cassandra

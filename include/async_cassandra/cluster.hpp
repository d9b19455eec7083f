// Cluster: the entry point. Holds the configuration and opens Sessions (each with its own pool
// of connections: `connections_per_host` per contact point).
//
//   ac::Cluster cluster{io.get_executor(), ac::ClusterConfig{.contact_points = {"127.0.0.1"}}};
//   ac::Session session = co_await cluster.connect("my_keyspace");
//
// Threading: connections live on strands of the executor given here; connect()/shutdown()
// complete on the awaiting coroutine's executor. The Cluster must outlive its use but Sessions
// keep what they need alive on their own.
#pragma once

#include <async_cassandra/config.hpp>
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

    /// Opens a session: connects to every contact point (failures of some hosts are tolerated)
    /// and, if `keyspace` is given, runs USE on every connection. Throws NoHostAvailable (with
    /// each host's error) when no host accepted a connection, InvalidRequest for an unknown
    /// keyspace, AuthenticationError for bad credentials.
    asio::awaitable<Session> connect(std::optional<std::string> keyspace = std::nullopt);

    /// Shuts down every session opened by this cluster. Idempotent.
    asio::awaitable<void> shutdown();

    const ClusterConfig& config() const noexcept;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace async_cassandra

// ClusterCore: what a Cluster shares with its Sessions — the known hosts and their up/down
// state, the connection pools (per host and keyspace), the negotiated protocol version and the
// policies. The cluster layer: it knows connections (net) but nothing of sessions.
//
// Hosts: an immutable HostsState swapped as a whole (routing never waits for a refresh); seeded from the
// contact points. Pools: sessions with the same keyspace share one KeyspacePools (its pools are
// opened lazily, per host, and closed when the last session using them is gone).
//
// Threading: every member may be called from any thread.
#pragma once

#include "cluster/cluster_state.hpp"
#include "cluster/control_connection.hpp"
#include "net/host_pool.hpp"
#include "net/logging.hpp"

#include <async_cassandra/config.hpp>
#include <async_cassandra/host.hpp>
#include <async_cassandra/load_balancing.hpp>
#include <async_cassandra/retry_policy.hpp>
#include <async_cassandra/speculative_execution.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/experimental/concurrent_channel.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace async_cassandra::cluster {

/// One published set of hosts.
struct HostsState {
    HostList hosts;
    std::map<std::string, HostPtr, std::less<>> by_endpoint;
    std::string default_datacenter;
    /// Replicas per keyspace and token; null until the topology is known.
    std::shared_ptr<const TokenMap> token_map;
};

/// A ClusterView over one HostsState (what a query plan is computed from).
class HostsView : public ClusterView {
public:
    explicit HostsView(std::shared_ptr<const HostsState> state) : state_(std::move(state)) {}
    const HostList& hosts() const noexcept override { return state_->hosts; }
    HostList replicas(std::string_view keyspace, std::int64_t token) const override;
    std::string default_datacenter() const override { return state_->default_datacenter; }

private:
    std::shared_ptr<const HostsState> state_;
};

class ClusterCore;

/// The pools of one keyspace, one per host, opened on first use.
class KeyspacePools {
public:
    KeyspacePools(std::shared_ptr<ClusterCore> core, std::string keyspace);
    ~KeyspacePools();
    const std::string& keyspace() const noexcept { return keyspace_; }
    /// The pool of `host` (created, not opened, when new).
    std::shared_ptr<net::HostPool> pool(const Host& host);
    /// The pool of `host` if it exists.
    std::shared_ptr<net::HostPool> find(const std::string& endpoint) const;
    /// Closes and forgets the pool of `endpoint` (the host left the cluster).
    void remove(const std::string& endpoint);
    std::vector<std::shared_ptr<net::HostPool>> all() const;
    /// Sessions using these pools: the last one to detach closes them at once (its pending
    /// requests fail with ConnectionClosed), not only when the last reference goes.
    void attach() noexcept { sessions_.fetch_add(1, std::memory_order_relaxed); }
    void detach();
    void close();

private:
    std::shared_ptr<ClusterCore> core_;
    std::string keyspace_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<net::HostPool>, std::less<>> pools_;
    bool closed_ = false;
    std::atomic<int> sessions_{0};
};

class ClusterCore : public std::enable_shared_from_this<ClusterCore> {
public:
    ClusterCore(asio::any_io_executor executor, ClusterConfig config);
    /// Closes the control connection (its coroutines would otherwise keep the io_context busy).
    ~ClusterCore();

    const asio::any_io_executor& executor() const noexcept { return executor_; }
    const ClusterConfig& config() const noexcept { return config_; }
    const net::Logger& logger() const noexcept { return logger_; }
    const LoadBalancingPolicy& load_balancing() const noexcept { return *load_balancing_; }
    const RequestRetryPolicy& retry_policy() const noexcept { return *retry_policy_; }
    const SpeculativeExecutionPolicy* speculative_execution() const noexcept {
        return config_.speculative_execution.get();
    }
    const std::shared_ptr<const net::PoolSettings>& pool_settings() const noexcept { return pool_settings_; }

    /// The current hosts (a pointer copy under a short lock; never waits for a refresh).
    std::shared_ptr<const HostsState> hosts() const { return hosts_.load(); }
    /// Replaces the host list (discovery); hosts keep their up/down state by endpoint.
    void publish_hosts(HostList hosts, std::string default_datacenter,
                       std::shared_ptr<const TokenMap> token_map = nullptr);
    /// Publishes the hosts and token map of a topology snapshot. The default data center is
    /// ClusterConfig::local_dc, else the one of the control connection's node (the contact point
    /// that answered first; the first host of the metadata), chosen once.
    void apply_state(const ClusterState& state);

    /// The shared pools of `keyspace` ("" = none).
    std::shared_ptr<KeyspacePools> pools(const std::string& keyspace);
    /// Every pool of every keyspace of `endpoint`.
    std::vector<std::shared_ptr<net::HostPool>> pools_of(const std::string& endpoint);

    /// A connection attempt to `endpoint` succeeded (null) or failed: marks the host up/down.
    void report_connect(const std::string& endpoint, const std::exception_ptr& error);
    /// STATUS_CHANGE events: DOWN marks the host down when no pool of it has an open connection
    /// (our own connections know better than gossip); UP marks it up and reconnects now.
    void host_down_event(const std::string& endpoint);
    void host_up_event(const std::string& endpoint);

    /// Starts the control connection on the first call (later calls wait for that one): from
    /// then on the hosts, their data centers, the token map and the schema come from it. When it
    /// cannot start, the contact points stay the hosts (logged) and the pools report the error.
    asio::awaitable<void> start_topology();
    /// The current metadata snapshot (empty before the first connect).
    ClusterMetadata metadata() const;
    /// The version settled by the cluster's first connection (nullopt before it opened).
    std::optional<int> protocol_version() const noexcept {
        const int v = pool_settings_->settled_version->load(std::memory_order_acquire);
        return v ? std::optional<int>(v) : std::nullopt;
    }
    /// After DDL: waits until every live node reports the same schema version (false: timeout,
    /// or no control connection).
    asio::awaitable<bool> wait_for_schema_agreement(std::chrono::milliseconds timeout);
    /// A host left the cluster: close its pools.
    void remove_host(const std::string& endpoint);

    /// Closes every pool and the control connection. Idempotent.
    void shutdown();
    bool is_shut_down() const noexcept { return shut_down_.load(std::memory_order_acquire); }

private:
    void set_up(const std::string& endpoint, bool up, const std::exception_ptr& error);

    asio::any_io_executor executor_;
    ClusterConfig config_;
    net::Logger logger_;
    std::shared_ptr<const LoadBalancingPolicy> load_balancing_;
    std::shared_ptr<const RequestRetryPolicy> retry_policy_;
    std::shared_ptr<const net::PoolSettings> pool_settings_;
    SnapshotHolder<const HostsState> hosts_;
    std::atomic<bool> shut_down_{false};
    mutable std::mutex mutex_;  ///< guards keyspaces_, the topology fields
    std::map<std::string, std::weak_ptr<KeyspacePools>> keyspaces_;
    std::string chosen_datacenter_;  ///< guarded by mutex_
    using Latch = asio::experimental::concurrent_channel<void(asio::error_code, bool)>;
    enum class Topology { idle, starting, done };
    Topology topology_ = Topology::idle;            ///< guarded by mutex_
    std::shared_ptr<Latch> topology_ready_;         ///< closed when start_topology finished
    std::shared_ptr<ControlConnection> control_;    ///< guarded by mutex_
};

}  // namespace async_cassandra::cluster

#include <async_cassandra/cluster.hpp>

/// The shared state behind the public Cluster handle (Cluster::connect lives in the session
/// layer, which knows sessions; the cluster layer does not).
struct async_cassandra::Cluster::State {
    std::shared_ptr<cluster::ClusterCore> core;
};

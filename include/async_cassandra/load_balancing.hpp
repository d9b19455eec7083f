// Load balancing: which hosts a request tries, in which order (its query plan).
//
//   ClusterConfig config;
//   config.load_balancing = std::make_shared<TokenAwarePolicy>(
//       std::make_shared<DcAwareRoundRobinPolicy>(DcAwareOptions{.local_dc = "dc1"}));
//
// The default is token awareness over DC-aware round robin (local DC = the data center of the
// first contact point that answers, when `local_dc` is empty). Plans never contain hosts that
// are down; the request executor walks a plan until a host answers (see retry_policy.hpp).
//
// Threading: plan() is called for every request, from any thread, concurrently: implementations
// must be thread-safe and must not block.
#pragma once

#include <async_cassandra/host.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace async_cassandra {

/// What the driver knows about the cluster when it plans a request.
class ClusterView {
public:
    virtual ~ClusterView() = default;
    /// Every known host (up or down), in a stable order.
    virtual const HostList& hosts() const noexcept = 0;
    /// Replicas of `token` in `keyspace`, primary first; empty when the ring or the keyspace's
    /// replication is not known.
    virtual HostList replicas(std::string_view keyspace, std::int64_t token) const = 0;
    /// The data center to prefer when the policy was not told one ("" when unknown).
    virtual std::string default_datacenter() const = 0;
};

/// What a request carries for routing.
struct RoutingInfo {
    /// Keyspace of the statement (its prepared keyspace, its v5 keyspace, or the session's).
    std::string_view keyspace;
    /// Murmur3 token of the partition key, when the statement is a bound one whose partition
    /// key values are all given.
    std::optional<std::int64_t> token;
};

/// Orders the hosts of one request (see the file comment).
class LoadBalancingPolicy {
public:
    virtual ~LoadBalancingPolicy() = default;
    /// The hosts to try, best first. Must not include down hosts.
    virtual HostList plan(const ClusterView& cluster, const RoutingInfo& routing) const = 0;
    /// Whether the driver should keep connections to `host` (hosts a plan can never return —
    /// e.g. remote data centers — get no pool).
    virtual bool is_usable(const ClusterView& cluster, const Host& host) const = 0;
};

/// Every up host, rotating the starting point per request.
class RoundRobinPolicy : public LoadBalancingPolicy {
public:
    HostList plan(const ClusterView& cluster, const RoutingInfo& routing) const override;
    bool is_usable(const ClusterView&, const Host&) const override { return true; }

private:
    mutable std::atomic<std::size_t> next_{0};
};

/// Settings of DcAwareRoundRobinPolicy.
struct DcAwareOptions {
    /// The local data center; empty = the data center of the first contact point that answered.
    std::string local_dc;
    /// Let plans continue into remote data centers once the local hosts are exhausted.
    bool allow_remote_dcs = false;
    /// With allow_remote_dcs: at most this many hosts per remote data center.
    std::size_t remote_hosts_per_dc = 2;
};

/// Round robin over the up hosts of the local data center; then, if allowed, up to
/// `remote_hosts_per_dc` hosts of each remote one. Hosts whose data center is not known yet
/// count as local.
class DcAwareRoundRobinPolicy : public LoadBalancingPolicy {
public:
    explicit DcAwareRoundRobinPolicy(DcAwareOptions options = {}) : options_(std::move(options)) {}
    HostList plan(const ClusterView& cluster, const RoutingInfo& routing) const override;
    bool is_usable(const ClusterView& cluster, const Host& host) const override;
    const DcAwareOptions& options() const noexcept { return options_; }

private:
    std::string local_dc(const ClusterView& cluster) const;
    bool is_local(const ClusterView& cluster, const Host& host) const;
    DcAwareOptions options_;
    mutable std::atomic<std::size_t> next_{0};
};

/// For a request whose token is known: the up replicas that the child policy would use, in
/// random order (spreading load over replicas), followed by the rest of the child's plan.
/// Without a token (or without replicas): the child's plan.
class TokenAwarePolicy : public LoadBalancingPolicy {
public:
    explicit TokenAwarePolicy(std::shared_ptr<const LoadBalancingPolicy> child, bool shuffle_replicas = true)
        : child_(std::move(child)), shuffle_(shuffle_replicas) {}
    HostList plan(const ClusterView& cluster, const RoutingInfo& routing) const override;
    bool is_usable(const ClusterView& cluster, const Host& host) const override {
        return child_->is_usable(cluster, host);
    }

private:
    std::shared_ptr<const LoadBalancingPolicy> child_;
    bool shuffle_;
};

/// The default policy: TokenAwarePolicy over DcAwareRoundRobinPolicy(options).
std::shared_ptr<const LoadBalancingPolicy> default_load_balancing_policy(DcAwareOptions options = {});

}  // namespace async_cassandra

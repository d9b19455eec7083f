// The load-balancing policies of load_balancing.hpp.
#include <async_cassandra/load_balancing.hpp>

#include <algorithm>
#include <map>
#include <random>

namespace async_cassandra {

namespace {
// Rotates `hosts` to start at `start` (round robin without copying twice).
void append_rotated(HostList& out, const HostList& hosts, std::size_t start) {
    const std::size_t n = hosts.size();
    for (std::size_t i = 0; i < n; ++i) out.push_back(hosts[(start + i) % n]);
}

std::minstd_rand& thread_rng() {
    thread_local std::minstd_rand rng(std::random_device{}());
    return rng;
}
}  // namespace

HostList RoundRobinPolicy::plan(const ClusterView& cluster, const RoutingInfo&) const {
    HostList up;
    for (const auto& h : cluster.hosts())
        if (h->is_up()) up.push_back(h);
    HostList out;
    out.reserve(up.size());
    if (!up.empty()) append_rotated(out, up, next_.fetch_add(1, std::memory_order_relaxed) % up.size());
    return out;
}

std::string DcAwareRoundRobinPolicy::local_dc(const ClusterView& cluster) const {
    return options_.local_dc.empty() ? cluster.default_datacenter() : options_.local_dc;
}

bool DcAwareRoundRobinPolicy::is_local(const ClusterView& cluster, const Host& host) const {
    if (host.datacenter().empty()) return true;  // not known yet (e.g. before discovery)
    const std::string local = local_dc(cluster);
    return local.empty() || host.datacenter() == local;
}

bool DcAwareRoundRobinPolicy::is_usable(const ClusterView& cluster, const Host& host) const {
    if (is_local(cluster, host) || !options_.allow_remote_dcs) return is_local(cluster, host);
    // A remote host is usable when it is among the first remote_hosts_per_dc of its DC.
    std::size_t rank = 0;
    for (const auto& h : cluster.hosts()) {
        if (h->datacenter() != host.datacenter()) continue;
        if (h->endpoint() == host.endpoint()) return rank < options_.remote_hosts_per_dc;
        ++rank;
    }
    return false;
}

HostList DcAwareRoundRobinPolicy::plan(const ClusterView& cluster, const RoutingInfo&) const {
    const std::string local = local_dc(cluster);
    HostList near;
    near.reserve(cluster.hosts().size());
    std::map<std::string, HostList> remote;
    for (const auto& h : cluster.hosts()) {
        if (h->datacenter().empty() || local.empty() || h->datacenter() == local) {
            if (h->is_up()) near.push_back(h);
        } else if (options_.allow_remote_dcs) {
            HostList& dc = remote[h->datacenter()];
            // The per-DC limit counts hosts, up or not, so that the usable set stays stable.
            if (dc.size() < options_.remote_hosts_per_dc) dc.push_back(h);
        }
    }
    const std::size_t start = next_.fetch_add(1, std::memory_order_relaxed);
    if (remote.empty()) {
        // One data center (the usual case): rotated in place, no second list per request.
        if (!near.empty()) std::rotate(near.begin(), near.begin() + static_cast<std::ptrdiff_t>(start % near.size()), near.end());
        return near;
    }
    HostList out;
    out.reserve(near.size());
    if (!near.empty()) append_rotated(out, near, start % near.size());
    for (auto& [dc, hosts] : remote) {
        HostList up;
        for (auto& h : hosts)
            if (h->is_up()) up.push_back(h);
        if (!up.empty()) append_rotated(out, up, start % up.size());
    }
    return out;
}

HostList TokenAwarePolicy::plan(const ClusterView& cluster, const RoutingInfo& routing) const {
    HostList child = child_->plan(cluster, routing);
    if (!routing.token || routing.keyspace.empty()) return child;
    const HostList replicas = cluster.replicas(routing.keyspace, *routing.token);
    if (replicas.empty()) return child;
    // Replicas first, in the child's preference (so the DC-aware child keeps remote replicas
    // out), shuffled; then the rest of the child's plan.
    auto is_replica = [&](const HostPtr& h) {
        return std::any_of(replicas.begin(), replicas.end(),
                           [&](const HostPtr& r) { return r->endpoint() == h->endpoint(); });
    };
    // Reordered in place (no second list per request): each replica moves up behind the
    // replicas before it, the other hosts keep their order.
    auto replicas_end = child.begin();
    for (auto it = child.begin(); it != child.end(); ++it) {
        if (!is_replica(*it)) continue;
        std::rotate(replicas_end, it, it + 1);
        ++replicas_end;
    }
    if (shuffle_ && replicas_end - child.begin() > 1) std::shuffle(child.begin(), replicas_end, thread_rng());
    return child;
}

std::shared_ptr<const LoadBalancingPolicy> default_load_balancing_policy(DcAwareOptions options) {
    return std::make_shared<TokenAwarePolicy>(std::make_shared<DcAwareRoundRobinPolicy>(std::move(options)));
}

}  // namespace async_cassandra

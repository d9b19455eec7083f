// The public Cluster handle over ClusterCore (Cluster::connect is in src/session/session.cpp).
#include <async_cassandra/cluster.hpp>

#include "cluster/cluster_core.hpp"

namespace async_cassandra {

Cluster::Cluster(asio::any_io_executor executor, ClusterConfig config) : state_(std::make_shared<State>()) {
    if (config.contact_points.empty()) throw ConfigurationError("ClusterConfig::contact_points is empty");
    if (config.connections_per_host == 0) throw ConfigurationError("ClusterConfig::connections_per_host must be >= 1");
    if (config.connection.max_in_flight == 0 || config.connection.max_in_flight > 32768)
        throw ConfigurationError("ConnectionConfig::max_in_flight must be in 1..32768");
    if (config.connection.protocol_version && *config.connection.protocol_version != 4 &&
        *config.connection.protocol_version != 5)
        throw ConfigurationError("ConnectionConfig::protocol_version must be 4 or 5");
    if (config.reconnection.base.count() <= 0 || config.reconnection.max < config.reconnection.base)
        throw ConfigurationError("ReconnectionConfig: base must be positive and max >= base");
    state_->core = std::make_shared<cluster::ClusterCore>(std::move(executor), std::move(config));
}

Cluster::~Cluster() = default;
Cluster::Cluster(Cluster&&) noexcept = default;
Cluster& Cluster::operator=(Cluster&&) noexcept = default;

const ClusterConfig& Cluster::config() const noexcept { return state_->core->config(); }

asio::awaitable<void> Cluster::shutdown() {
    state_->core->shutdown();
    co_return;
}

HostList Cluster::hosts() const { return state_->core->hosts()->hosts; }

ClusterMetadata Cluster::metadata() const { return state_->core->metadata(); }

std::optional<int> Cluster::protocol_version() const { return state_->core->protocol_version(); }

}  // namespace async_cassandra

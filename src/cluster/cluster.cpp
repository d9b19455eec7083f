#include <async_cassandra/cluster.hpp>

#include "session/session_impl.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio's awaitable frame allocator.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <asio/use_awaitable.hpp>

#include <mutex>

namespace async_cassandra {

struct Cluster::State {
    asio::any_io_executor executor;
    ClusterConfig config;
    std::mutex mutex;
    std::vector<std::weak_ptr<detail::SessionImpl>> sessions;
};

Cluster::Cluster(asio::any_io_executor executor, ClusterConfig config) : state_(std::make_shared<State>()) {
    if (config.contact_points.empty()) throw ConfigurationError("ClusterConfig::contact_points is empty");
    if (config.connections_per_host == 0) throw ConfigurationError("ClusterConfig::connections_per_host must be >= 1");
    if (config.connection.max_in_flight == 0 || config.connection.max_in_flight > 32768)
        throw ConfigurationError("ConnectionConfig::max_in_flight must be in 1..32768");
    if (config.connection.protocol_version && *config.connection.protocol_version != 4 &&
        *config.connection.protocol_version != 5)
        throw ConfigurationError("ConnectionConfig::protocol_version must be 4 or 5");
    state_->executor = std::move(executor);
    state_->config = std::move(config);
}

Cluster::~Cluster() = default;
Cluster::Cluster(Cluster&&) noexcept = default;
Cluster& Cluster::operator=(Cluster&&) noexcept = default;

const ClusterConfig& Cluster::config() const noexcept { return state_->config; }

asio::awaitable<Session> Cluster::connect(std::optional<std::string> keyspace) {
    auto state = state_;
    auto impl = std::make_shared<detail::SessionImpl>(state->executor, state->config, keyspace.value_or(""));
    co_await impl->start();
    {
        std::lock_guard lock(state->mutex);
        std::erase_if(state->sessions, [](const auto& w) { return w.expired(); });
        state->sessions.push_back(impl);
    }
    co_return Session(impl);
}

asio::awaitable<void> Cluster::shutdown() {
    std::vector<std::shared_ptr<detail::SessionImpl>> sessions;
    {
        std::lock_guard lock(state_->mutex);
        for (auto& w : state_->sessions)
            if (auto s = w.lock()) sessions.push_back(std::move(s));
        state_->sessions.clear();
    }
    for (auto& s : sessions) s->shutdown();
    co_return;
}

}  // namespace async_cassandra

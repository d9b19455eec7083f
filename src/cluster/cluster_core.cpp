#include "cluster/cluster_core.hpp"

#include "net/error_mapping.hpp"

#include <async_cassandra/exception_message.hpp>
#include <async_cassandra/text_codec.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>


namespace async_cassandra::cluster {

namespace {
/// USE for a keyspace given by its stored name, or already in CQL spelling when it starts with
/// a double quote (then kept as it is). Quoting is the library's one CQL quoter.
std::string use_statement(const std::string& keyspace) {
    if (!keyspace.empty() && keyspace.front() == '"') return "USE " + keyspace;
    return "USE " + quote_cql_identifier(keyspace);
}

/// Whether a failed connection attempt says the host is unreachable (rather than that the
/// host answered and refused something, like an unknown keyspace or bad credentials).
bool is_unreachable(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const ServerError&) {
        return false;
    } catch (const ConfigurationError&) {
        return false;
    } catch (...) {
        return true;
    }
}

}  // namespace

HostList HostsView::replicas(std::string_view keyspace, std::int64_t token) const {
    HostList out;
    if (!state_->token_map) return out;  // topology not known: routing falls back to the child
    const std::span<const std::string> endpoints = state_->token_map->replicas(keyspace, token);
    out.reserve(endpoints.size());
    for (const std::string& endpoint : endpoints) {
        auto it = state_->by_endpoint.find(endpoint);
        if (it != state_->by_endpoint.end()) out.push_back(it->second);
    }
    return out;
}

// ---------------------------------------------------------------- KeyspacePools

KeyspacePools::KeyspacePools(std::shared_ptr<ClusterCore> core, std::string keyspace)
    : core_(std::move(core)), keyspace_(std::move(keyspace)) {}

KeyspacePools::~KeyspacePools() { close(); }

void KeyspacePools::detach() {
    if (sessions_.fetch_sub(1, std::memory_order_acq_rel) == 1) close();
}

void KeyspacePools::close() {
    std::map<std::string, std::shared_ptr<net::HostPool>, std::less<>> pools;
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        pools.swap(pools_);
    }
    for (auto& [endpoint, pool] : pools) pool->close();
}

std::shared_ptr<net::HostPool> KeyspacePools::find(const std::string& endpoint) const {
    std::lock_guard lock(mutex_);
    auto it = pools_.find(endpoint);
    return it == pools_.end() ? nullptr : it->second;
}

void KeyspacePools::remove(const std::string& endpoint) {
    std::shared_ptr<net::HostPool> pool;
    {
        std::lock_guard lock(mutex_);
        auto it = pools_.find(endpoint);
        if (it == pools_.end()) return;
        pool = std::move(it->second);
        pools_.erase(it);
    }
    pool->close();
}

std::vector<std::shared_ptr<net::HostPool>> KeyspacePools::all() const {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<net::HostPool>> out;
    for (const auto& [endpoint, pool] : pools_) out.push_back(pool);
    return out;
}

std::shared_ptr<net::HostPool> KeyspacePools::pool(const Host& host) {
    std::lock_guard lock(mutex_);
    if (closed_) throw ConnectionClosed("session is shut down");
    auto it = pools_.find(host.endpoint());
    if (it != pools_.end()) return it->second;

    net::HostPool::Initializer init;
    if (!keyspace_.empty()) {
        init = [text = use_statement(keyspace_), consistency = core_->config().default_consistency,
                timeout = core_->config().connection.connect_timeout](
                   std::shared_ptr<net::Connection> c) -> asio::awaitable<void> {
            protocol::QueryRequest q;
            q.query = text;
            q.params.consistency = consistency;
            const protocol::Request request = q;
            net::Reply reply = co_await c->send(request, timeout);
            if (auto* e = std::get_if<protocol::ErrorResponse>(&reply.message)) net::throw_server_error(*e);
        };
    }
    std::weak_ptr<ClusterCore> weak = core_;
    auto listener = [weak, endpoint = host.endpoint()](std::exception_ptr error) {
        if (auto core = weak.lock()) core->report_connect(endpoint, error);
    };
    auto pool = std::make_shared<net::HostPool>(core_->executor(), host.address(), host.port(), core_->pool_settings(),
                                                std::move(init), std::move(listener));
    pools_.emplace(host.endpoint(), pool);
    return pool;
}

// ---------------------------------------------------------------- ClusterCore

ClusterCore::ClusterCore(asio::any_io_executor executor, ClusterConfig config)
    : executor_(std::move(executor)), config_(std::move(config)), logger_(config_.log_sink, config_.log_level) {
    DcAwareOptions dc;
    dc.local_dc = config_.local_dc;
    load_balancing_ = config_.load_balancing ? config_.load_balancing : default_load_balancing_policy(dc);
    retry_policy_ = config_.retry_policy ? config_.retry_policy : std::make_shared<DefaultRetryPolicy>();
    auto settings = std::make_shared<net::PoolSettings>();
    settings->connection = config_.connection;
    settings->size = std::max<std::size_t>(1, config_.connections_per_host);
    settings->reconnection = config_.reconnection;
    settings->logger = logger_;
    pool_settings_ = std::move(settings);
    HostList seeds;
    for (const auto& address : config_.contact_points) seeds.push_back(std::make_shared<Host>(address, config_.port));
    publish_hosts(std::move(seeds), config_.local_dc);
}

void ClusterCore::apply_state(const ClusterState& state) {
    if (state.metadata.hosts.empty()) return;  // nothing learnt yet: keep what we have
    HostList hosts;
    std::string dc = config_.local_dc;
    {
        std::lock_guard lock(mutex_);
        if (dc.empty()) {
            if (chosen_datacenter_.empty()) chosen_datacenter_ = state.metadata.hosts.front().datacenter;
            dc = chosen_datacenter_;
        }
    }
    for (const auto& h : state.metadata.hosts)
        hosts.push_back(std::make_shared<Host>(h.address, h.port, h.datacenter, h.rack));
    publish_hosts(std::move(hosts), std::move(dc), state.token_map);
}

ClusterCore::~ClusterCore() {
    if (control_) control_->close();
}

void ClusterCore::publish_hosts(HostList hosts, std::string default_datacenter,
                                std::shared_ptr<const TokenMap> token_map) {
    auto state = std::make_shared<HostsState>();
    auto old = this->hosts();
    for (auto& h : hosts) {
        // Keep the live state of a host already known under this endpoint.
        if (old) {
            auto it = old->by_endpoint.find(h->endpoint());
            if (it != old->by_endpoint.end() && it->second->status() != h->status())
                h = std::make_shared<Host>(h->address(), h->port(), h->datacenter(), h->rack(), it->second->status());
        }
        if (state->by_endpoint.emplace(h->endpoint(), h).second) state->hosts.push_back(h);
    }
    state->default_datacenter = std::move(default_datacenter);
    state->token_map = std::move(token_map);
    hosts_.store(std::move(state));
}

std::shared_ptr<KeyspacePools> ClusterCore::pools(const std::string& keyspace) {
    std::lock_guard lock(mutex_);
    if (is_shut_down()) throw ConnectionClosed("cluster is shut down");
    auto& weak = keyspaces_[keyspace];
    auto pools = weak.lock();
    if (!pools) {
        pools = std::make_shared<KeyspacePools>(shared_from_this(), keyspace);
        weak = pools;
    }
    std::erase_if(keyspaces_, [](const auto& entry) { return entry.second.expired(); });
    return pools;
}

std::vector<std::shared_ptr<net::HostPool>> ClusterCore::pools_of(const std::string& endpoint) {
    std::vector<std::shared_ptr<KeyspacePools>> sets;
    {
        std::lock_guard lock(mutex_);
        for (auto& [ks, weak] : keyspaces_)
            if (auto p = weak.lock()) sets.push_back(std::move(p));
    }
    std::vector<std::shared_ptr<net::HostPool>> out;
    for (auto& set : sets)
        if (auto pool = set->find(endpoint)) out.push_back(std::move(pool));
    return out;
}

void ClusterCore::set_up(const std::string& endpoint, bool up, const std::exception_ptr& error) {
    auto state = hosts();
    auto it = state->by_endpoint.find(endpoint);
    if (it == state->by_endpoint.end()) return;
    const bool was = it->second->status()->up.exchange(up, std::memory_order_acq_rel);
    if (was == up) return;
    if (up) {
        if (logger_.enabled(LogLevel::info)) logger_.log(LogLevel::info, "host " + endpoint + " is up");
    } else if (logger_.enabled(LogLevel::warn)) {
        logger_.log(LogLevel::warn,
                    "host " + endpoint + " is down" + (error ? " (" + exception_message(error) + ")" : std::string()));
    }
}

void ClusterCore::report_connect(const std::string& endpoint, const std::exception_ptr& error) {
    if (!error) set_up(endpoint, true, nullptr);
    else if (is_unreachable(error)) set_up(endpoint, false, error);
}

void ClusterCore::host_down_event(const std::string& endpoint) {
    for (auto& pool : pools_of(endpoint))
        if (pool->open_connections() > 0) return;
    set_up(endpoint, false, nullptr);
}

void ClusterCore::host_up_event(const std::string& endpoint) {
    set_up(endpoint, true, nullptr);
    for (auto& pool : pools_of(endpoint)) pool->wake_now();
}

asio::awaitable<void> ClusterCore::start_topology() {
    std::shared_ptr<Latch> ready;
    bool owner = false;
    {
        std::lock_guard lock(mutex_);
        if (topology_ == Topology::done) co_return;
        if (!topology_ready_) topology_ready_ = std::make_shared<Latch>(executor_, 0);
        ready = topology_ready_;
        if (topology_ == Topology::idle) {
            topology_ = Topology::starting;
            owner = true;
        }
    }
    if (!owner) {
        co_await ready->async_receive(asio::experimental::as_tuple(asio::use_awaitable));  // completes once closed
        co_return;
    }
    auto self = shared_from_this();
    ControlConnectionConfig cc;
    cc.contact_points = config_.contact_points;
    cc.port = config_.port;
    cc.connection = config_.connection;
    cc.request_timeout = config_.request_timeout.value_or(std::chrono::milliseconds(10000));
    cc.reconnect_base = config_.reconnection.base;
    cc.reconnect_max = config_.reconnection.max;
    cc.logger = logger_;
    ControlConnectionCallbacks callbacks;
    std::weak_ptr<ClusterCore> weak = self;
    callbacks.on_state = [weak](const ClusterStatePtr& state) {
        if (auto core = weak.lock(); core && state) core->apply_state(*state);
    };
    callbacks.on_host_status = [weak](const HostInfo& host, bool up) {
        auto core = weak.lock();
        if (!core) return;
        if (up) core->host_up_event(host.endpoint());
        else core->host_down_event(host.endpoint());
    };
    callbacks.on_host_removed = [weak](const HostInfo& host) {
        if (auto core = weak.lock()) core->remove_host(host.endpoint());
    };
    auto control = ControlConnection::create(executor_, std::move(cc), std::move(callbacks));
    std::exception_ptr error;
    try {
        co_await control->start();
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        control->close();
        control = nullptr;
        if (logger_.enabled(LogLevel::warn))
            logger_.log(LogLevel::warn, "control connection failed (" + exception_message(error) +
                                            "); routing to the contact points only");
    } else {
        if (auto version = control->protocol_version()) {
            int expected = 0;
            pool_settings_->settled_version->compare_exchange_strong(expected, static_cast<int>(*version));
        }
        apply_state(*control->state());
    }
    {
        std::lock_guard lock(mutex_);
        control_ = control;
        // A failed start is tried again by the next connect().
        topology_ = control ? Topology::done : Topology::idle;
        topology_ready_.reset();
    }
    ready->close();
    if (control && is_shut_down()) control->close();
}

ClusterMetadata ClusterCore::metadata() const {
    std::shared_ptr<ControlConnection> control;
    {
        std::lock_guard lock(mutex_);
        control = control_;
    }
    if (!control) return {};
    return control->state()->metadata;
}

asio::awaitable<bool> ClusterCore::wait_for_schema_agreement(std::chrono::milliseconds timeout) {
    std::shared_ptr<ControlConnection> control;
    {
        std::lock_guard lock(mutex_);
        control = control_;
    }
    if (!control) co_return false;
    co_return co_await control->wait_for_schema_agreement(timeout);
}

void ClusterCore::remove_host(const std::string& endpoint) {
    std::vector<std::shared_ptr<KeyspacePools>> sets;
    {
        std::lock_guard lock(mutex_);
        for (auto& [ks, weak] : keyspaces_)
            if (auto p = weak.lock()) sets.push_back(std::move(p));
    }
    for (auto& set : sets) set->remove(endpoint);
}

void ClusterCore::shutdown() {
    shut_down_.store(true, std::memory_order_release);
    {
        std::lock_guard lock(mutex_);
        if (control_) control_->close();
    }
    std::vector<std::shared_ptr<KeyspacePools>> sets;
    {
        std::lock_guard lock(mutex_);
        for (auto& [ks, weak] : keyspaces_)
            if (auto p = weak.lock()) sets.push_back(std::move(p));
        keyspaces_.clear();
    }
    for (auto& set : sets) set->close();
}

}  // namespace async_cassandra::cluster

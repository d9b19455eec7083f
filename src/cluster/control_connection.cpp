// The control connection's I/O: connect, REGISTER, read the system tables through the pure
// readers, publish, react to events and to the death of its node. Everything below runs on
// Impl::strand; the only state read from other threads is the published ClusterState (atomic),
// the negotiated version and the current endpoint (atomic / mutex).
#include "cluster/control_connection.hpp"

#include "cluster/schema_reader.hpp"
#include "cluster/topology_reader.hpp"
#include "net/connection.hpp"
#include "net/error_mapping.hpp"

#include <async_cassandra/exception_message.hpp>
#include <async_cassandra/row.hpp>
#include <async_cassandra/server_errors.hpp>
#include <async_cassandra/values.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include "protocol/rows_page.hpp"

namespace async_cassandra::cluster {
namespace {

constexpr auto wait_tuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace

struct ControlConnection::Impl : std::enable_shared_from_this<Impl> {
    using Strand = asio::strand<asio::any_io_executor>;

    Impl(asio::any_io_executor executor, ControlConnectionConfig cfg, ControlConnectionCallbacks cbs)
        : base(executor), strand(asio::make_strand(executor)), config(std::move(cfg)), callbacks(std::move(cbs)),
          wake(strand), debounce(strand), backoff(strand) {}

    asio::any_io_executor base;
    Strand strand;
    ControlConnectionConfig config;
    ControlConnectionCallbacks callbacks;
    ClusterStateHolder holder;

    std::shared_ptr<net::Connection> connection;  // null while reconnecting
    mutable std::mutex endpoint_mutex;
    std::string connected_endpoint;               // under endpoint_mutex
    std::atomic<int> version{0};
    std::atomic<bool> closed{false};

    asio::steady_timer wake;       // the refresher sleeps on it until an event marks the state dirty
    asio::steady_timer debounce;   // quiet period before a refresh
    asio::steady_timer backoff;    // between reconnection rounds
    bool dirty = false;
    bool reconnecting = false;
    bool peers_v1 = false;         // the node has no system.peers_v2 (Cassandra < 4.0, ScyllaDB)
    std::uint64_t refresh_started = 0;
    std::uint64_t refresh_published = 0;
    std::uint64_t generation = 0;
    std::set<std::string> down;    // endpoints reported DOWN and not UP since

    void log(LogLevel level, const std::string& line) const { config.logger.log(level, "control connection: " + line); }

    void set_endpoint(std::string endpoint) {
        std::lock_guard lock(endpoint_mutex);
        connected_endpoint = std::move(endpoint);
    }

    // ---------------------------------------------------------------- queries

    // `cql` must outlive the call (literals and named strings of the awaiting caller).
    static asio::awaitable<Page> query(const std::shared_ptr<net::Connection>& c, std::string_view cql,
                                       std::chrono::milliseconds timeout) {
        protocol::QueryRequest q;
        q.query = cql;
        q.params.consistency = Consistency::one;
        // No page size: system tables are small and a node returns them whole.
        // (named, not a temporary: GCC 12 mishandles non-trivial temporaries in co_await operands)
        const protocol::Request request = q;
        net::Reply reply = co_await c->send(request, timeout);
        if (auto* error = std::get_if<protocol::ErrorResponse>(&reply.message)) net::throw_server_error(*error);
        auto* result = std::get_if<protocol::ResultResponse>(&reply.message);
        auto* rows = result ? std::get_if<protocol::RowsResult>(result) : nullptr;
        if (!rows) throw ProtocolError(ProtocolErrc::invalid_value, "'" + std::string(cql) + "' did not return rows");
        co_return protocol::page_from_rows(reply.body, std::move(*rows));
    }

    // Peers from system.peers_v2, or system.peers on nodes without it (they answer InvalidRequest).
    asio::awaitable<Page> query_peers(const std::shared_ptr<net::Connection>& c) {
        if (!peers_v1) {
            try {
                co_return co_await query(c, "SELECT * FROM system.peers_v2", config.request_timeout);
            } catch (const InvalidRequest&) {
                peers_v1 = true;
                log(LogLevel::info, "no system.peers_v2 on " + c->endpoint() + ", reading system.peers");
            }
        }
        co_return co_await query(c, "SELECT * FROM system.peers", config.request_timeout);
    }

    asio::awaitable<Topology> read_hosts(const std::shared_ptr<net::Connection>& c) {
        Page local = co_await query(c, "SELECT * FROM system.local WHERE key='local'", config.request_timeout);
        Page peers = co_await query_peers(c);
        co_return read_topology(local, peers, NodeAddress{c->host(), c->port()}, config.port,
                                config.address_translator);
    }

    // ---------------------------------------------------------------- refresh and publish

    asio::awaitable<void> refresh_all() {
        auto c = connection;
        if (!c || !c->is_open()) throw ConnectionClosed("control connection is not connected");
        const std::uint64_t ticket = ++refresh_started;
        Topology topology = co_await read_hosts(c);
        const auto timeout = config.request_timeout;
        Page keyspaces = co_await query(c, "SELECT * FROM system_schema.keyspaces", timeout);
        Page tables = co_await query(c, "SELECT keyspace_name, table_name FROM system_schema.tables", timeout);
        Page columns = co_await query(c,
                                      "SELECT keyspace_name, table_name, column_name, clustering_order, kind, "
                                      "position, type FROM system_schema.columns",
                                      timeout);
        KeyspaceMap schema = read_schema(keyspaces, tables, columns);
        // Refreshes may overlap (an event-driven one and refresh()); never publish older reads
        // over newer ones.
        if (ticket <= refresh_published || closed) co_return;
        refresh_published = ticket;
        for (const std::string& line : topology.skipped) log(LogLevel::warn, "ignoring " + line);
        ClusterMetadata metadata;
        metadata.cluster_name = std::move(topology.cluster_name);
        metadata.partitioner = std::move(topology.partitioner);
        metadata.hosts = std::move(topology.hosts);
        metadata.keyspaces = std::move(schema);
        publish(std::move(metadata));
    }

    void publish(ClusterMetadata metadata) {
        ClusterStatePtr previous = holder.load();
        ClusterStatePtr next = ClusterState::make(std::move(metadata), ++generation);
        holder.store(next);
        for (const HostInfo& h : next->metadata.hosts)
            if (!previous->metadata.host(h.endpoint()) && previous->generation != 0) {
                log(LogLevel::info, "host " + h.endpoint() + " added (" + h.datacenter + "/" + h.rack + ")");
                if (callbacks.on_host_added) callbacks.on_host_added(h);
            }
        for (const HostInfo& h : previous->metadata.hosts)
            if (!next->metadata.host(h.endpoint())) {
                log(LogLevel::info, "host " + h.endpoint() + " removed");
                down.erase(h.endpoint());
                if (callbacks.on_host_removed) callbacks.on_host_removed(h);
            }
        if (callbacks.on_state) callbacks.on_state(next);
    }

    // Runs for the control connection's whole life: waits until an event marks the state dirty,
    // lets the burst settle for `event_debounce`, then refreshes once.
    static asio::awaitable<void> refresher(std::shared_ptr<Impl> self) {
        co_await self->refresh_loop();
    }

    asio::awaitable<void> refresh_loop() {
        while (!closed) {
            if (!dirty) {
                wake.expires_at(asio::steady_timer::time_point::max());
                co_await wake.async_wait(wait_tuple);
                continue;
            }
            debounce.expires_after(config.event_debounce);
            co_await debounce.async_wait(wait_tuple);
            if (closed) break;
            dirty = false;
            try {
                co_await refresh_all();
            } catch (const std::exception& e) {
                // A dead connection is handled by its close handler (the reconnection refreshes).
                log(LogLevel::warn, std::string("refresh failed: ") + e.what());
            }
        }
    }

    void mark_dirty() {
        dirty = true;
        wake.cancel();
    }

    // ---------------------------------------------------------------- events

    std::optional<HostInfo> known_host(const protocol::Bytes& address, std::int32_t port) const {
        NodeAddress reported;
        try {
            reported.address = Inet::from_bytes(address).to_string();
        } catch (const Error&) {
            return std::nullopt;
        }
        reported.port = port > 0 && port <= 65535 ? static_cast<std::uint16_t>(port) : config.port;
        if (config.address_translator) reported = config.address_translator(reported);
        if (const HostInfo* h = holder.load()->metadata.host(make_endpoint(reported.address, reported.port))) return *h;
        return std::nullopt;
    }

    void on_event(const protocol::EventResponse& event) {
        if (closed) return;
        if (const auto* topology = std::get_if<protocol::TopologyChangeEvent>(&event)) {
            log(LogLevel::debug, "event TOPOLOGY_CHANGE " + topology->change_type);
            mark_dirty();
        } else if (const auto* status = std::get_if<protocol::StatusChangeEvent>(&event)) {
            const bool up = status->change_type == "UP";
            auto host = known_host(status->address, status->port);
            if (!host) {
                if (up) mark_dirty();  // a node we did not know: read the topology again
                return;
            }
            log(LogLevel::info, "host " + host->endpoint() + (up ? " is up" : " is down"));
            if (up) down.erase(host->endpoint());
            else down.insert(host->endpoint());
            if (callbacks.on_host_status) callbacks.on_host_status(*host, up);
        } else if (std::holds_alternative<protocol::SchemaChange>(event)) {
            mark_dirty();
        }
    }

    // ---------------------------------------------------------------- connecting

    // Opens, registers and reads everything; the connection becomes current only when all of it
    // worked.
    asio::awaitable<void> connect_to(std::string address, std::uint16_t port) {
        ConnectionConfig cc = config.connection;
        if (int v = version.load()) cc.protocol_version = v;  // negotiated once per cluster
        auto c = co_await net::Connection::open(base, address, port, cc, config.logger);
        try {
            std::weak_ptr<Impl> weak = shared_from_this();
            c->set_event_handler([weak](const protocol::EventResponse& event) {
                if (auto self = weak.lock()) asio::post(self->strand, [self, event] { self->on_event(event); });
            });
            const protocol::Request reg =
                protocol::RegisterRequest{{"TOPOLOGY_CHANGE", "STATUS_CHANGE", "SCHEMA_CHANGE"}};
            net::Reply reply = co_await c->send(reg, config.request_timeout);
            if (auto* error = std::get_if<protocol::ErrorResponse>(&reply.message)) net::throw_server_error(*error);
            if (!std::holds_alternative<protocol::ReadyResponse>(reply.message))
                throw ProtocolError(ProtocolErrc::invalid_value, "REGISTER was not answered with READY");
            version.store(static_cast<int>(c->version()));
            auto previous = std::exchange(connection, c);
            if (previous) previous->close();
            co_await refresh_all();
            down.erase(c->endpoint());
            set_endpoint(c->endpoint());
            c->set_close_handler([weak, c](std::exception_ptr reason) {
                if (auto self = weak.lock())
                    asio::post(self->strand, [self, c, reason] { self->on_connection_lost(c, reason); });
            });
            log(LogLevel::info, "connected to " + c->endpoint() + " (protocol v" +
                                    std::to_string(static_cast<int>(c->version())) + ")");
        } catch (...) {
            if (connection == c) connection.reset();
            c->close();
            throw;
        }
    }

    asio::awaitable<void> connect_to_contact_points() {
        std::vector<NoHostAvailable::HostFailure> failures;
        for (const std::string& contact : config.contact_points) {
            try {
                co_await connect_to(contact, config.port);
                co_return;
            } catch (const AuthenticationError&) {
                throw;  // another node would reject the same credentials
            } catch (const CredentialsRequired&) {
                throw;
            } catch (const std::exception& e) {
                log(LogLevel::warn, "cannot use " + make_endpoint(contact, config.port) + ": " + e.what());
                failures.push_back({make_endpoint(contact, config.port), std::current_exception()});
            }
        }
        std::string what = "control connection: no contact point answered";
        for (const auto& f : failures) what += "; " + f.host + ": " + exception_message(f.error);
        throw NoHostAvailable(what, std::move(failures));
    }

    void on_connection_lost(const std::shared_ptr<net::Connection>& c, std::exception_ptr reason) {
        if (closed || connection != c) return;
        connection.reset();
        set_endpoint({});
        log(LogLevel::warn, "lost " + c->endpoint() + ": " + exception_message(reason) + "; reconnecting");
        if (const HostInfo* h = holder.load()->metadata.host(c->endpoint())) {
            down.insert(h->endpoint());
            if (callbacks.on_host_status) callbacks.on_host_status(*h, false);
        }
        if (!reconnecting) {
            reconnecting = true;
            asio::co_spawn(strand, reconnect(shared_from_this(), c->endpoint()), asio::detached);
        }
    }

    // Tries every known node not reported down (the dead one last), then the contact points,
    // in rounds separated by an exponential back-off, until one accepts.
    static asio::awaitable<void> reconnect(std::shared_ptr<Impl> self, std::string dead) {
        co_await self->reconnect_rounds(dead);
    }

    asio::awaitable<void> reconnect_rounds(const std::string& dead) {
        auto delay = config.reconnect_base;
        while (!closed) {
            std::vector<NodeAddress> candidates;
            std::vector<NodeAddress> later;
            auto add = [&](const std::string& address, std::uint16_t port, bool is_later) {
                NodeAddress a{address, port};
                if (std::find(candidates.begin(), candidates.end(), a) != candidates.end()) return;
                if (std::find(later.begin(), later.end(), a) != later.end()) return;
                (is_later ? later : candidates).push_back(std::move(a));
            };
            for (const HostInfo& h : holder.load()->metadata.hosts)
                add(h.address, h.port, h.endpoint() == dead || down.contains(h.endpoint()));
            for (const std::string& contact : config.contact_points) add(contact, config.port, false);
            candidates.insert(candidates.end(), later.begin(), later.end());
            for (const NodeAddress& a : candidates) {
                if (closed) break;
                try {
                    co_await connect_to(a.address, a.port);
                    reconnecting = false;
                    co_return;
                } catch (const std::exception& e) {
                    log(LogLevel::debug, "reconnection to " + make_endpoint(a.address, a.port) + " failed: " + e.what());
                }
            }
            if (closed) break;
            backoff.expires_after(delay);
            co_await backoff.async_wait(wait_tuple);
            delay = std::min(delay * 2, config.reconnect_max);
        }
        reconnecting = false;
    }

    // ---------------------------------------------------------------- schema agreement

    // One poll: the schema versions of the control node and every peer not known to be down.
    asio::awaitable<bool> schema_agrees() {
        auto c = connection;
        if (!c || !c->is_open()) co_return false;
        Topology topology = co_await read_hosts(c);
        std::set<std::string> versions;
        for (const HostInfo& h : topology.hosts)
            if (!down.contains(h.endpoint()) && !h.schema_version.empty()) versions.insert(h.schema_version);
        co_return versions.size() <= 1;
    }

    // The coroutines started from outside take the Impl by value: the frame keeps it alive.
    static asio::awaitable<void> start(std::shared_ptr<Impl> self) {
        if (self->config.contact_points.empty()) throw ConfigurationError("no contact points");
        co_await self->connect_to_contact_points();
        asio::co_spawn(self->strand, refresher(self), asio::detached);
    }

    static asio::awaitable<void> refresh(std::shared_ptr<Impl> self) { co_await self->refresh_all(); }

    static asio::awaitable<bool> wait_for_agreement(std::shared_ptr<Impl> self, std::chrono::milliseconds timeout) {
        co_return co_await self->poll_agreement(timeout);
    }

    asio::awaitable<bool> poll_agreement(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        asio::steady_timer timer(strand);
        while (!closed) {
            try {
                if (co_await schema_agrees()) co_return true;
            } catch (const std::exception& e) {
                log(LogLevel::debug, std::string("schema agreement poll failed: ") + e.what());
            }
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) break;
            timer.expires_after(std::min<std::chrono::steady_clock::duration>(std::chrono::milliseconds(200), deadline - now));
            co_await timer.async_wait(wait_tuple);
        }
        co_return false;
    }

    void shutdown() {
        closed = true;
        wake.cancel();
        debounce.cancel();
        backoff.cancel();
        if (connection) std::exchange(connection, nullptr)->close();
        set_endpoint({});
    }
};

std::shared_ptr<ControlConnection> ControlConnection::create(asio::any_io_executor executor,
                                                             ControlConnectionConfig config,
                                                             ControlConnectionCallbacks callbacks) {
    return std::make_shared<ControlConnection>(
        std::make_shared<Impl>(std::move(executor), std::move(config), std::move(callbacks)));
}

ControlConnection::ControlConnection(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ControlConnection::~ControlConnection() { close(); }

asio::awaitable<void> ControlConnection::start() {
    co_await asio::co_spawn(impl_->strand, Impl::start(impl_), asio::use_awaitable);
}

ClusterStatePtr ControlConnection::state() const { return impl_->holder.load(); }

asio::awaitable<void> ControlConnection::refresh() {
    co_await asio::co_spawn(impl_->strand, Impl::refresh(impl_), asio::use_awaitable);
}

asio::awaitable<bool> ControlConnection::wait_for_schema_agreement(std::chrono::milliseconds timeout) {
    co_return co_await asio::co_spawn(impl_->strand, Impl::wait_for_agreement(impl_, timeout), asio::use_awaitable);
}

void ControlConnection::close() {
    auto impl = impl_;
    impl->closed = true;
    asio::dispatch(impl->strand, [impl] { impl->shutdown(); });
}

std::optional<protocol::ProtocolVersion> ControlConnection::protocol_version() const noexcept {
    const int v = impl_->version.load();
    if (v == 0) return std::nullopt;
    return static_cast<protocol::ProtocolVersion>(v);
}

std::string ControlConnection::endpoint() const {
    std::lock_guard lock(impl_->endpoint_mutex);
    return impl_->connected_endpoint;
}

}  // namespace async_cassandra::cluster

#include "server/net/node.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <stdexcept>

namespace async_cassandra::server::net {

namespace p = async_cassandra::protocol;
using asio::use_awaitable;
using asio::experimental::as_tuple;

namespace {

EngineConfig engine_config(const ClusterOptions& o) {
    EngineConfig c;
    c.cluster_name = o.cluster_name;
    c.synthetic_rows = o.synthetic_rows;
    auto emulation = Emulation::parse(o.emulate);
    c.peers_v2 = emulation.has_peers_v2();
    c.cassandra_warnings = emulation.cassandra_warnings();
    return c;
}

/// The server side of TLS: TLS 1.2 or later, with the given certificate chain and key. Every
/// failure names the file and OpenSSL's reason, since this is what an operator sees at startup.
asio::ssl::context make_tls_context(const std::string& cert_file, const std::string& key_file,
                                    const std::string& client_ca_file) {
    asio::ssl::context ctx(asio::ssl::context::tls_server);
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                    asio::ssl::context::single_dh_use);
    asio::error_code ec;
    ctx.use_certificate_chain_file(cert_file, ec);
    if (ec) throw UsageError("cannot load TLS certificate '" + cert_file + "': " + ec.message());
    ctx.use_private_key_file(key_file, asio::ssl::context::pem, ec);
    if (ec) throw UsageError("cannot load TLS private key '" + key_file + "': " + ec.message());
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
        throw UsageError("TLS private key '" + key_file + "' does not match certificate '" + cert_file + "'");
    if (!client_ca_file.empty()) {
        ctx.load_verify_file(client_ca_file, ec);
        if (ec) throw UsageError("cannot load TLS client CA file '" + client_ca_file + "': " + ec.message());
        ctx.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    }
    return ctx;
}

p::Bytes address_bytes(const asio::ip::address& a) {
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        return p::Bytes(b.begin(), b.end());
    }
    auto b = a.to_v6().to_bytes();
    return p::Bytes(b.begin(), b.end());
}

}  // namespace

Cluster::Impl::Impl(ClusterOptions o) : options(std::move(o)), engine(engine_config(options)) {
    if (options.nodes < 1 || options.datacenters < 1 || options.racks < 1)
        throw UsageError("--nodes, --datacenters and --racks must be at least 1");
    if (options.nodes * options.datacenters > 250)
        throw UsageError("at most 250 nodes in all (--nodes per data center times --datacenters)");
    if (options.protocol_versions.empty()) throw UsageError("no protocol version enabled");
    for (int v : options.protocol_versions)
        if (v != 4 && v != 5) throw UsageError("unsupported protocol version " + std::to_string(v) + " (4 or 5)");
    emulation = Emulation::parse(options.emulate);
    for (int v : emulation.protocol_versions())
        if (std::find(options.protocol_versions.begin(), options.protocol_versions.end(), v) !=
            options.protocol_versions.end())
            versions.push_back(v);
    if (versions.empty())
        throw UsageError("--protocol-versions: none of them is spoken by the emulated " + options.emulate);
    min_version = versions.front();
    max_version = versions.back();
    for (auto& rule : options.faults) faults.add(rule);
    if (options.replay_pages) {
        if (options.synthetic_rows <= 0) throw UsageError("--replay-pages needs --synthetic ROWS");
        replay = std::make_unique<ReplayPages>(options.synthetic_rows);
    }
    if (options.tls_cert_file.empty() != options.tls_key_file.empty())
        throw UsageError("TLS needs both a certificate and a private key file");
    if (!options.tls_cert_file.empty()) tls.emplace(make_tls_context(options.tls_cert_file, options.tls_key_file, options.tls_client_ca_file));

    asio::error_code ec;
    auto base = asio::ip::make_address_v4(options.host, ec);
    if (ec) throw UsageError("--host must be an IPv4 address: " + options.host);
    const int per_dc = options.nodes;
    const int dcs = options.datacenters;
    const int n = per_dc * dcs;
    const int per_node = std::max(1, options.tokens_per_node);
    const std::uint64_t total = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(per_node);
    const std::uint64_t step = ~std::uint64_t{0} / total;
    for (int i = 1; i <= n; ++i) {
        auto node = std::make_unique<Node>(*this, i);
        node->address = asio::ip::address_v4(base.to_uint() + static_cast<std::uint32_t>(i - 1));
        char id[40];
        std::snprintf(id, sizeof id, "%08x-0000-4000-8000-%012x", 0xacac0000u + static_cast<unsigned>(i),
                      static_cast<unsigned>(i));
        node->host_id = id;
        const int dc = (i - 1) / per_dc;       // 0-based data center
        const int in_dc = (i - 1) % per_dc;    // 0-based position within it
        node->data_center = dcs == 1 ? "datacenter1" : "dc" + std::to_string(dc + 1);
        node->rack = "rack" + std::to_string(in_dc % options.racks + 1);
        // Evenly spaced tokens. The ring interleaves the nodes of one data center (each owns an
        // equal share of it) and the data centers (each one's tokens cover the whole ring, offset
        // by one step from the previous one's), as operators allocate multi-DC tokens.
        for (int k = 0; k < per_node; ++k) {
            std::uint64_t index = (static_cast<std::uint64_t>(k) * static_cast<std::uint64_t>(per_dc) +
                                   static_cast<std::uint64_t>(in_dc)) * static_cast<std::uint64_t>(dcs) +
                                  static_cast<std::uint64_t>(dc);
            std::uint64_t u = (std::uint64_t{1} << 63) + step * (index + 1);  // INT64_MIN + ...
            node->tokens.push_back(static_cast<std::int64_t>(u));
        }
        nodes.push_back(std::move(node));
    }
    update_placement();
}

void Cluster::Impl::count_route(Node& n, const PartitionRoute& route) {
    if (route.range_end) {
        auto replicas = placement->range_replicas(*route.replication, route.token, *route.range_end, n.id);
        bool replica = std::find(replicas.begin(), replicas.end(), n.id) != replicas.end();
        (replica ? n.range_replica_requests : n.range_non_replica_requests).fetch_add(1, std::memory_order_relaxed);
        return;
    }
    const ReplicaMemoKey key{route.replication.get(), placement->ring_position(route.token), n.id};
    auto memo = replica_memo.find(key);
    if (memo == replica_memo.end()) {
        // Bounded: many keyspaces times many ring tokens would otherwise grow it without end.
        if (replica_memo.size() >= 65536) {
            replica_memo.clear();
            replica_memo_owners.clear();
        }
        if (std::find(replica_memo_owners.begin(), replica_memo_owners.end(), route.replication) ==
            replica_memo_owners.end())
            replica_memo_owners.push_back(route.replication);
        auto replicas = placement->replicas(*route.replication, route.token, n.id);
        memo = replica_memo.emplace(key, std::find(replicas.begin(), replicas.end(), n.id) != replicas.end()).first;
    }
    (memo->second ? n.replica_requests : n.non_replica_requests).fetch_add(1, std::memory_order_relaxed);
}

bool Cluster::Impl::version_enabled(int v) const {
    return std::find(versions.begin(), versions.end(), v) != versions.end();
}

Node& Cluster::Impl::node(int id) {
    if (id < 1 || id > static_cast<int>(nodes.size())) throw UsageError("no node " + std::to_string(id));
    return *nodes[static_cast<std::size_t>(id - 1)];
}

void Cluster::Impl::open_listener(Node& n, std::uint16_t at_port) {
    auto a = std::make_shared<asio::ip::tcp::acceptor>(io);
    asio::ip::tcp::endpoint ep(n.address, at_port);
    a->open(ep.protocol());
    a->set_option(asio::socket_base::reuse_address(true));
    a->bind(ep);
    a->listen(asio::socket_base::max_listen_connections);
    n.acceptor = a;
    {
        std::lock_guard lock(view_mutex);
        n.listening = true;
    }
    asio::co_spawn(io, accept_loop(n, std::move(a)), asio::detached);
}

asio::awaitable<void> Cluster::Impl::accept_loop(Node& n, std::shared_ptr<asio::ip::tcp::acceptor> acceptor) {
    // The node's acceptor may be replaced by a restart while we wait; we keep the one we serve.
    for (;;) {
        auto [ec, socket] = co_await acceptor->async_accept(as_tuple(use_awaitable));
        if (ec) {
            if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
            continue;  // e.g. EMFILE: keep serving the connections we have
        }
        if (!n.listening || n.acceptor != acceptor) continue;
        asio::error_code ignored;
        if (options.max_connections > 0 && n.connections.size() >= options.max_connections) {
            // As Cassandra does past native_transport_max_concurrent_connections: closed unread.
            n.refused.fetch_add(1, std::memory_order_relaxed);
            if (options.log_requests)
                std::cerr << "node " << n.id << " refused a connection: " << options.max_connections
                          << " connections open (--max-connections)\n";
            socket.close(ignored);
            continue;
        }
        socket.set_option(asio::ip::tcp::no_delay(true), ignored);
        auto conn = std::make_shared<Connection>(n, std::move(socket));
        n.connections.emplace(conn.get(), conn);
        n.accepted.fetch_add(1, std::memory_order_relaxed);
        n.open.fetch_add(1, std::memory_order_relaxed);
        conn->start();
    }
}

void Cluster::Impl::close_node(Node& n) {
    {
        std::lock_guard lock(view_mutex);
        n.listening = false;
    }
    if (n.acceptor) {
        asio::error_code ignored;
        n.acceptor->close(ignored);
    }
    auto conns = n.connections;  // close() erases from the map
    for (auto& [raw, weak] : conns)
        if (auto c = weak.lock()) c->close();
}

void Cluster::Impl::broadcast(const p::EventResponse& event, unsigned mask, int skip_node) {
    for (auto& n : nodes) {
        if (n->id == skip_node || !n->listening) continue;
        auto conns = n->connections;
        for (auto& [raw, weak] : conns)
            if (auto c = weak.lock()) c->push_event(event, mask);
    }
}

ClusterView Cluster::Impl::view() const {
    ClusterView v;
    v.cluster_name = options.cluster_name;
    v.release_version = emulation.release_version();
    std::lock_guard lock(view_mutex);
    for (const auto& n : nodes) {
        if (!n->member) continue;
        NodeInfo info;
        info.id = n->id;
        info.address = n->address.to_string();
        info.native_port = port;
        info.host_id = n->host_id;
        info.data_center = n->data_center;
        info.rack = n->rack;
        info.tokens = n->tokens;
        info.up = n->listening;
        v.nodes.push_back(std::move(info));
    }
    return v;
}

// ------------------------------------------------------------------------------------ Cluster

Cluster::Cluster(ClusterOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
    impl_->engine.set_cluster_view_provider([impl = impl_.get()] { return impl->view(); });
}

Cluster::~Cluster() { stop(); }

void Cluster::start() {
    auto& impl = *impl_;
    if (impl.running) return;
    impl.io.restart();
    // With port 0 the first node picks a port and the others must get the same one on their own
    // addresses; if one of them finds it taken, start over with a new port.
    std::system_error last(asio::error::address_in_use);
    for (int attempt = 0; attempt < 20; ++attempt) {
        std::uint16_t want = impl.options.port;
        try {
            for (auto& n : impl.nodes) {
                impl.open_listener(*n, want);
                if (want == 0) want = n->acceptor->local_endpoint().port();
            }
            impl.port = want;
            impl.running = true;
            break;
        } catch (const std::system_error& e) {
            last = e;
            for (auto& n : impl.nodes) impl.close_node(*n);
            impl.io.restart();
            impl.io.poll();  // let the aborted accept loops finish
            if (impl.options.port != 0) throw;
        }
    }
    if (!impl.running) throw last;
    impl.work.emplace(impl.io.get_executor());
    impl.thread = std::thread([&impl] { impl.io.run(); });
}

void Cluster::stop() {
    auto& impl = *impl_;
    if (!impl.running) return;
    impl.run_on_io([&] {
        for (auto& n : impl.nodes) impl.close_node(*n);
    });
    impl.work.reset();
    // Timers of lingering or delayed answers may still be pending; they hold nothing we need.
    impl.io.stop();
    if (impl.thread.joinable()) impl.thread.join();
    impl.running = false;
}

std::uint16_t Cluster::port() const noexcept { return impl_->port; }
int Cluster::node_count() const noexcept { return static_cast<int>(impl_->nodes.size()); }
std::string Cluster::address(int node) const { return impl_->node(node).address.to_string(); }

void Cluster::stop_node(int id) {
    auto& impl = *impl_;
    impl.run_on_io([&] {
        Node& n = impl.node(id);
        if (!n.listening) return;
        impl.close_node(n);
        auto timer = std::make_shared<asio::steady_timer>(impl.io, impl.options.down_event_delay);
        timer->async_wait([&impl, &n, id, timer](const std::error_code& ec) {
            // Not announced if the cluster stopped meanwhile or the node is already back.
            if (ec || n.listening) return;
            impl.broadcast(p::StatusChangeEvent{"DOWN", address_bytes(n.address), impl.port}, event_mask::status,
                           id);
        });
    });
}

void Cluster::restart_node(int id) {
    auto& impl = *impl_;
    impl.run_on_io([&] {
        Node& n = impl.node(id);
        if (n.listening) return;
        impl.engine.forget_prepared(id);
        if (!n.member) {
            {
                std::lock_guard lock(impl.view_mutex);
                n.member = true;
            }
            impl.update_placement();
        }
        impl.open_listener(n, impl.port);
        impl.broadcast(p::StatusChangeEvent{"UP", address_bytes(n.address), impl.port}, event_mask::status, id);
    });
}

void Cluster::remove_node(int id) {
    auto& impl = *impl_;
    impl.run_on_io([&] {
        Node& n = impl.node(id);
        if (!n.member) return;
        impl.close_node(n);
        {
            std::lock_guard lock(impl.view_mutex);
            n.member = false;
        }
        impl.update_placement();
        impl.broadcast(p::TopologyChangeEvent{"REMOVED_NODE", address_bytes(n.address), impl.port},
                       event_mask::topology, id);
    });
}

void Cluster::add_node(int id) {
    auto& impl = *impl_;
    impl.run_on_io([&] {
        Node& n = impl.node(id);
        if (n.member) return;
        impl.engine.forget_prepared(id);
        {
            std::lock_guard lock(impl.view_mutex);
            n.member = true;
        }
        impl.update_placement();
        impl.open_listener(n, impl.port);
        impl.broadcast(p::TopologyChangeEvent{"NEW_NODE", address_bytes(n.address), impl.port},
                       event_mask::topology, id);
    });
}

NodeStats Cluster::stats(int id) const {
    Node& n = impl_->node(id);
    NodeStats s;
    s.requests = n.requests.load(std::memory_order_relaxed);
    s.queries = n.queries.load(std::memory_order_relaxed);
    s.connections = n.accepted.load(std::memory_order_relaxed);
    s.open_connections = n.open.load(std::memory_order_relaxed);
    s.refused_connections = n.refused.load(std::memory_order_relaxed);
    s.replica_requests = n.replica_requests.load(std::memory_order_relaxed);
    s.non_replica_requests = n.non_replica_requests.load(std::memory_order_relaxed);
    s.range_replica_requests = n.range_replica_requests.load(std::memory_order_relaxed);
    s.range_non_replica_requests = n.range_non_replica_requests.load(std::memory_order_relaxed);
    return s;
}

void Cluster::reset_stats() {
    for (auto& n : impl_->nodes) {
        n->requests = 0;
        n->queries = 0;
        n->accepted = 0;
        n->replica_requests = 0;
        n->non_replica_requests = 0;
        n->range_replica_requests = 0;
        n->range_non_replica_requests = 0;
    }
}

FaultInjector& Cluster::faults() noexcept { return impl_->faults; }
Engine& Cluster::engine() noexcept { return impl_->engine; }
ClusterView Cluster::view() const { return impl_->view(); }

}  // namespace async_cassandra::server::net

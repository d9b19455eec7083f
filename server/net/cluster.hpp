// The network front end of acass-server: N nodes on 127.0.0.1..127.0.0.N (one port), sharing one
// Engine, served by one I/O thread. Tests start a Cluster on port 0, read port(), and can stop,
// restart, remove and re-add nodes while clients are connected (registered connections of the
// other nodes receive STATUS_CHANGE / TOPOLOGY_CHANGE events, as from a real cluster).
//
// Threading: every public member may be called from any thread except the cluster's own I/O
// thread (they post to it and wait), apart from the const accessors, which are lock-free.
#pragma once

#include "server/engine/engine.hpp"
#include "server/net/faults.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace async_cassandra::server::net {

struct ClusterOptions {
    /// Address of node 1; node i listens on the same address with the last octet increased by i-1.
    std::string host = "127.0.0.1";
    /// Shared by all nodes; 0 picks a free one (see Cluster::port()).
    std::uint16_t port = 9042;
    /// Nodes per data center (the cluster has datacenters * nodes nodes, numbered DC by DC:
    /// nodes 1..N in the first data center, N+1..2N in the second, ...).
    int nodes = 1;
    /// Data centers: one is named "datacenter1" (Cassandra's default); several are "dc1", "dc2", ...
    int datacenters = 1;
    /// Racks per data center, "rack1".."rackR"; the k-th node of a data center is in rack
    /// ((k - 1) mod R) + 1.
    int racks = 1;
    /// Protocol versions accepted (subset of {4, 5}); with `emulate`, further limited to the
    /// versions of the emulated server.
    std::vector<int> protocol_versions{4, 5};
    /// Server to imitate: "" (native: Cassandra 4.1-like, with Cassandra 3.0's refusal wording),
    /// "cassandra-3.11", "cassandra-4.1", "cassandra-5.0" or "scylla" (server/net/emulation.hpp).
    std::string emulate;
    /// When set, PasswordAuthenticator with this single user.
    std::optional<std::pair<std::string, std::string>> credentials;
    std::string cluster_name = "Test Cluster";
    std::int64_t synthetic_rows = 0;
    /// Serve full scans of synthetic.rows from one pre-encoded page, over and over
    /// (server/net/replay_pages.hpp): the benchmarks' node that is never the bottleneck.
    bool replay_pages = false;
    int tokens_per_node = 1;
    /// Print every request's opcode and query text to stderr (to see what drivers send).
    bool log_requests = false;
    std::vector<FaultRule> faults;
    /// When both are set, every node serves the native protocol over TLS 1.2+ with this PEM
    /// certificate (chain) and private key; the TLS handshake precedes the first CQL byte.
    /// Unreadable or mismatched files make the Cluster constructor throw UsageError.
    std::string tls_cert_file;
    std::string tls_key_file;
    /// With TLS: also require every client to present a certificate signed by one of the CAs in
    /// this PEM file (mutual TLS); empty = client certificates are not asked for.
    std::string tls_client_ca_file;
    /// A TLS peer that has not completed its handshake by then is disconnected.
    std::chrono::milliseconds tls_handshake_timeout{10000};
    /// How long after stop_node() the other nodes announce STATUS_CHANGE DOWN. A real cluster
    /// learns of a dead node through gossip seconds after its connections broke; drivers rely
    /// on that order (the DataStax Python driver ignores a DOWN event for a host whose pool
    /// still looks open), so the event must not overtake the closed connections.
    std::chrono::milliseconds down_event_delay{300};
    /// Largest envelope body accepted before the connection is ready (READY or AUTH_SUCCESS
    /// sent): the handshake messages are small, and an unauthenticated peer must not make the
    /// node hold a 256 MB body. Afterwards protocol::kDefaultMaxBodySize applies.
    std::uint32_t max_body_size_before_ready = 256u * 1024;
    /// A connection that has not completed the CQL handshake (STARTUP, and authentication when
    /// enabled) by then is closed; it counts from the accept, a TLS handshake included.
    std::chrono::milliseconds handshake_timeout{10000};
    /// A connection on which nothing was received or sent for this long is closed (0: never,
    /// like Cassandra's native_transport_idle_timeout default). Drivers' heartbeats keep
    /// healthy connections busy.
    std::chrono::milliseconds idle_timeout{0};
    /// Open connections per node; one more is closed right after it is accepted, before any
    /// byte is read (0: no limit, like Cassandra's native_transport_max_concurrent_connections).
    std::size_t max_connections = 0;
};

struct NodeStats {
    std::uint64_t requests = 0;     ///< frames received (all opcodes, handshake included)
    std::uint64_t queries = 0;      ///< QUERY/PREPARE/EXECUTE/BATCH
    std::uint64_t connections = 0;  ///< connections accepted since start
    std::uint64_t open_connections = 0;
    std::uint64_t refused_connections = 0;  ///< closed at accept: max_connections was reached
    /// Single-partition QUERY/EXECUTE/BATCH requests (see Engine::route) whose partition this
    /// node replicates under its keyspace's replication, and those it does not.
    std::uint64_t replica_requests = 0;
    std::uint64_t non_replica_requests = 0;
    /// Token-range reads (a SELECT restricted by token(pk), as a parallel scan sends) whose whole
    /// range this node replicates, and those of which it misses some part.
    std::uint64_t range_replica_requests = 0;
    std::uint64_t range_non_replica_requests = 0;
};

class Cluster {
public:
    explicit Cluster(ClusterOptions options);
    ~Cluster();
    Cluster(const Cluster&) = delete;
    Cluster& operator=(const Cluster&) = delete;

    /// Binds every node and starts the I/O thread. Throws std::system_error if a port is taken.
    void start();
    /// Closes every listener and connection and joins the I/O thread. Idempotent.
    void stop();

    std::uint16_t port() const noexcept;
    /// Every node of every data center (datacenters * nodes).
    int node_count() const noexcept;
    /// "127.0.0.<id>" for node `id` (1-based).
    std::string address(int node) const;

    /// Closes the node's listener and connections; the others push STATUS_CHANGE DOWN.
    void stop_node(int node);
    /// Listens again (prepared statements forgotten); the others push STATUS_CHANGE UP.
    void restart_node(int node);
    /// Like stop_node, but the node also leaves system.peers (TOPOLOGY_CHANGE REMOVED_NODE).
    void remove_node(int node);
    /// Brings a removed node back (TOPOLOGY_CHANGE NEW_NODE, then it listens again).
    void add_node(int node);

    NodeStats stats(int node) const;
    void reset_stats();

    FaultInjector& faults() noexcept;
    Engine& engine() noexcept;
    /// Topology as system.local / system.peers report it.
    ClusterView view() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace async_cassandra::server::net

// Cluster metadata: the nodes of the cluster and the schema, as the driver's control connection
// read them from system.local, system.peers_v2 (or system.peers) and system_schema.
//
//   ClusterMetadata meta = cluster.metadata();          // an immutable snapshot
//   for (const HostInfo& h : meta.hosts)
//       std::cout << h.endpoint() << " " << h.datacenter << "/" << h.rack << "\n";
//   if (const TableMetadata* t = meta.table("ks", "users"))
//       for (const ColumnMetadata& c : t->partition_key) std::cout << c.name << " " << c.type << "\n";
//
// Plain data, no I/O: a snapshot is a value that never changes after it was taken; the driver
// publishes a new one after every refresh (topology or schema event), so copies may be kept and
// read from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace async_cassandra {

/// One node of the cluster, as the control connection last read it.
struct HostInfo {
    /// Address clients connect to (native_address / rpc_address, or `peer` when the rpc address
    /// is 0.0.0.0), after the address translator (if any).
    std::string address;
    /// Native protocol port.
    std::uint16_t port = 9042;
    std::string datacenter;
    std::string rack;
    /// The node's host id (UUID as text, lower case).
    std::string host_id;
    /// Cassandra version the node reports (e.g. "4.1.3").
    std::string release_version;
    /// Schema version the node reported when last read (UUID text; compared for schema agreement).
    std::string schema_version;
    /// The node's tokens (Murmur3), sorted ascending.
    std::vector<std::int64_t> tokens;

    /// "address:port" (IPv6 addresses in brackets: "[::1]:9042"): the key hosts are known by in
    /// the token map, pools and NoHostAvailable.
    std::string endpoint() const;

    friend bool operator==(const HostInfo&, const HostInfo&) = default;
};

/// "address:port", brackets around IPv6 addresses. HostInfo::endpoint() uses it.
std::string make_endpoint(std::string_view address, std::uint16_t port);

/// Where a client connects for a node the cluster reports (address, native port).
struct NodeAddress {
    std::string address;
    std::uint16_t port = 9042;
    friend bool operator==(const NodeAddress&, const NodeAddress&) = default;
};

/// Maps the address a node reports (system.local/peers, events) to the one this client must use,
/// e.g. a public address behind NAT. Called on the control connection's executor; it must not
/// block. Empty = use the reported address.
using AddressTranslator = std::function<NodeAddress(const NodeAddress& reported)>;

/// A column of a table.
struct ColumnMetadata {
    std::string name;
    /// CQL type as system_schema.columns writes it, e.g. "int", "frozen<list<text>>".
    std::string type;
    /// "partition_key", "clustering", "static" or "regular".
    std::string kind;
    /// "asc" / "desc" for clustering columns, "none" otherwise.
    std::string clustering_order = "none";

    friend bool operator==(const ColumnMetadata&, const ColumnMetadata&) = default;
};

/// A table and its columns.
struct TableMetadata {
    std::string keyspace;
    std::string name;
    /// Partition key columns in key order (position 0, 1, ...).
    std::vector<ColumnMetadata> partition_key;
    /// Clustering columns in clustering order.
    std::vector<ColumnMetadata> clustering_key;
    /// Every column: partition key, then clustering key, then the static columns and then the
    /// regular ones, each by name (CQL's `SELECT *` order).
    std::vector<ColumnMetadata> columns;

    /// The column called `name` (as stored: case-sensitive), or null.
    const ColumnMetadata* column(std::string_view name) const noexcept;

    friend bool operator==(const TableMetadata&, const TableMetadata&) = default;
};

/// A keyspace: its replication settings and tables.
struct KeyspaceMetadata {
    std::string name;
    /// system_schema.keyspaces.replication as stored, e.g. {"class":
    /// "org.apache.cassandra.locator.NetworkTopologyStrategy", "dc1": "3"}.
    std::map<std::string, std::string> replication;
    bool durable_writes = true;
    std::map<std::string, TableMetadata, std::less<>> tables;

    const TableMetadata* table(std::string_view name) const noexcept;

    friend bool operator==(const KeyspaceMetadata&, const KeyspaceMetadata&) = default;
};

/// A snapshot of the whole cluster.
struct ClusterMetadata {
    /// system.local cluster_name, e.g. "Test Cluster".
    std::string cluster_name;
    /// system.local partitioner, e.g. "org.apache.cassandra.dht.Murmur3Partitioner". Token-aware
    /// routing is used only with the Murmur3 partitioner.
    std::string partitioner;
    /// Every known node (the control connection's node first, then the peers by endpoint).
    std::vector<HostInfo> hosts;
    std::map<std::string, KeyspaceMetadata, std::less<>> keyspaces;

    /// The host with this endpoint ("address:port"), or null.
    const HostInfo* host(std::string_view endpoint) const noexcept;
    const KeyspaceMetadata* keyspace(std::string_view name) const noexcept;
    const TableMetadata* table(std::string_view keyspace, std::string_view table) const noexcept;
    /// Every node's tokens (HostInfo::tokens), sorted, without duplicates: the ring's bounds,
    /// e.g. for split_token_ring_aligned. Empty when any node's tokens are unknown (or there
    /// are no hosts): a ring missing a node's tokens would give ranges across that node's bounds.
    std::vector<std::int64_t> ring_tokens() const;

    friend bool operator==(const ClusterMetadata&, const ClusterMetadata&) = default;
};

}  // namespace async_cassandra

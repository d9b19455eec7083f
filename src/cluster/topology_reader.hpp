// system.local and system.peers_v2 / system.peers rows -> the cluster's nodes (HostInfo).
// Pure: reads decoded pages, no I/O, no Asio (unit-tested and fuzzed without a network).
#pragma once

#include <async_cassandra/metadata.hpp>
#include <async_cassandra/row.hpp>

#include <string>
#include <vector>

namespace async_cassandra::cluster {

/// What the system tables say about the cluster.
struct Topology {
    std::string cluster_name;
    std::string partitioner;
    /// The node the rows were read from first, then every usable peer in row order.
    std::vector<HostInfo> hosts;
    /// One line per peer row that was skipped, and why (for the log).
    std::vector<std::string> skipped;
};

/// Builds the topology from `local` (SELECT * FROM system.local) and `peers` (SELECT * FROM
/// system.peers_v2, or system.peers; told apart by their columns).
///
/// - The local node is the one the control connection is connected to (`connected`), whatever
///   address it reports (its rpc_address may be a bind address like 0.0.0.0); the translator is
///   not applied to it.
/// - A peer's address is peers_v2's native_address/native_port, or peers' rpc_address with
///   `default_port`; an rpc/native address of 0.0.0.0 (or ::) means "use `peer`". The result
///   goes through `translator` when set.
/// - Peer rows without host_id, data_center, rack, tokens or an rpc/native address are skipped
///   (listed in Topology::skipped), like the DataStax Python driver does; so are rows whose
///   values do not decode, tokens that are not integers, and duplicates of an endpoint.
/// Throws ProtocolError when `local` has no row or its columns do not decode.
Topology read_topology(const Page& local, const Page& peers, const NodeAddress& connected,
                       std::uint16_t default_port, const AddressTranslator& translator = {});

}  // namespace async_cassandra::cluster

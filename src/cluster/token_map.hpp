// The token ring: which nodes replicate the partition of a Murmur3 token, per keyspace.
//
// Built once per topology or schema refresh from the hosts' tokens and the keyspaces' replication
// (SimpleStrategy, NetworkTopologyStrategy with racks, as Cassandra places replicas), then never
// changed: it is shared as shared_ptr<const TokenMap> inside a ClusterState, so routing reads it
// from any thread without a lock. Pure: no I/O, no Asio.
#pragma once

#include <async_cassandra/metadata.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace async_cassandra::cluster {

/// Token range (start, end] (start exclusive, end inclusive) and the nodes that replicate it.
/// The range that wraps around the ring is split at INT64_MIN: (last, INT64_MAX] and
/// (INT64_MIN, first], so every range satisfies start < end.
struct OwnedRange {
    std::int64_t start = 0;
    std::int64_t end = 0;
    /// Replica endpoints ("address:port"), the primary owner (the node whose token ends the
    /// range) first, then in placement order.
    std::vector<std::string> replicas;

    friend bool operator==(const OwnedRange&, const OwnedRange&) = default;
};

class TokenMap {
public:
    /// Builds the ring from every host with tokens (hosts without tokens own nothing) and the
    /// replica sets of every keyspace. Keyspaces with a strategy we do not know (LocalStrategy,
    /// EverywhereStrategy, custom ones) get no replicas, so routing falls back to its child
    /// policy for them. Replication factors that do not parse count as 0.
    static std::shared_ptr<const TokenMap> build(
        const std::vector<HostInfo>& hosts,
        const std::map<std::string, KeyspaceMetadata, std::less<>>& keyspaces);

    /// Endpoints replicating `token` in `keyspace`, primary owner first then in placement order
    /// (the ring walk). Empty when the keyspace is unknown, its strategy is not supported, or the
    /// ring is empty. The span stays valid as long as this TokenMap.
    std::span<const std::string> replicas(std::string_view keyspace, std::int64_t token) const noexcept;

    /// The endpoint owning `token` (the node of the first ring token >= token, wrapping), or
    /// empty when the ring is empty.
    std::string_view primary_owner(std::int64_t token) const noexcept;

    /// The ring's primary ranges in token order, covering (INT64_MIN, INT64_MAX] (see
    /// OwnedRange for the wrap-around split), each with its replicas in `keyspace` (with only its
    /// primary owner when the keyspace is empty, unknown or unsupported). Empty ring -> empty.
    std::vector<OwnedRange> ranges(std::string_view keyspace = {}) const;

    /// Number of tokens on the ring.
    std::size_t size() const noexcept { return ring_.size(); }
    bool empty() const noexcept { return ring_.empty(); }

    struct RingEntry {
        std::int64_t token;
        std::uint32_t host;  ///< index into endpoints_
    };
    /// Per replication setting: replica endpoint indexes for each ring position.
    struct ReplicaTable {
        std::vector<std::vector<std::string>> per_position;
    };

private:
    std::size_t position_of(std::int64_t token) const noexcept;

    std::vector<RingEntry> ring_;         ///< sorted by token
    std::vector<std::string> endpoints_;  ///< host index -> endpoint
    /// keyspace -> replica table (keyspaces with the same replication share one).
    std::map<std::string, std::shared_ptr<const ReplicaTable>, std::less<>> keyspaces_;
};

}  // namespace async_cassandra::cluster

// Which nodes replicate a token, computed as Cassandra places replicas: the ring of every node's
// tokens, walked clockwise from the first token >= the partition's token, with the keyspace's
// strategy deciding which of the nodes met are taken (SimpleStrategy: the first RF distinct nodes;
// NetworkTopologyStrategy: per data center, distinct racks first, then rack repeats up to the DC's
// RF). The embedded node keeps one shared copy of the data, so placement only feeds statistics
// (replica / non-replica requests per node) that tests of token-aware routing read.
#pragma once

#include "server/engine/engine.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace async_cassandra::server {

class ReplicaPlacement {
public:
    /// The ring of the view's nodes (every member, up or down, as in Cassandra's token metadata).
    explicit ReplicaPlacement(const ClusterView& view);

    /// Node ids replicating `token` under `replication` (the keyspace's replication map, "class"
    /// with or without the org.apache.cassandra.locator. prefix), primary replica first.
    /// LocalStrategy: `local_node` only. EverywhereStrategy: every node. An unknown class or a
    /// malformed factor: no replica.
    std::vector<int> replicas(const std::map<std::string, std::string>& replication, std::int64_t token,
                              int local_node) const;
    /// Node ids replicating every token of [lo, hi] (lo <= hi): a range may span the ranges of
    /// several ring tokens, and only the nodes common to all of them hold all of its data.
    /// Index into the ring of the first token >= `token` (wrapping to 0): the replicas of a token
    /// depend only on it (and on the replication), so callers may memoize by it.
    std::size_t ring_position(std::int64_t token) const { return first_at_or_after(token); }
    std::vector<int> range_replicas(const std::map<std::string, std::string>& replication, std::int64_t lo,
                                    std::int64_t hi, int local_node) const;

private:
    struct Member {
        int id = 0;
        std::string data_center;
        std::string rack;
    };
    std::vector<Member> members_;
    /// (token, index into members_) sorted by token.
    std::vector<std::pair<std::int64_t, std::size_t>> ring_;
    std::map<std::string, int> nodes_per_dc_;
    std::map<std::string, int> racks_per_dc_;

    std::size_t first_at_or_after(std::int64_t token) const;
};

}  // namespace async_cassandra::server

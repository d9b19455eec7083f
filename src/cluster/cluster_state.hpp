// The cluster as the driver currently knows it: metadata (hosts, schema) and the token map built
// from them. Immutable once published; the control connection publishes a new one after every
// refresh by swapping the pointer, so routing reads the current state without waiting for a refresh.
#pragma once

#include "cluster/snapshot_holder.hpp"
#include "cluster/token_map.hpp"

#include <async_cassandra/metadata.hpp>

#include <cstdint>
#include <memory>

namespace async_cassandra::cluster {

struct ClusterState {
    ClusterMetadata metadata;
    /// Never null in a published state (an empty TokenMap when no host has tokens).
    std::shared_ptr<const TokenMap> token_map;
    /// Increases by one with every published state (0 = the initial, empty one).
    std::uint64_t generation = 0;

    /// A state with these hosts and keyspaces and the token map built from them.
    static std::shared_ptr<const ClusterState> make(ClusterMetadata metadata, std::uint64_t generation);
};

using ClusterStatePtr = std::shared_ptr<const ClusterState>;

/// The current state, readable and replaceable from any thread.
class ClusterStateHolder : public SnapshotHolder<const ClusterState> {
public:
    ClusterStateHolder() : SnapshotHolder(ClusterState::make({}, 0)) {}
};

}  // namespace async_cassandra::cluster

// The cluster as the driver currently knows it: metadata (hosts, schema) and the token map built
// from them. Immutable once published; the control connection publishes a new one after every
// refresh by an atomic swap, so routing reads the current state without a lock.
#pragma once

#include "cluster/token_map.hpp"

#include <async_cassandra/metadata.hpp>

#include <atomic>
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

/// The current state, readable and replaceable from any thread without a lock (readers never
/// wait for a refresh; a reader keeps its snapshot alive as long as it holds the pointer).
class ClusterStateHolder {
public:
    ClusterStateHolder() : state_(ClusterState::make({}, 0)) {}
    ClusterStatePtr load() const noexcept { return state_.load(std::memory_order_acquire); }
    void store(ClusterStatePtr state) noexcept { state_.store(std::move(state), std::memory_order_release); }

private:
    std::atomic<ClusterStatePtr> state_;
};

}  // namespace async_cassandra::cluster

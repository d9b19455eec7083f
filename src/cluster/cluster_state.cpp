#include "cluster/cluster_state.hpp"

namespace async_cassandra::cluster {

std::shared_ptr<const ClusterState> ClusterState::make(ClusterMetadata metadata, std::uint64_t generation) {
    auto state = std::make_shared<ClusterState>();
    state->token_map = TokenMap::build(metadata.hosts, metadata.keyspaces);
    state->metadata = std::move(metadata);
    state->generation = generation;
    return state;
}

}  // namespace async_cassandra::cluster

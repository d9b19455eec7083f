// Prepared statements: PREPARE (ids, bind and result metadata) and their per-node cache.
#pragma once

#include "server/engine/engine_internal.hpp"

namespace async_cassandra::server::detail {

ExecutionResult prepare(Engine::Impl& impl, const protocol::PrepareRequest& p, ConnectionState& state);
/// The statement prepared on `node_id` under `id`, or null.
std::shared_ptr<const PreparedEntry> find_prepared(const Engine::Impl& impl, int node_id, BytesView id);
/// Cassandra's Unprepared error for an unknown id (the driver re-prepares and retries).
ExecutionResult unprepared(BytesView id);

}  // namespace async_cassandra::server::detail

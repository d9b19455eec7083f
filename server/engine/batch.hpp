// BATCH requests: all statements resolved and bound before the first mutation, applied all or
// nothing, and Cassandra's batch size warning.
#pragma once

#include "server/engine/engine_internal.hpp"

namespace async_cassandra::server::detail {

ExecutionResult execute_batch(Engine::Impl& impl, const protocol::BatchRequest& b, ConnectionState& state);
/// Adds the batch size warning to `result` when a QUERY's text is a BEGIN BATCH ... APPLY BATCH.
void warn_query_batch(Engine::Impl& impl, const protocol::QueryRequest& q, const cql::ParsedStatement& ps,
                      const std::string& ks, ExecutionResult& result);

}  // namespace async_cassandra::server::detail

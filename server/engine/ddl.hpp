// Schema statements: CREATE/ALTER/DROP KEYSPACE, CREATE/ALTER/DROP TABLE, CREATE/DROP TYPE and
// TRUNCATE, with Cassandra's validation messages and SCHEMA_CHANGE results.
#pragma once

#include "server/engine/engine_internal.hpp"

namespace async_cassandra::server::detail {

/// Executes `st` when it is a schema statement (taking the lock itself); nullopt otherwise.
std::optional<ExecutionResult> run_ddl(Engine::Impl& impl, const cql::Statement& st, const std::string& ks);

}  // namespace async_cassandra::server::detail

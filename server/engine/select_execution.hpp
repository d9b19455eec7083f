// Executing a SELECT: plan it, read the stored, generated or synthetic table, and shape the
// Rows result (metadata, paging state, COUNT, v5 metadata ids, warnings).
#pragma once

#include "server/engine/engine_internal.hpp"

namespace async_cassandra::server::detail {

struct RunOptions {
    const protocol::QueryParameters* params = nullptr;
    BytesView client_metadata_id;  ///< v5 EXECUTE
    /// EXECUTE: the prepared statement, whose shape (prepared_shape.hpp) spares re-analysing it.
    const PreparedEntry* prepared = nullptr;
    /// Receives the route of the plan (Engine::execute's `route`), replication included.
    std::optional<PartitionRoute>* route = nullptr;
};

ExecutionResult run_select(Engine::Impl& impl, const cql::SelectStmt& st, const cql::ParsedStatement& ps,
                           const std::string& ks, const RunOptions& opt, ConnectionState& state);

/// What the v5 result metadata id is a digest of.
std::string metadata_fingerprint(const std::vector<protocol::ColumnSpec>& cols);

}  // namespace async_cassandra::server::detail

// Prepared statements and their per-node cache.
#include "server/engine/prepared_statements.hpp"

#include "server/engine/prepared_shape.hpp"
#include "server/engine/statement_context.hpp"

namespace async_cassandra::server {

using protocol::Bytes;

std::optional<std::string> Engine::prepared_query(int node_id, protocol::BytesView id) const {
    std::lock_guard lk(impl_->prepared_mutex);
    auto n = impl_->prepared.find(node_id);
    if (n == impl_->prepared.end()) return std::nullopt;
    auto it = n->second.find(id);
    if (it == n->second.end()) return std::nullopt;
    return it->second->query;
}

void Engine::forget_prepared(int node_id) {
    std::lock_guard lk(impl_->prepared_mutex);
    impl_->prepared.erase(node_id);
}

}  // namespace async_cassandra::server

namespace async_cassandra::server::detail {

ExecutionResult prepare(Engine::Impl& impl, const protocol::PrepareRequest& p, ConnectionState& state) {
    auto entry = std::make_shared<PreparedEntry>();
    entry->query = std::string(p.query);
    entry->keyspace = default_keyspace(state, p.keyspace);
    entry->parsed = std::make_shared<cql::ParsedStatement>(cql::parse_cql(p.query));
    {
        std::shared_lock lk(impl.mutex);
        entry->shape = make_prepared_shape(impl, *entry->parsed, entry->keyspace);
    }
    const PreparedShape& shape = *entry->shape;
    protocol::PreparedResult result;
    result.metadata.columns = shape.analysis.specs;
    result.metadata.partition_key_indexes = shape.analysis.pk_indexes;
    if (shape.outputs) result.result_metadata.columns = shape.outputs->specs;
    result.result_metadata.column_count = static_cast<std::int32_t>(result.result_metadata.columns.size());
    result.id = md5(entry->keyspace + entry->query);
    if (state.version == protocol::ProtocolVersion::v5) result.result_metadata_id = shape.result_metadata_id;
    {
        std::lock_guard lk(impl.prepared_mutex);
        impl.prepared[state.node_id][result.id] = std::move(entry);
    }
    return ExecutionResult{protocol::Response{protocol::ResultResponse{std::move(result)}}, nullptr,
                           std::nullopt, {}};
}

ExecutionResult unprepared(BytesView id) {
    protocol::ErrorResponse e;
    e.code = ServerErrorCode::unprepared;
    e.message = "Prepared query with ID " + uuid_text(id) + " not found (either the query was not prepared on this "
                "host (maybe the host has been restarted?) or you have prepared too many queries and it has been "
                "evicted from the internal cache)";
    e.unprepared_id.assign(id.begin(), id.end());
    return ExecutionResult{protocol::Response{std::move(e)}, nullptr, std::nullopt, {}};
}

std::shared_ptr<const PreparedEntry> find_prepared(const Engine::Impl& impl, int node_id, BytesView id) {
    std::lock_guard lk(impl.prepared_mutex);
    auto n = impl.prepared.find(node_id);
    if (n == impl.prepared.end()) return nullptr;
    auto it = n->second.find(id);
    return it == n->second.end() ? nullptr : it->second;
}

}  // namespace async_cassandra::server::detail

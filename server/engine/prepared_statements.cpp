// Prepared statements and their per-node cache.
#include "server/engine/prepared_statements.hpp"

#include "server/engine/bind_analysis.hpp"
#include "server/engine/select_execution.hpp"
#include "server/engine/select_plan.hpp"
#include "server/engine/statement_context.hpp"

namespace async_cassandra::server {

using protocol::Bytes;

std::optional<std::string> Engine::prepared_query(int node_id, protocol::BytesView id) const {
    std::lock_guard lk(impl_->prepared_mutex);
    auto n = impl_->prepared.find(node_id);
    if (n == impl_->prepared.end()) return std::nullopt;
    auto it = n->second.find(Bytes(id.begin(), id.end()));
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
    auto ps = std::make_shared<cql::ParsedStatement>(cql::parse_cql(p.query));
    std::string ks = default_keyspace(state, p.keyspace);
    protocol::PreparedResult result;
    {
        std::shared_lock lk(impl.mutex);
        BindAnalysis a = analyze(impl, *ps, ks);
        result.metadata.columns = a.specs;
        result.metadata.partition_key_indexes = a.pk_indexes;
        if (const auto* sel = std::get_if<cql::SelectStmt>(&ps->statement)) {
            auto schema = lookup_schema(impl, sel->table, ks);
            bool count = false;
            for (auto& o : build_outputs(*sel, *schema, count))
                result.result_metadata.columns.push_back(o.spec);
        }
    }
    result.result_metadata.column_count = static_cast<std::int32_t>(result.result_metadata.columns.size());
    result.id = md5(ks + std::string(p.query));
    if (state.version == protocol::ProtocolVersion::v5)
        result.result_metadata_id = md5(metadata_fingerprint(result.result_metadata.columns));
    {
        std::lock_guard lk(impl.prepared_mutex);
        impl.prepared[state.node_id][result.id] = std::make_shared<const PreparedEntry>(
            PreparedEntry{std::string(p.query), ks, ps});
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
    auto it = n->second.find(Bytes(id.begin(), id.end()));
    return it == n->second.end() ? nullptr : it->second;
}

}  // namespace async_cassandra::server::detail

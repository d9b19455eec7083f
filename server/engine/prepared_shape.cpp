// Prepared statements' per-schema shapes (see prepared_shape.hpp).
#include "server/engine/prepared_shape.hpp"

#include "server/engine/select_execution.hpp"
#include "server/engine/select_plan.hpp"
#include "server/engine/statement_context.hpp"

namespace async_cassandra::server::detail {

std::shared_ptr<const PreparedShape> make_prepared_shape(Engine::Impl& impl, const cql::ParsedStatement& ps,
                                                         const std::string& ks) {
    auto shape = std::make_shared<PreparedShape>();
    shape->schema_counter = impl.schema_counter;
    shape->analysis = analyze(impl, ps, ks);
    std::vector<protocol::ColumnSpec> no_columns;
    if (const auto* sel = std::get_if<cql::SelectStmt>(&ps.statement))
        shape->outputs = select_outputs(*sel, *lookup_schema(impl, sel->table, ks));
    shape->result_metadata_id = md5(metadata_fingerprint(shape->outputs ? shape->outputs->specs : no_columns));
    return shape;
}

std::shared_ptr<const PreparedShape> shape_of(Engine::Impl& impl, const PreparedEntry& entry) {
    {
        std::lock_guard lk(entry.shape_mutex);
        if (entry.shape && entry.shape->schema_counter == impl.schema_counter) return entry.shape;
    }
    auto shape = make_prepared_shape(impl, *entry.parsed, entry.keyspace);
    std::lock_guard lk(entry.shape_mutex);
    entry.shape = shape;
    return shape;
}

}  // namespace async_cassandra::server::detail

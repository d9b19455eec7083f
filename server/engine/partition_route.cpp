// The one partition a request touches (Engine::route).
#include "server/engine/partition_route.hpp"

#include "server/engine/bind_analysis.hpp"
#include "server/engine/bound_terms.hpp"
#include "server/engine/prepared_shape.hpp"
#include "server/engine/prepared_statements.hpp"
#include "server/engine/select_plan.hpp"
#include "server/engine/statement_context.hpp"
#include "server/engine/storage.hpp"
#include "server/engine/writes.hpp"

namespace async_cassandra::server::detail {

using protocol::ValueView;

PartitionOf single_partition(Engine::Impl& impl, const cql::Statement& st, const std::string& ks,
                             std::span<const ValueView> bound, const PreparedShape* shape) {
    auto of_keys = [&](const cql::QualifiedName& table, const std::vector<std::vector<Bytes>>& keys) -> PartitionOf {
        if (keys.size() != 1) return std::nullopt;
        return std::make_pair(keyspace_of(table, ks), partition_pos(keys[0]).token);
    };
    return std::visit(
        Overloaded{
            [&](const cql::SelectStmt& s) -> PartitionOf {
                auto route = select_route(plan_select(s, find_table(impl, s.table, ks)->schema, bound,
                                                      shape ? shape->outputs : nullptr),
                                          keyspace_of(s.table, ks));
                if (!route || route->range_end) return std::nullopt;
                return std::make_pair(std::move(route->keyspace), route->token);
            },
            [&](const cql::InsertStmt& s) -> PartitionOf {
                const TableSchema& schema = *find_table(impl, s.table, ks)->schema;
                std::vector<Bytes> key(schema.pk.size());
                std::size_t given = 0;
                for (std::size_t i = 0; i < s.columns.size() && i < s.values.size(); ++i) {
                    const ColumnDef& c = column_of(schema, s.columns[i]);
                    if (c.kind != ColumnKind::partition_key) continue;
                    key[static_cast<std::size_t>(c.position)] = eval_required(s.values[i], c, bound);
                    ++given;
                }
                if (given != schema.pk.size()) return std::nullopt;
                return of_keys(s.table, {key});
            },
            [&](const cql::UpdateStmt& s) -> PartitionOf {
                const TableSchema& schema = *find_table(impl, s.table, ks)->schema;
                return of_keys(s.table, cartesian(write_keys(schema, s.where, bound, true).pk));
            },
            [&](const cql::DeleteStmt& s) -> PartitionOf {
                const TableSchema& schema = *find_table(impl, s.table, ks)->schema;
                return of_keys(s.table, cartesian(write_keys(schema, s.where, bound, true).pk));
            },
            [&](const std::shared_ptr<cql::BatchStmt>& b) -> PartitionOf {
                PartitionOf common;
                for (const auto& sub : b->statements) {
                    auto p = single_partition(impl, sub, ks, bound);
                    if (!p || (common && *common != *p)) return std::nullopt;
                    common = std::move(p);
                }
                return common;
            },
            [&](const auto&) -> PartitionOf { return std::nullopt; },
        },
        st);
}

std::optional<PartitionRoute> select_route(const SelectPlan& plan, const std::string& keyspace) {
    constexpr auto min = std::numeric_limits<std::int64_t>::min();
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    if (plan.partition_keys) {
        if (plan.partition_keys->size() != 1) return std::nullopt;
        return PartitionRoute{keyspace, {}, plan.partition_tokens.front(), {}};
    }
    if (plan.empty_range || plan.token_lo > plan.token_hi) return std::nullopt;
    if (plan.token_lo == min && plan.token_hi == max) return std::nullopt;  // no token restriction
    return PartitionRoute{keyspace, {}, plan.token_lo, plan.token_hi};
}

bool with_replication(const Engine::Impl& impl, PartitionRoute& route) {
    auto ks = impl.keyspaces.find(route.keyspace);
    if (ks == impl.keyspaces.end()) return false;
    route.replication = ks->second.replication;  // shared, not copied
    return true;
}

/// The route of one QUERY or EXECUTE statement: its partition, or the token range it scans.
/// `shape`: an EXECUTE's prepared statement's, under the current schema.
static std::optional<PartitionRoute> statement_route(Engine::Impl& impl, const cql::ParsedStatement& ps,
                                                     const std::string& ks, const std::vector<ValueView>& values,
                                                     const std::vector<std::string_view>& names,
                                                     const PreparedShape* shape) {
    BindAnalysis analysed;
    if (!shape) analysed = analyze(impl, ps, ks);
    auto bound = bind_values(shape ? shape->analysis : analysed, values, names);
    if (const auto* s = std::get_if<cql::SelectStmt>(&ps.statement))
        return select_route(plan_select(*s, find_table(impl, s->table, ks)->schema, bound, shape ? shape->outputs : nullptr),
                            keyspace_of(s->table, ks));
    if (auto p = single_partition(impl, ps.statement, ks, bound, shape)) return PartitionRoute{p->first, {}, p->second, {}};
    return std::nullopt;
}

static PartitionOf single_partition(Engine::Impl& impl, const cql::ParsedStatement& ps, const std::string& ks,
                             const std::vector<ValueView>& values, const std::vector<std::string_view>& names) {
    BindAnalysis a = analyze(impl, ps, ks);
    auto bound = bind_values(a, values, names);
    return single_partition(impl, ps.statement, ks, bound);
}

}  // namespace async_cassandra::server::detail

namespace async_cassandra::server {

using namespace detail;

std::optional<PartitionRoute> Engine::route(const protocol::Request& request, const ConnectionState& state) {
    Impl& impl = *impl_;
    try {
        // Statements are resolved before the lock, as execute() does.
        std::optional<PartitionRoute> route;
        if (const auto* q = std::get_if<protocol::QueryRequest>(&request)) {
            auto ps = impl.parse(q->query);
            std::shared_lock lk(impl.mutex);
            route = statement_route(impl, *ps, default_keyspace(state, q->params.keyspace), q->params.values,
                                    q->params.value_names, nullptr);
        } else if (const auto* e = std::get_if<protocol::ExecuteRequest>(&request)) {
            auto entry = find_prepared(impl, state.node_id, e->id);
            if (!entry) return std::nullopt;
            std::shared_lock lk(impl.mutex);
            route = statement_route(impl, *entry->parsed, entry->keyspace, e->params.values, e->params.value_names,
                                    shape_of(impl, *entry).get());
        } else if (const auto* b = std::get_if<protocol::BatchRequest>(&request)) {
            std::vector<std::pair<std::shared_ptr<const cql::ParsedStatement>, std::string>> items;
            for (const auto& s : b->statements) {
                if (!s.is_prepared) {
                    items.emplace_back(impl.parse(s.query), default_keyspace(state, b->keyspace));
                    continue;
                }
                auto entry = find_prepared(impl, state.node_id, s.id);
                if (!entry) return std::nullopt;
                items.emplace_back(entry->parsed, entry->keyspace);
            }
            std::shared_lock lk(impl.mutex);
            PartitionOf partition;
            for (std::size_t i = 0; i < items.size(); ++i) {
                auto p = single_partition(impl, *items[i].first, items[i].second, b->statements[i].values, {});
                if (!p || (partition && *partition != *p)) return std::nullopt;
                partition = std::move(p);
            }
            if (partition) route = PartitionRoute{partition->first, {}, partition->second, {}};
        }
        if (!route) return std::nullopt;
        std::shared_lock lk(impl.mutex);
        if (!with_replication(impl, *route)) return std::nullopt;
        return route;
    } catch (const std::exception&) {
        return std::nullopt;  // the request itself will fail; it has no partition to count
    }
}

}  // namespace async_cassandra::server

// BATCH requests and the batch size warning.
#include "server/engine/batch.hpp"

#include "server/engine/bind_analysis.hpp"
#include "server/engine/partition_route.hpp"
#include "server/engine/prepared_statements.hpp"
#include "server/engine/statement_context.hpp"
#include "server/engine/storage.hpp"
#include "server/engine/writes.hpp"

#include <set>

namespace async_cassandra::server::detail {

using cql::CqlError;
using cql::throw_invalid;
using protocol::ValueView;

namespace {

/// Cassandra's batch size warning (BatchStatement.verifyBatchSize, batch_size_warn_threshold
/// 5 KiB): only for batches over several partitions. The size is the batch's bound values plus the
/// text of its unprepared statements, an approximation of Cassandra's mutation data size.
struct BatchItem {
    const cql::Statement* statement;
    std::string keyspace;
    std::span<const ValueView> bound;
};

void warn_batch_size(Engine::Impl& impl, const std::vector<BatchItem>& items, std::size_t size,
                     std::vector<std::string>& warnings) {
    constexpr std::size_t kWarnThreshold = 5 * 1024;
    if (!impl.config.cassandra_warnings || size <= kWarnThreshold) return;
    std::set<std::int64_t> partitions;
    std::set<std::string> tables;
    std::shared_lock lk(impl.mutex);
    for (const auto& item : items) {
        const cql::QualifiedName* table = nullptr;
        if (const auto* i = std::get_if<cql::InsertStmt>(item.statement)) table = &i->table;
        else if (const auto* u = std::get_if<cql::UpdateStmt>(item.statement)) table = &u->table;
        else if (const auto* d = std::get_if<cql::DeleteStmt>(item.statement)) table = &d->table;
        if (table) tables.insert(keyspace_of(*table, item.keyspace) + "." + table->name);
        try {
            auto p = single_partition(impl, *item.statement, item.keyspace, item.bound);
            if (p) partitions.insert(p->second);
            else partitions.insert(std::numeric_limits<std::int64_t>::min() + static_cast<std::int64_t>(partitions.size()));
        } catch (const std::exception&) {
        }
    }
    if (partitions.size() <= 1) return;
    std::string names = "[";
    for (const auto& t : tables) names += (names.size() > 1 ? ", " : "") + t;
    names += "]";
    warnings.push_back("Batch for " + names + " is of size " + std::to_string(size) +
                       ", exceeding specified threshold of " + std::to_string(kWarnThreshold) + " by " +
                       std::to_string(size - kWarnThreshold) + ".");
}

std::size_t values_size(std::span<const ValueView> values) {
    std::size_t n = 0;
    for (const auto& v : values) n += v.bytes.size();
    return n;
}

}  // namespace

ExecutionResult execute_batch(Engine::Impl& impl, const protocol::BatchRequest& b, ConnectionState& state) {
    // Resolve every statement first so that a batch applies all or nothing.
    struct Item {
        std::shared_ptr<const cql::ParsedStatement> ps;
        std::string ks;
        const std::vector<ValueView>* values;
    };
    std::vector<Item> items;
    std::string ks = default_keyspace(state, b.keyspace);
    for (const auto& s : b.statements) {
        if (s.is_prepared) {
            auto entry = find_prepared(impl, state.node_id, s.id);
            if (!entry) return unprepared(s.id);
            items.push_back({entry->parsed, entry->keyspace, &s.values});
        } else {
            items.push_back({impl.parse(s.query), ks, &s.values});
        }
        const auto& st = items.back().ps->statement;
        if (!std::holds_alternative<cql::InsertStmt>(st) && !std::holds_alternative<cql::UpdateStmt>(st) &&
            !std::holds_alternative<cql::DeleteStmt>(st))
            throw_invalid("Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed.");
    }
    std::unique_lock lk(impl.mutex);
    std::int64_t ts = b.default_timestamp.value_or(now_us());
    // Validate and bind everything before the first mutation.
    std::vector<std::vector<ValueView>> bound;
    for (const auto& it : items) {
        BindAnalysis a = analyze(impl, *it.ps, it.ks);
        bound.push_back(bind_values(a, *it.values, {}));
    }
    std::optional<ExecutionResult> r;
    UndoScope undo;
    try {
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto& st = items[i].ps->statement;
        std::optional<ExecutionResult> sr;
        if (const auto* s = std::get_if<cql::InsertStmt>(&st)) sr = do_insert(impl, *s, items[i].ks, bound[i], ts);
        else if (const auto* u = std::get_if<cql::UpdateStmt>(&st)) sr = do_update(impl, *u, items[i].ks, bound[i], ts);
        else if (const auto* d = std::get_if<cql::DeleteStmt>(&st)) sr = do_delete(impl, *d, items[i].ks, bound[i]);
        if (sr) r = std::move(sr);
    }
    } catch (...) {
        undo.log.rollback();
        throw;
    }
    ExecutionResult result = r ? std::move(*r) : void_result();
    lk.unlock();
    std::vector<BatchItem> batch_items;
    std::size_t size = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        batch_items.push_back({&items[i].ps->statement, items[i].ks, bound[i]});
        size += values_size(*items[i].values) + (b.statements[i].is_prepared ? 0 : b.statements[i].query.size());
    }
    warn_batch_size(impl, batch_items, size, result.warnings);
    return result;
}

void warn_query_batch(Engine::Impl& impl, const protocol::QueryRequest& q, const cql::ParsedStatement& ps,
                      const std::string& ks, ExecutionResult& result) {
    const auto* batch = std::get_if<std::shared_ptr<cql::BatchStmt>>(&ps.statement);
    if (batch && !std::holds_alternative<protocol::ErrorResponse>(result.response)) {
        std::vector<ValueView> bound;
        {
            std::shared_lock lk(impl.mutex);
            bound = bind_values(analyze(impl, ps, ks), q.params.values, q.params.value_names);
        }
        std::vector<BatchItem> items;
        for (const auto& sub : (*batch)->statements) items.push_back({&sub, ks, bound});
        warn_batch_size(impl, items, values_size(q.params.values) + q.query.size(), result.warnings);
    }
}

}  // namespace async_cassandra::server::detail

// SELECT planning: what to read, in which order, and how much.
#include "server/engine/select_plan.hpp"

#include "server/engine/bound_terms.hpp"
#include "server/engine/statement_context.hpp"
#include "server/engine/storage.hpp"

#include <algorithm>

namespace async_cassandra::server::detail {

using cql::CqlError;
using cql::throw_invalid;
using protocol::ValueView;

namespace {

std::vector<OutputColumn> build_outputs(const cql::SelectStmt& st, const TableSchema& s, bool& count) {
    std::vector<OutputColumn> out;
    count = false;
    if (st.star) {
        for (std::size_t i = 0; i < s.columns.size(); ++i)
            out.push_back(OutputColumn{cql::Selector::Kind::column, i, spec_of(s, s.columns[i].name, s.columns[i].type.type)});
        return out;
    }
    for (const auto& sel : st.selectors) {
        OutputColumn o;
        o.kind = sel.kind;
        switch (sel.kind) {
            case cql::Selector::Kind::column: {
                const ColumnDef& c = column_of(s, sel.column);
                o.column = s.index_of(&c);
                o.spec = spec_of(s, sel.alias.empty() ? c.name : sel.alias, c.type.type);
                break;
            }
            case cql::Selector::Kind::count:
                if (!sel.column.empty()) column_of(s, sel.column);
                o.spec = spec_of(s, sel.alias.empty() ? "count" : sel.alias, bigint_type());
                count = true;
                break;
            case cql::Selector::Kind::writetime:
            case cql::Selector::Kind::ttl: {
                const ColumnDef& c = column_of(s, sel.column);
                if (c.kind == ColumnKind::partition_key || c.kind == ColumnKind::clustering)
                    throw_invalid("Cannot use selection function " +
                                  std::string(sel.kind == cql::Selector::Kind::ttl ? "ttl" : "writeTime") +
                                  " on PRIMARY KEY part " + c.name);
                o.column = s.index_of(&c);
                bool ttl = sel.kind == cql::Selector::Kind::ttl;
                o.spec = spec_of(s, sel.alias.empty() ? (ttl ? "ttl(" : "writetime(") + c.name + ")" : sel.alias,
                                 ttl ? int_type() : bigint_type());
                break;
            }
            case cql::Selector::Kind::token: {
                std::string name = "system.token(";
                if (sel.args.size() != s.pk.size()) throw_invalid("Invalid number of arguments in call to function system.token");
                for (std::size_t i = 0; i < sel.args.size(); ++i) {
                    if (sel.args[i] != s.columns[s.pk[i]].name)
                        throw_invalid("The token function arguments must be in the partition key order");
                    name += (i ? ", " : "") + sel.args[i];
                }
                o.spec = spec_of(s, sel.alias.empty() ? name + ")" : sel.alias, bigint_type());
                break;
            }
        }
        out.push_back(std::move(o));
    }
    return out;
}

[[noreturn]] void needs_filtering() {
    throw_invalid(
        "Cannot execute this query as it might involve data filtering and thus may have unpredictable performance. "
        "If you want to execute this query despite the performance unpredictability, use ALLOW FILTERING");
}
}  // namespace

std::shared_ptr<const SelectOutputs> select_outputs(const cql::SelectStmt& st, const TableSchema& s) {
    auto outputs = std::make_shared<SelectOutputs>();
    outputs->columns = build_outputs(st, s, outputs->count);
    for (const auto& o : outputs->columns) outputs->specs.push_back(o.spec);
    return outputs;
}

SelectPlan plan_select(const cql::SelectStmt& st, std::shared_ptr<const TableSchema> schema,
                       std::span<const ValueView> bound, std::shared_ptr<const SelectOutputs> outputs) {
    SelectPlan plan;
    const TableSchema& s = *schema;
    plan.schema = schema;
    plan.star = st.star;
    plan.outputs = outputs ? std::move(outputs) : select_outputs(st, s);
    plan.count = plan.outputs->count;
    std::vector<std::vector<Bytes>> pk_values(s.pk.size());
    std::vector<Restriction> pk_ranges;
    bool has_token = false;
    for (const auto& r : st.where) {
        if (r.is_token) {
            if (r.columns.size() != s.pk.size())
                throw_invalid("The token() function must be applied to all partition key components or none of them");
            for (std::size_t i = 0; i < r.columns.size(); ++i)
                if (r.columns[i] != s.columns[s.pk[i]].name)
                    throw_invalid("The token function arguments must be in the partition key order: " + r.columns[i]);
            cql::Value v = cql::evaluate(r.value, *bigint_type(), bound);
            if (v.kind != cql::Value::Kind::value || v.bytes.size() != 8)
                throw_invalid("Invalid null value for partition key token");
            std::int64_t t = load_i64(v.bytes);
            has_token = true;
            constexpr auto lo = std::numeric_limits<std::int64_t>::min();
            constexpr auto hi = std::numeric_limits<std::int64_t>::max();
            switch (r.op) {
                case cql::Op::eq: plan.token_lo = std::max(plan.token_lo, t); plan.token_hi = std::min(plan.token_hi, t); break;
                case cql::Op::gt:
                    if (t == hi) plan.empty_range = true;
                    else plan.token_lo = std::max(plan.token_lo, t + 1);
                    break;
                case cql::Op::ge: plan.token_lo = std::max(plan.token_lo, t); break;
                case cql::Op::lt:
                    if (t == lo) plan.empty_range = true;
                    else plan.token_hi = std::min(plan.token_hi, t - 1);
                    break;
                case cql::Op::le:
                    // Cassandra treats `<= min token` as "up to the end of the ring".
                    if (t != lo) plan.token_hi = std::min(plan.token_hi, t);
                    break;
                default: throw_invalid("Unsupported operator on token()");
            }
            continue;
        }
        const ColumnDef& c = column_of(s, r.columns[0]);
        if (r.op == cql::Op::contains || r.op == cql::Op::contains_key) throw_invalid("CONTAINS is not supported");
        if (r.op == cql::Op::neq) throw_invalid("Unsupported \"!=\" relation: " + c.name + " != ...");
        Restriction res{s.index_of(&c), r.op, relation_values(r, c, bound)};
        switch (c.kind) {
            case ColumnKind::partition_key:
                if (r.op == cql::Op::eq || r.op == cql::Op::in) {
                    auto& slot = pk_values[static_cast<std::size_t>(c.position)];
                    if (!slot.empty())
                        throw_invalid(c.name + " cannot be restricted by more than one relation if it includes an Equal");
                    slot = std::move(res.values);
                } else {
                    if (!st.allow_filtering)
                        throw_invalid("Only EQ and IN relation are supported on the partition key (unless you use the token() function or allow filtering)");
                    pk_ranges.push_back(std::move(res));
                }
                break;
            case ColumnKind::clustering: plan.clustering.push_back(std::move(res)); break;
            default: plan.filters.push_back(std::move(res)); break;
        }
    }
    std::size_t restricted = static_cast<std::size_t>(
        std::count_if(pk_values.begin(), pk_values.end(), [](const auto& v) { return !v.empty(); }));
    bool full_pk = restricted == s.pk.size() && pk_ranges.empty();
    if (full_pk && std::all_of(pk_values.begin(), pk_values.end(), [](const auto& v) { return v.size() == 1; })) {
        // One partition (every key column restricted by `=` or a one-value IN): no combinations
        // to build, deduplicate or sort.
        std::vector<Bytes> key;
        if (pk_values.size() == 1) {
            key = std::move(pk_values[0]);  // already the one-component key
        } else {
            key.reserve(pk_values.size());
            for (auto& v : pk_values) key.push_back(std::move(v[0]));
        }
        plan.partition_tokens.push_back(partition_token(key));
        plan.partition_keys.emplace();
        plan.partition_keys->push_back(std::move(key));
    } else if (full_pk) {
        std::vector<PartitionPos> seen;
        std::vector<std::vector<Bytes>> keys;
        for (auto& key : cartesian(pk_values)) {
            PartitionPos pos = partition_pos(key);
            if (std::find(seen.begin(), seen.end(), pos) != seen.end()) continue;
            seen.push_back(pos);
            keys.push_back(std::move(key));
        }
        std::vector<std::size_t> order(keys.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return seen[a] < seen[b]; });
        std::vector<std::vector<Bytes>> sorted;
        for (auto i : order) {
            sorted.push_back(std::move(keys[i]));
            plan.partition_tokens.push_back(seen[i].token);
        }
        plan.partition_keys = std::move(sorted);
    } else {
        if (restricted > 0 || !pk_ranges.empty()) {
            if (!st.allow_filtering) needs_filtering();
            for (std::size_t i = 0; i < pk_values.size(); ++i)
                if (!pk_values[i].empty())
                    plan.filters.push_back(Restriction{s.pk[i], pk_values[i].size() == 1 ? cql::Op::eq : cql::Op::in,
                                                       pk_values[i]});
            for (auto& r : pk_ranges) plan.filters.push_back(std::move(r));
        }
        if (!st.allow_filtering && (!plan.clustering.empty() || !plan.filters.empty()) &&
            s.generated == Generated::none)
            needs_filtering();
    }
    if (!plan.filters.empty() && !st.allow_filtering && s.generated == Generated::none) needs_filtering();
    (void)has_token;

    if (!st.order_by.empty()) {
        if (!plan.partition_keys)
            throw_invalid("ORDER BY is only supported when the partition key is restricted by an EQ or an IN.");
        std::optional<bool> reversed;
        for (std::size_t i = 0; i < st.order_by.size(); ++i) {
            const ColumnDef& c = column_of(s, st.order_by[i].first);
            if (c.kind != ColumnKind::clustering)
                throw_invalid("Order by is currently only supported on the clustered columns of the PRIMARY KEY, got " + c.name);
            if (static_cast<std::size_t>(c.position) != i)
                throw_invalid("Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY");
            bool r = st.order_by[i].second != c.desc;
            if (reversed && *reversed != r) throw_invalid("Unsupported order by relation");
            reversed = r;
        }
        plan.reversed = reversed.value_or(false);
    }
    if (auto l = eval_int(st.limit, int_type(), "limit", bound)) {
        if (*l <= 0) throw_invalid("LIMIT must be strictly positive");
        plan.limit = *l;
    }
    if (auto l = eval_int(st.per_partition_limit, int_type(), "per partition limit", bound)) {
        if (*l <= 0) throw_invalid("PER PARTITION LIMIT must be strictly positive");
        plan.per_partition_limit = *l;
    }
    if (st.distinct) {
        for (const auto& o : plan.outputs->columns)
            if (o.kind == cql::Selector::Kind::column && s.columns[o.column].kind != ColumnKind::partition_key &&
                s.columns[o.column].kind != ColumnKind::static_)
                throw_invalid("SELECT DISTINCT queries must only request partition key columns and/or static columns (not " +
                              s.columns[o.column].name + ")");
        plan.per_partition_limit = 1;
    }
    return plan;
}

}  // namespace async_cassandra::server::detail

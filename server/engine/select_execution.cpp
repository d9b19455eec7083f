// Executing a SELECT and building its Rows result.
#include "server/engine/select_execution.hpp"

#include "server/engine/bind_analysis.hpp"
#include "server/engine/partition_route.hpp"
#include "server/engine/prepared_shape.hpp"
#include "server/engine/select_plan.hpp"
#include "server/engine/statement_context.hpp"
#include "server/engine/table_scan.hpp"

#include <algorithm>
#include <string>

namespace async_cassandra::server::detail {

using cql::CqlError;
using cql::throw_invalid;
using protocol::ValueView;

ExecutionResult run_select(Engine::Impl& impl, const cql::SelectStmt& st, const cql::ParsedStatement& ps,
                           const std::string& ks, const RunOptions& opt, ConnectionState& state) {
    const protocol::QueryParameters& params = *opt.params;
    // The topology provider may take front-end locks: ask it before taking ours.
    std::optional<ClusterView> view;
    if (keyspace_of(st.table, ks) == "system") view = impl.cluster_view();
    std::shared_lock lk(impl.mutex);
    Table* table = find_table(impl, st.table, ks);
    auto schema = table->schema;
    std::shared_ptr<const PreparedShape> shape;
    BindAnalysis analysed;
    if (opt.prepared) shape = shape_of(impl, *opt.prepared);
    else analysed = analyze(impl, ps, ks);
    auto bound = bind_values(shape ? shape->analysis : analysed, params.values, params.value_names);
    SelectPlan plan = plan_select(st, schema, bound, shape ? shape->outputs : nullptr);
    if (opt.route) {
        *opt.route = select_route(plan, keyspace_of(st.table, ks));
        if (*opt.route && !with_replication(impl, **opt.route)) opt.route->reset();
    }
    std::optional<PagingState> resume;
    if (params.paging_state && !params.paging_state->empty()) resume = decode_paging_state(*params.paging_state);
    std::int32_t page_size = params.page_size.value_or(0);
    if (page_size < 0) page_size = 0;
    if (page_size > 0 && !st.order_by.empty() && plan.partition_keys && plan.partition_keys->size() > 1 && !plan.count)
        throw_invalid("Cannot page queries with both ORDER BY and a IN restriction on the partition key; you must either "
                      "remove the ORDER BY or the IN and sort client side, or disable paging for this query");
    plan.merge_partitions = !st.order_by.empty() && plan.partition_keys && plan.partition_keys->size() > 1 &&
                            !plan.count && !schema->synthetic;
    auto storage = std::make_shared<Bytes>();
    PageResult page;
    std::int64_t count = 0;
    if (schema->synthetic) {
        page = run_synthetic(impl.synthetic, plan, resume, page_size, *storage);
        count = page.counted;
    } else {
        Table generated;
        const Table* source = table;
        if (schema->generated != Generated::none) {
            generated.schema = schema;
            fill_generated(impl, *schema, state, view ? *view : ClusterView{}, generated);
            source = &generated;
        }
        page = scan_table(*source, plan, resume, page_size, *storage);
        count = page.counted;
    }
    protocol::RowsResult rows;
    if (plan.count) {
        storage->clear();
        RowsBuffer buf(*storage);
        for (const auto& o : plan.outputs->columns) {
            if (o.kind == cql::Selector::Kind::count) {
                Bytes b;
                cql::append_i64(b, count);
                buf.cell(BytesView(b));
            } else {
                buf.put_i32(-1);
            }
        }
        buf.finish();
        page.row_count = 1;
        page.next.reset();
    }
    rows.metadata.column_count = static_cast<std::int32_t>(plan.outputs->specs.size());
    if (page.next) rows.metadata.paging_state = encode_paging_state(*page.next);
    bool send_metadata = !params.skip_metadata;
    if (shape && state.version == protocol::ProtocolVersion::v5) {
        const Bytes& id = shape->result_metadata_id;
        if (!opt.client_metadata_id.empty() && !std::equal(id.begin(), id.end(), opt.client_metadata_id.begin(), opt.client_metadata_id.end())) {
            rows.metadata.new_metadata_id = id;
            send_metadata = true;
        }
    }
    if (send_metadata) rows.metadata.columns = plan.outputs->specs;
    else rows.metadata.no_metadata = true;
    rows.row_count = page.row_count;
    rows.rows_content = BytesView(*storage);
    ExecutionResult result{protocol::Response{protocol::ResultResponse{std::move(rows)}}, storage, std::nullopt, {}};
    // SelectStatement: an aggregate without any partition key (or token) restriction.
    const bool whole_ring = plan.token_lo == std::numeric_limits<std::int64_t>::min() &&
                            plan.token_hi == std::numeric_limits<std::int64_t>::max() && !plan.empty_range;
    if (plan.count && impl.config.cassandra_warnings && !plan.partition_keys && whole_ring)
        result.warnings.emplace_back("Aggregation query used without partition key");
    return result;
}

std::string metadata_fingerprint(const std::vector<protocol::ColumnSpec>& cols) {
    std::string s;
    for (const auto& c : cols) s += c.keyspace + "." + c.table + "." + c.name + ":" + c.type->cql_name() + ";";
    return s;
}

}  // namespace async_cassandra::server::detail

// The engine's front door: requests dispatched to the statement kinds, each in its own file
// (select_execution, writes, ddl, batch, prepared_statements, partition_route), and CqlError
// turned into ErrorResponse.
#include "server/engine/engine_internal.hpp"

#include "server/engine/batch.hpp"
#include "server/engine/ddl.hpp"
#include "server/engine/prepared_statements.hpp"
#include "server/engine/select_execution.hpp"
#include "server/engine/statement_context.hpp"
#include "server/engine/storage.hpp"
#include "server/engine/writes.hpp"

#include <chrono>

namespace async_cassandra::server {

using namespace detail;
using cql::CqlError;
using cql::throw_invalid;

// ================================================================ Impl helpers

ClusterView Engine::Impl::cluster_view() const {
    {
        std::lock_guard lk(provider_mutex);
        if (provider) return provider();
    }
    ClusterView v;
    v.cluster_name = config.cluster_name;
    NodeInfo n;
    n.id = 1;
    n.address = "127.0.0.1";
    n.host_id = uuid_text(md5("node-1"));
    n.tokens = {0};
    v.nodes.push_back(n);
    return v;
}

std::shared_ptr<const cql::ParsedStatement> Engine::Impl::parse(std::string_view query) {
    std::string key(query);
    {
        std::lock_guard lk(parse_mutex);
        auto it = parse_cache.find(key);
        if (it != parse_cache.end()) return it->second;
    }
    auto parsed = std::make_shared<const cql::ParsedStatement>(cql::parse_cql(query));
    std::lock_guard lk(parse_mutex);
    if (parse_cache.size() >= 1024) parse_cache.clear();
    parse_cache.emplace(std::move(key), parsed);
    return parsed;
}

void Engine::Impl::bump_schema_version() {
    schema_version = uuid_text(md5_uuid("schema-" + std::to_string(++schema_counter) + "-" +
                                            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()),
                                        3));
}

// ================================================================ Engine

Engine::Engine(EngineConfig config) : impl_(std::make_unique<Impl>()) {
    impl_->config = std::move(config);
    add_system_keyspaces(*impl_);
    if (impl_->config.synthetic_rows > 0) {
        impl_->synthetic = make_synthetic(impl_->config.synthetic_rows);
        Keyspace ks;
        ks.name = "synthetic";
        ks.replication = std::make_shared<const Replication>(
            Replication{{"class", "org.apache.cassandra.locator.SimpleStrategy"}, {"replication_factor", "1"}});
        auto table = std::make_shared<Table>();
        table->schema = synthetic_schema();
        ks.tables.emplace("rows", table);
        impl_->keyspaces.emplace("synthetic", std::move(ks));
    }
    impl_->bump_schema_version();
}

Engine::~Engine() = default;

void Engine::set_cluster_view_provider(std::function<ClusterView()> provider) {
    std::lock_guard lk(impl_->provider_mutex);
    impl_->provider = std::move(provider);
}

std::string Engine::schema_version() const {
    std::shared_lock lk(impl_->mutex);
    return impl_->schema_version;
}

namespace {

ExecutionResult run_statement(Engine::Impl& impl, const cql::ParsedStatement& ps, const std::string& ks,
                              const RunOptions& opt, ConnectionState& state) {
    const protocol::QueryParameters& params = *opt.params;
    if (const auto* select = std::get_if<cql::SelectStmt>(&ps.statement)) return run_select(impl, *select, ps, ks, opt, state);
    if (const auto* use = std::get_if<cql::UseStmt>(&ps.statement)) {
        std::shared_lock lk(impl.mutex);
        if (!impl.keyspaces.count(use->keyspace)) throw_invalid("Keyspace '" + use->keyspace + "' does not exist");
        state.keyspace = use->keyspace;
        return ExecutionResult{protocol::Response{protocol::ResultResponse{protocol::SetKeyspaceResult{use->keyspace}}},
                               nullptr, std::nullopt, {}};
    }
    if (auto result = run_ddl(impl, ps.statement, ks)) return std::move(*result);
    return run_write(impl, ps.statement, ps, ks, params.values, params.value_names, params.default_timestamp,
                     opt.prepared);
}

}  // namespace

ExecutionResult Engine::execute(const protocol::Request& request, ConnectionState& state,
                                std::optional<PartitionRoute>* route) {
    Impl& impl = *impl_;
    if (route) route->reset();
    // A SELECT's route comes from run_select's plan; any other statement's is computed first.
    auto route_unless_select = [&](const cql::ParsedStatement& ps, RunOptions& opt) {
        if (!route) return;
        if (std::holds_alternative<cql::SelectStmt>(ps.statement)) opt.route = route;
        else *route = this->route(request, state);
    };
    try {
        return std::visit(
            Overloaded{
                [&](const protocol::QueryRequest& q) {
                    auto ps = impl.parse(q.query);
                    RunOptions opt;
                    opt.params = &q.params;
                    route_unless_select(*ps, opt);
                    std::string ks = default_keyspace(state, q.params.keyspace);
                    auto r = run_statement(impl, *ps, ks, opt, state);
                    warn_query_batch(impl, q, *ps, ks, r);
                    return r;
                },
                [&](const protocol::PrepareRequest& p) { return prepare(impl, p, state); },
                [&](const protocol::ExecuteRequest& e) {
                    auto entry = find_prepared(impl, state.node_id, e.id);
                    if (!entry) return unprepared(e.id);
                    RunOptions opt;
                    opt.params = &e.params;
                    opt.prepared = entry.get();
                    opt.client_metadata_id = e.result_metadata_id;
                    route_unless_select(*entry->parsed, opt);
                    return run_statement(impl, *entry->parsed, entry->keyspace, opt, state);
                },
                [&](const protocol::BatchRequest& b) {
                    if (route) *route = this->route(request, state);
                    return execute_batch(impl, b, state);
                },
                [&](const auto&) {
                    return error_result(ServerErrorCode::protocol_error, "The engine only executes QUERY, PREPARE, EXECUTE and BATCH");
                },
            },
            request);
    } catch (const CqlError& e) {
        protocol::ErrorResponse r;
        r.code = e.code;
        r.message = e.message;
        r.keyspace = e.keyspace;
        r.table = e.table;
        r.unprepared_id = e.unprepared_id;
        return ExecutionResult{protocol::Response{std::move(r)}, nullptr, std::nullopt, {}};
    } catch (const ProtocolError& e) {
        return error_result(ServerErrorCode::invalid, e.what());
    } catch (const std::exception& e) {
        return error_result(ServerErrorCode::server_error, e.what());
    }
}

}  // namespace async_cassandra::server

#include "session/session_impl.hpp"

#include <async_cassandra/exception_message.hpp>

#include "net/error_mapping.hpp"
#include "session/error_classifier.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include "protocol/rows_page.hpp"

namespace async_cassandra::detail {

namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// A broadcast: close() completes every pending and later receive at once.
using Latch = asio::experimental::concurrent_channel<void(asio::error_code, bool)>;

std::string unquote(const std::string& keyspace) {
    if (keyspace.size() >= 2 && keyspace.front() == '"' && keyspace.back() == '"')
        return keyspace.substr(1, keyspace.size() - 2);
    return keyspace;
}
}  // namespace

struct SessionImpl::PrepareEntry {
    explicit PrepareEntry(asio::any_io_executor ex) : ready(std::move(ex), 0) {}
    bool done = false;  ///< guarded by SessionImpl::mutex_
    std::shared_ptr<PreparedData> data;
    std::exception_ptr error;
    Latch ready;  ///< closed when done
};

struct ConcurrentState {
    ConcurrentState(asio::strand<asio::any_io_executor> s, std::size_t n, std::function<BoundStatement(std::size_t)> m)
        : strand(s), make(std::move(m)), count(n), out(n), done(s, 0) {}
    asio::strand<asio::any_io_executor> strand;
    std::function<BoundStatement(std::size_t)> make;
    std::size_t count;
    std::size_t next = 0;     ///< strand only
    std::size_t running = 0;  ///< strand only
    std::vector<ExecutionOutcome> out;
    Latch done;  ///< closed when the last worker finished
};

SessionImpl::SessionImpl(std::shared_ptr<cluster::ClusterCore> core, std::string keyspace)
    : core_(std::move(core)), keyspace_(std::move(keyspace)) {}

SessionImpl::~SessionImpl() { shutdown(); }

std::string SessionImpl::keyspace() const {
    std::lock_guard lock(mutex_);
    return unquote(keyspace_);
}

std::size_t SessionImpl::open_connections() const {
    std::shared_ptr<cluster::KeyspacePools> pools;
    {
        std::lock_guard lock(mutex_);
        pools = pools_;
    }
    std::size_t n = 0;
    if (pools)
        for (const auto& p : pools->all()) n += p->open_connections();
    return n;
}

std::size_t SessionImpl::in_flight_requests() const {
    std::shared_ptr<cluster::KeyspacePools> pools;
    {
        std::lock_guard lock(mutex_);
        pools = pools_;
    }
    std::size_t n = 0;
    if (pools)
        for (const auto& p : pools->all()) n += p->in_flight();
    return n;
}

void SessionImpl::shutdown() {
    std::shared_ptr<cluster::KeyspacePools> pools;
    {
        std::lock_guard lock(mutex_);
        pools = std::move(pools_);
    }
    if (pools) pools->detach();
}

RequestExecutor SessionImpl::executor() const {
    std::lock_guard lock(mutex_);
    if (!pools_) throw ConnectionClosed("session is shut down");
    return RequestExecutor(core_, pools_);
}

asio::awaitable<void> SessionImpl::open_pools(std::shared_ptr<cluster::KeyspacePools> pools) {
    const cluster::HostsView view(core_->hosts());
    std::vector<NoHostAvailable::HostFailure> failures;
    bool any = false;
    for (const auto& host : view.hosts()) {
        if (!core_->load_balancing().is_usable(view, *host)) continue;
        std::exception_ptr error;
        try {
            co_await pools->pool(*host)->open();
            any = true;
        } catch (...) {
            error = std::current_exception();
        }
        if (error) failures.push_back({host->endpoint(), error});
    }
    if (any) co_return;
    // One clear cause (e.g. bad credentials, unknown keyspace): report it as such.
    bool all_refusals = !failures.empty();
    for (const auto& f : failures) {
        try {
            std::rethrow_exception(f.error);
        } catch (const ServerError&) {
        } catch (const ConfigurationError&) {
        } catch (...) {
            all_refusals = false;
        }
    }
    if (all_refusals) std::rethrow_exception(failures.front().error);
    std::string what = "no host available:";
    for (const auto& f : failures) what += " [" + f.host + ": " + exception_message(f.error) + "]";
    throw NoHostAvailable(what, std::move(failures));
}

asio::awaitable<std::shared_ptr<cluster::KeyspacePools>> SessionImpl::attach_pools(std::string keyspace) {
    auto pools = core_->pools(keyspace);
    pools->attach();
    std::exception_ptr error;
    try {
        co_await open_pools(pools);
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        pools->detach();
        std::rethrow_exception(error);
    }
    co_return pools;
}

asio::awaitable<void> SessionImpl::start() {
    auto self = shared_from_this();
    std::string keyspace = keyspace_;
    auto pools = co_await attach_pools(std::move(keyspace));
    std::lock_guard lock(mutex_);
    pools_ = std::move(pools);
}

PageReply SessionImpl::to_page_reply(net::Reply& reply, const PreparedData* prepared) {
    PageReply out;
    if (reply.prefix) out.info = net::response_info_of(*reply.prefix);
    auto* result = std::get_if<protocol::ResultResponse>(&reply.message);
    if (!result)
        throw ProtocolError(ProtocolErrc::invalid_value,
                            std::string("unexpected response ") + protocol::to_string(reply.header.opcode));
    if (auto* rows = std::get_if<protocol::RowsResult>(result)) {
        std::shared_ptr<const Columns> known;
        if (prepared) {
            std::lock_guard lock(prepared->mutex);
            known = prepared->result_columns;
        }
        std::optional<protocol::Bytes> new_id = rows->metadata.new_metadata_id;
        out.page = protocol::page_from_rows(reply.body, std::move(*rows), known,
                                   out.info.empty() ? nullptr : std::make_shared<const ResponseInfo>(out.info));
        if (prepared && new_id) {
            // v5: the result metadata changed; later executions announce the new id.
            std::lock_guard lock(prepared->mutex);
            auto& data = const_cast<PreparedData&>(*prepared);
            data.result_metadata_id = std::move(*new_id);
            data.result_columns = out.page->columns_ptr();
        }
    } else if (auto* ks = std::get_if<protocol::SetKeyspaceResult>(result)) {
        out.keyspace_set = ks->keyspace;
    } else if (auto* sc = std::get_if<protocol::SchemaChange>(result)) {
        out.schema_change = SchemaChangeInfo{sc->change_type, sc->target, sc->keyspace, sc->name, sc->arg_types};
    } else if (std::holds_alternative<protocol::PreparedResult>(*result)) {
        throw ProtocolError(ProtocolErrc::invalid_value, "unexpected Prepared result");
    }
    return out;
}

PageReply SessionImpl::page_reply_of(const RequestExecutor& exec, RequestExecutor::Answer& answer,
                                     const PreparedData* prepared) {
    PageReply out = to_page_reply(answer.reply, prepared);
    if (out.keyspace_set && unquote(*out.keyspace_set) != unquote(exec.pools()->keyspace())) {
        // USE through execute(): that connection now has another keyspace than its pool.
        answer.pool->retire(answer.connection);
    }
    return out;
}

asio::awaitable<void> SessionImpl::send(RequestExecutor& exec, RequestBuilder& request,
                                        RequestExecutor::Answer& out) const {
    // Not a coroutine: the executor takes the route when called, so the keyspace's copy and the
    // routing stay on this stack instead of in the caller's frame.
    const std::string ks = keyspace();
    return exec.execute(request, request.routing(ks), out);
}

asio::awaitable<PageReply> SessionImpl::run(RequestBuilder request, const PreparedData* prepared) {
    auto self = shared_from_this();
    RequestExecutor exec = executor();
    RequestExecutor::Answer answer;
    co_await send(exec, request, answer);
    co_return page_reply_of(exec, answer, prepared);
}

SessionImpl::AfterPage SessionImpl::add_answer(ResultSet& rs, const RequestExecutor& exec,
                                               RequestExecutor::Answer& answer, const PreparedData* prepared,
                                               std::optional<PagingState>& next) {
    PageReply pr = page_reply_of(exec, answer, prepared);
    AfterPage after;
    rs.add_response_info(pr.info);
    if (pr.schema_change) {
        rs.set_schema_change(std::move(*pr.schema_change));
        after.schema_changed = true;
    }
    if (pr.keyspace_set) {
        after.keyspace_changed = pr.keyspace_set != keyspace();
        rs.set_keyspace_set(std::move(*pr.keyspace_set));
    }
    next.reset();
    if (pr.page) {
        next = pr.page->paging_state();
        rs.add_page(std::move(*pr.page));
    }
    return after;
}

asio::awaitable<PageReply> SessionImpl::execute_one(StatementRef st, std::optional<PagingState> paging_state,
                                                    std::optional<std::int32_t> page_size) {
    // Not a coroutine: run()'s frame owns the request (one frame per page, not two).
    const PreparedData* prepared = st.prepared.get();
    return run(RequestBuilder::statement(std::move(st), config(), std::move(paging_state), page_size), prepared);
}

asio::awaitable<std::pair<std::exception_ptr, ResultSet>> SessionImpl::execute_all(OwnedStatement statement) {
    auto self = shared_from_this();
    std::pair<std::exception_ptr, ResultSet> out;
    try {
        const StatementRef st = std::visit([](const auto& s) { return statement_ref(s); }, statement);
        ResultSet& rs = out.second;
        std::optional<PagingState> paging;
        for (;;) {
            // run() of execute_one(), in this frame (see the declaration); what is not needed
            // across a suspension lives in send() and add_answer(), outside the frame.
            RequestBuilder request = RequestBuilder::statement(st, config(), std::move(paging), std::nullopt);
            RequestExecutor exec = executor();
            RequestExecutor::Answer answer;
            co_await send(exec, request, answer);
            const AfterPage after = add_answer(rs, exec, answer, st.prepared.get(), paging);
            if (after.schema_changed) {
                // DDL: the next statement may go to a node that has not seen the change yet.
                co_await core_->wait_for_schema_agreement(
                    config().request_timeout.value_or(std::chrono::milliseconds(10000)));
            }
            if (after.keyspace_changed) {
                // USE through execute(): the session moves to that keyspace.
                std::string keyspace = *rs.keyspace_set();
                co_await set_keyspace(std::move(keyspace));
            }
            if (!paging) break;
        }
    } catch (...) {
        out.first = std::current_exception();
    }
    co_return out;
}

asio::awaitable<ResultSet> SessionImpl::execute_batch(const Batch& batch) {
    RequestBuilder request = RequestBuilder::batch(batch, config());  // named: GCC 12 and co_await temporaries
    PageReply pr = co_await run(std::move(request), nullptr);
    ResultSet rs;
    rs.add_response_info(pr.info);
    if (pr.page) rs.add_page(std::move(*pr.page));  // conditional batches return rows
    co_return rs;
}

asio::awaitable<PreparedStatement> SessionImpl::prepare(std::string query) {
    auto self = shared_from_this();
    std::shared_ptr<PrepareEntry> entry;
    bool owner = false;
    {
        std::lock_guard lock(mutex_);
        auto it = prepared_.find(query);
        if (it != prepared_.end()) {
            entry = it->second;
        } else {
            entry = std::make_shared<PrepareEntry>(core_->executor());
            prepared_.emplace(query, entry);
            owner = true;
        }
    }
    if (!owner) {
        bool done = false;
        {
            std::lock_guard lock(mutex_);
            done = entry->done;
        }
        if (!done) co_await entry->ready.async_receive(use_tuple);  // completes when closed
        if (entry->error) std::rethrow_exception(entry->error);
        co_return PreparedStatement(entry->data);
    }

    std::exception_ptr error;
    std::shared_ptr<PreparedData> data;
    try {
        RequestBuilder request = RequestBuilder::prepare(query);
        RequestExecutor exec = executor();
        RequestExecutor::Answer answer;
        co_await send(exec, request, answer);
        auto* result = std::get_if<protocol::ResultResponse>(&answer.reply.message);
        auto* pr = result ? std::get_if<protocol::PreparedResult>(result) : nullptr;
        if (!pr) throw ProtocolError(ProtocolErrc::invalid_value, "PREPARE was not answered with a Prepared result");
        data = std::make_shared<PreparedData>();
        data->query = query;
        data->statement_kind = static_cast<std::uint8_t>(protocol::statement_kind(query));
        data->bind_markers = protocol::columns_from_specs(pr->metadata.columns);
        data->partition_key_indexes = pr->metadata.partition_key_indexes;
        data->id = pr->id;
        data->result_metadata_id = pr->result_metadata_id;
        if (!pr->result_metadata.columns.empty())
            data->result_columns = protocol::columns_from_specs(pr->result_metadata.columns);
    } catch (...) {
        error = std::current_exception();
    }
    {
        std::lock_guard lock(mutex_);
        entry->done = true;
        entry->data = data;
        entry->error = error;
        if (error) prepared_.erase(query);  // a later prepare() tries again
    }
    entry->ready.close();
    if (error) std::rethrow_exception(error);
    co_return PreparedStatement(data);
}

asio::awaitable<void> SessionImpl::set_keyspace(std::string keyspace) {
    auto self = shared_from_this();
    {
        std::lock_guard lock(mutex_);
        if (!pools_) throw ConnectionClosed("session is shut down");
        if (keyspace == keyspace_) co_return;
    }
    // The pools of the new keyspace (shared with other sessions using it); opening them runs USE
    // on each connection, which throws InvalidRequest for an unknown keyspace.
    std::string wanted = keyspace;
    auto pools = co_await attach_pools(std::move(wanted));
    std::shared_ptr<cluster::KeyspacePools> old;
    {
        std::lock_guard lock(mutex_);
        old = std::exchange(pools_, pools);
        keyspace_ = keyspace;
    }
    if (old) old->detach();
    else pools->detach();  // shut down meanwhile
}

asio::awaitable<void> SessionImpl::run_concurrent_worker(std::shared_ptr<ConcurrentState> state) {
    auto self = shared_from_this();
    while (state->next < state->count) {
        const std::size_t i = state->next++;
        std::pair<std::exception_ptr, ResultSet> outcome;
        try {
            auto execution = execute_all(state->make(i));  // named: GCC 12 and co_await temporaries
            outcome = co_await std::move(execution);
        } catch (...) {
            outcome.first = std::current_exception();
        }
        state->out[i].error = std::move(outcome.first);
        state->out[i].result = std::move(outcome.second);
    }
}

asio::awaitable<std::vector<ExecutionOutcome>> SessionImpl::execute_concurrent(
    std::size_t count, std::function<BoundStatement(std::size_t)> make, std::size_t concurrency) {
    auto self = shared_from_this();
    const auto executor = co_await asio::this_coro::executor;
    auto strand = asio::make_strand(executor);
    auto state = std::make_shared<ConcurrentState>(strand, count, std::move(make));
    const std::size_t workers = std::min(std::max<std::size_t>(concurrency, 1), count);
    if (workers == 0) co_return std::move(state->out);
    // Workers run on the strand, so `next`, `running` and `out` are only touched there.
    asio::post(strand, [self, state, workers] {
        state->running = workers;
        for (std::size_t w = 0; w < workers; ++w)
            asio::co_spawn(state->strand, self->run_concurrent_worker(state), [state](std::exception_ptr) {
                if (--state->running == 0) state->done.close();
            });
    });
    co_await state->done.async_receive(use_tuple);  // the close orders the workers' writes before here
    co_return std::move(state->out);
}

}  // namespace async_cassandra::detail

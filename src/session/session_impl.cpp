#include "session/session_impl.hpp"

#include "net/error_mapping.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio's awaitable frame allocator.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>

namespace async_cassandra::detail {

namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
using Clock = std::chrono::steady_clock;

std::vector<protocol::ValueView> value_views(const EncodedValues* ev) {
    std::vector<protocol::ValueView> out;
    if (!ev) return out;
    out.reserve(ev->count);
    protocol::ByteReader in(ev->bytes);
    for (std::size_t i = 0; i < ev->count; ++i) out.push_back(in.read_value());
    return out;
}

/// CQL spelling of a keyspace name for USE: plain when it is a lower-case identifier, quoted
/// (case-preserving) otherwise; an already quoted name is kept.
std::string use_statement(const std::string& keyspace) {
    if (!keyspace.empty() && keyspace.front() == '"') return "USE " + keyspace;
    bool plain = !keyspace.empty() && !std::isdigit(static_cast<unsigned char>(keyspace[0]));
    for (char c : keyspace)
        plain = plain && (std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
                          c == '_');
    if (plain) return "USE " + keyspace;
    std::string quoted = "\"";
    for (char c : keyspace) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return "USE " + quoted + "\"";
}

/// RequestEvent::error_type of a server error code: the name of the class it is thrown as.
const char* error_type_of(ServerErrorCode code) noexcept {
    switch (code) {
        case ServerErrorCode::server_error: return "ServerInternalError";
        case ServerErrorCode::protocol_error: return "ProtocolErrorFromServer";
        case ServerErrorCode::bad_credentials: return "AuthenticationError";
        case ServerErrorCode::unavailable: return "Unavailable";
        case ServerErrorCode::overloaded: return "Overloaded";
        case ServerErrorCode::is_bootstrapping: return "IsBootstrapping";
        case ServerErrorCode::truncate_error: return "TruncateError";
        case ServerErrorCode::write_timeout: return "WriteTimeout";
        case ServerErrorCode::read_timeout: return "ReadTimeout";
        case ServerErrorCode::read_failure: return "ReadFailure";
        case ServerErrorCode::function_failure: return "FunctionFailure";
        case ServerErrorCode::write_failure: return "WriteFailure";
        case ServerErrorCode::cdc_write_failure: return "CdcWriteFailure";
        case ServerErrorCode::cas_write_unknown: return "CasWriteUnknown";
        case ServerErrorCode::syntax_error: return "SyntaxError";
        case ServerErrorCode::unauthorized: return "Unauthorized";
        case ServerErrorCode::invalid: return "InvalidRequest";
        case ServerErrorCode::config_error: return "ConfigError";
        case ServerErrorCode::already_exists: return "AlreadyExists";
        case ServerErrorCode::unprepared: return "Unprepared";
    }
    return "ServerError";
}

/// RequestEvent::error_type of a client-side failure of Connection::send.
const char* error_type_of(const std::exception_ptr& error) noexcept {
    try {
        std::rethrow_exception(error);
    } catch (const Timeout&) {
        return "Timeout";
    } catch (const ConnectionClosed&) {
        return "ConnectionClosed";
    } catch (const RequestCancelled&) {
        return "RequestCancelled";
    } catch (const ProtocolError&) {
        return "ProtocolError";
    } catch (const TypeError&) {
        return "TypeError";
    } catch (const ServerError& e) {
        return error_type_of(e.code());
    } catch (const Error&) {
        return "Error";
    } catch (...) {
        return "Exception";
    }
}

std::string what_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown error";
    }
}

std::string unquote(const std::string& keyspace) {
    if (keyspace.size() >= 2 && keyspace.front() == '"' && keyspace.back() == '"')
        return keyspace.substr(1, keyspace.size() - 2);
    return keyspace;
}
}  // namespace

struct SessionImpl::PrepareEntry {
    bool done = false;
    std::shared_ptr<PreparedData> data;
    std::exception_ptr error;
    std::vector<std::shared_ptr<asio::steady_timer>> waiters;
};

struct ConcurrentState {
    ConcurrentState(asio::strand<asio::any_io_executor> s, std::size_t n, std::function<BoundStatement(std::size_t)> m)
        : strand(s), make(std::move(m)), count(n), out(n), done(s) {}
    asio::strand<asio::any_io_executor> strand;
    std::function<BoundStatement(std::size_t)> make;
    std::size_t count;
    std::size_t next = 0;
    std::size_t running = 0;
    std::vector<ExecutionOutcome> out;
    asio::steady_timer done;
};

SessionImpl::SessionImpl(asio::any_io_executor executor, ClusterConfig config, std::string keyspace)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      logger_(config_.log_sink, config_.log_level),
      keyspace_(std::move(keyspace)) {
    for (const auto& host : config_.contact_points) {
        HostPool pool;
        pool.host = host;
        pool.slots.resize(std::max<std::size_t>(1, config_.connections_per_host));
        hosts_.push_back(std::move(pool));
    }
}

SessionImpl::~SessionImpl() { shutdown(); }

std::string SessionImpl::keyspace() const {
    std::lock_guard lock(mutex_);
    return unquote(keyspace_);
}

std::size_t SessionImpl::open_connections() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& h : hosts_)
        for (const auto& s : h.slots) n += s.connection && s.connection->is_open();
    return n;
}

std::size_t SessionImpl::in_flight_requests() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& h : hosts_)
        for (const auto& s : h.slots)
            if (s.connection && s.connection->is_open()) n += s.connection->in_flight();
    return n;
}

void SessionImpl::shutdown() {
    std::vector<std::shared_ptr<net::Connection>> all;
    {
        std::lock_guard lock(mutex_);
        shut_down_ = true;
        for (auto& h : hosts_)
            for (auto& s : h.slots)
                if (s.connection) all.push_back(std::move(s.connection));
    }
    for (auto& c : all) c->close();
}

asio::awaitable<void> SessionImpl::start() {
    std::vector<NoHostAvailable::HostFailure> failures;
    bool any = false;
    for (std::size_t h = 0; h < hosts_.size(); ++h) {
        for (std::size_t s = 0; s < hosts_[h].slots.size(); ++s) {
            std::exception_ptr error;
            try {
                auto c = co_await open_connection(hosts_[h].host);
                install(h, s, std::move(c));
                any = true;
            } catch (...) {
                error = std::current_exception();
            }
            if (error) {
                failures.push_back({hosts_[h].host + ":" + std::to_string(config_.port), error});
                break;  // this host is not answering; try the next one
            }
        }
    }
    if (any) co_return;
    // One clear cause (e.g. bad credentials, unknown keyspace): report it as such.
    bool all_server_errors = !failures.empty();
    for (const auto& f : failures) {
        try {
            std::rethrow_exception(f.error);
        } catch (const ServerError&) {
        } catch (const ConfigurationError&) {
        } catch (...) {
            all_server_errors = false;
        }
    }
    if (all_server_errors) std::rethrow_exception(failures.front().error);
    std::string what = "no host available:";
    for (const auto& f : failures) {
        try {
            std::rethrow_exception(f.error);
        } catch (const std::exception& e) {
            what += " [" + f.host + ": " + e.what() + "]";
        }
    }
    throw NoHostAvailable(what, std::move(failures));
}

asio::awaitable<std::shared_ptr<net::Connection>> SessionImpl::open_connection(std::string host) {
    auto c = co_await net::Connection::open(executor_, host, config_.port, config_.connection, logger_);
    std::string ks;
    {
        std::lock_guard lock(mutex_);
        ks = keyspace_;
    }
    if (!ks.empty()) {
        std::exception_ptr error;
        try {
            const std::string text = use_statement(ks);
            protocol::QueryRequest q;
            q.query = text;
            q.params.consistency = config_.default_consistency;
            const protocol::Request request = q;
            net::Reply reply = co_await c->send(request, config_.connection.connect_timeout);
            if (auto* e = std::get_if<protocol::ErrorResponse>(&reply.message)) net::throw_server_error(*e);
        } catch (...) {
            error = std::current_exception();
        }
        if (error) {
            c->close();
            std::rethrow_exception(error);
        }
    }
    co_return c;
}

void SessionImpl::install(std::size_t h, std::size_t s, std::shared_ptr<net::Connection> connection) {
    std::shared_ptr<net::Connection> to_close;
    {
        std::lock_guard lock(mutex_);
        if (shut_down_) {
            to_close = std::move(connection);
        } else {
            auto& slots = hosts_[h].slots;
            if (s >= slots.size() || (slots[s].connection && slots[s].connection->is_open())) {
                // The slot was refilled meanwhile: use a free one, or grow the pool by one.
                s = slots.size();
                for (std::size_t k = 0; k < slots.size(); ++k)
                    if (!slots[k].connection || !slots[k].connection->is_open()) {
                        s = k;
                        break;
                    }
                if (s == slots.size()) slots.emplace_back();
            }
            slots[s].connection = std::move(connection);
            slots[s].reconnecting = false;
        }
    }
    if (to_close) to_close->close();
}

asio::awaitable<void> SessionImpl::reconnect(std::size_t h, std::size_t s) {
    auto self = shared_from_this();
    std::string host;
    {
        std::lock_guard lock(mutex_);
        host = hosts_[h].host;
    }
    const std::string endpoint = host + ":" + std::to_string(config_.port);
    if (logger_.enabled(LogLevel::info))
        logger_.log(LogLevel::info, "reconnecting to " + endpoint + " (pool slot " + std::to_string(s) + ")");
    std::shared_ptr<net::Connection> c;
    std::exception_ptr error;
    try {
        c = co_await open_connection(host);
    } catch (...) {
        error = std::current_exception();
    }
    if (c) {
        if (logger_.enabled(LogLevel::info)) logger_.log(LogLevel::info, "reconnected to " + endpoint);
        install(h, s, std::move(c));
    } else {
        if (logger_.enabled(LogLevel::warn))
            logger_.log(LogLevel::warn, "reconnection to " + endpoint + " failed (" + what_of(error) +
                                            "); next attempt in 1s at the earliest");
        std::lock_guard lock(mutex_);
        if (s < hosts_[h].slots.size()) {
            hosts_[h].slots[s].reconnecting = false;
            hosts_[h].slots[s].next_attempt = Clock::now() + std::chrono::seconds(1);
        }
    }
}

asio::awaitable<std::shared_ptr<net::Connection>> SessionImpl::acquire() {
    std::shared_ptr<net::Connection> chosen;
    std::vector<std::pair<std::size_t, std::size_t>> to_reconnect;
    {
        std::lock_guard lock(mutex_);
        if (shut_down_) throw ConnectionClosed("session is shut down");
        std::vector<std::pair<std::size_t, std::size_t>> all;
        for (std::size_t h = 0; h < hosts_.size(); ++h)
            for (std::size_t s = 0; s < hosts_[h].slots.size(); ++s) all.emplace_back(h, s);
        const auto now = Clock::now();
        for (std::size_t k = 0; k < all.size(); ++k) {
            std::size_t idx = (next_ + k) % all.size();
            auto [h, s] = all[idx];
            Slot& slot = hosts_[h].slots[s];
            if (slot.connection && slot.connection->is_open()) {
                if (!chosen) {
                    chosen = slot.connection;
                    next_ = idx + 1;
                }
            } else if (!slot.reconnecting && now >= slot.next_attempt) {
                slot.reconnecting = true;
                to_reconnect.emplace_back(h, s);
            }
        }
    }
    if (chosen) {
        for (auto [h, s] : to_reconnect) asio::co_spawn(executor_, reconnect(h, s), asio::detached);
        co_return chosen;
    }
    {
        // Connecting inline below; the slots are not being reconnected in the background.
        std::lock_guard lock(mutex_);
        for (auto [h, s] : to_reconnect) hosts_[h].slots[s].reconnecting = false;
    }

    // Nothing open: connect now, host after host.
    std::vector<NoHostAvailable::HostFailure> failures;
    std::string what = "no host available:";
    for (std::size_t h = 0; h < hosts_.size(); ++h) {
        std::exception_ptr error;
        try {
            auto c = co_await open_connection(hosts_[h].host);
            install(h, 0, c);
            chosen = std::move(c);
        } catch (...) {
            error = std::current_exception();
        }
        if (chosen) co_return chosen;
        std::string host = hosts_[h].host + ":" + std::to_string(config_.port);
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            what += " [" + host + ": " + e.what() + "]";
        }
        failures.push_back({host, error});
    }
    throw NoHostAvailable(what, std::move(failures));
}

std::optional<std::chrono::milliseconds> SessionImpl::timeout_of(const StatementOptions& options) const {
    if (options.no_timeout) return std::nullopt;
    if (options.timeout) return options.timeout;
    return config_.request_timeout;
}

asio::awaitable<net::Reply> SessionImpl::send(std::shared_ptr<net::Connection> connection,
                                              const protocol::Request& request, const StatementOptions& options,
                                              std::optional<RequestKind> kind) {
    const std::uint8_t flags = options.tracing ? protocol::frame_flags::tracing : 0;
    RequestObserver* observer = kind ? config_.observer.get() : nullptr;
    if (!observer) co_return co_await connection->send(request, timeout_of(options), flags);

    const auto start = Clock::now();
    std::optional<net::Reply> reply;
    std::exception_ptr error;
    try {
        reply = co_await connection->send(request, timeout_of(options), flags);
    } catch (...) {
        error = std::current_exception();
    }
    const std::string host = connection->endpoint();
    RequestEvent event;
    event.host = host;
    event.kind = *kind;
    event.latency = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
    if (error) {
        event.error_type = error_type_of(error);
        observer->on_request(event);
        std::rethrow_exception(error);
    }
    event.request_bytes = reply->request_bytes;
    event.response_bytes = reply->response_bytes;
    event.warnings = reply->prefix.warnings;
    if (auto* e = std::get_if<protocol::ErrorResponse>(&reply->message)) {
        event.error_type = error_type_of(e->code);
    } else {
        event.ok = true;
        if (auto* result = std::get_if<protocol::ResultResponse>(&reply->message))
            if (auto* rows = std::get_if<protocol::RowsResult>(result)) event.rows = rows->row_count;
    }
    observer->on_request(event);
    co_return std::move(*reply);
}

asio::awaitable<void> SessionImpl::reprepare(std::shared_ptr<net::Connection> connection,
                                             const PreparedData& prepared) {
    if (logger_.enabled(LogLevel::info))
        logger_.log(LogLevel::info, "statement unprepared on " + connection->endpoint() + "; re-preparing: " +
                                        prepared.query.substr(0, 200));
    protocol::PrepareRequest p;
    p.query = prepared.query;
    const protocol::Request request = p;
    const StatementOptions defaults;
    net::Reply reply = co_await send(connection, request, defaults, RequestKind::prepare);
    if (auto* e = std::get_if<protocol::ErrorResponse>(&reply.message)) net::throw_server_error(*e);
    auto* result = std::get_if<protocol::ResultResponse>(&reply.message);
    auto* pr = result ? std::get_if<protocol::PreparedResult>(result) : nullptr;
    if (!pr) throw ProtocolError(ProtocolErrc::invalid_value, "PREPARE was not answered with a Prepared result");
    std::lock_guard lock(prepared.mutex);
    auto& data = const_cast<PreparedData&>(prepared);
    data.id = pr->id;
    data.result_metadata_id = pr->result_metadata_id;
}

PageReply SessionImpl::to_page_reply(net::Reply& reply, const PreparedData* prepared) {
    PageReply out;
    out.info = net::response_info_of(reply.prefix);
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
        out.page = Page::from_rows(reply.body, std::move(*rows), known,
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

asio::awaitable<PageReply> SessionImpl::execute_one(StatementRef st, std::optional<protocol::Bytes> paging_state,
                                                    std::optional<std::int32_t> page_size) {
    auto self = shared_from_this();
    const StatementOptions& opts = *st.options;
    const std::vector<protocol::ValueView> values = value_views(st.values);
    bool reprepared = false;
    bool retried = false;
    const RequestKind kind = paging_state ? RequestKind::page : st.prepared ? RequestKind::execute : RequestKind::query;
    for (;;) {
        auto connection = co_await acquire();
        const bool v5 = connection->version() == protocol::ProtocolVersion::v5;
        protocol::QueryParameters p;
        p.consistency = opts.consistency.value_or(config_.default_consistency);
        p.values = values;
        std::int32_t size = page_size.value_or(opts.page_size.value_or(config_.default_page_size));
        if (size > 0) p.page_size = size;
        if (paging_state) p.paging_state = protocol::BytesView(*paging_state);
        p.serial_consistency = opts.serial_consistency ? opts.serial_consistency : config_.default_serial_consistency;
        p.default_timestamp = opts.default_timestamp;
        if (v5 && opts.keyspace) p.keyspace = std::string_view(*opts.keyspace);

        protocol::Bytes id;
        protocol::Bytes metadata_id;
        protocol::Request request;
        if (st.prepared) {
            {
                std::lock_guard lock(st.prepared->mutex);
                id = st.prepared->id;
                metadata_id = st.prepared->result_metadata_id;
            }
            protocol::ExecuteRequest e;
            e.id = id;
            if (v5) e.result_metadata_id = metadata_id;
            e.params = std::move(p);
            request = std::move(e);
        } else {
            protocol::QueryRequest q;
            q.query = *st.query;
            q.params = std::move(p);
            request = std::move(q);
        }

        std::optional<net::Reply> reply;
        std::exception_ptr error;
        bool closed = false;
        try {
            reply = co_await send(connection, request, opts, kind);
        } catch (const ConnectionClosed&) {
            closed = true;
            error = std::current_exception();
        }
        if (closed) {
            if (opts.idempotent && !retried) {
                retried = true;
                continue;
            }
            std::rethrow_exception(error);
        }
        if (auto* e = std::get_if<protocol::ErrorResponse>(&reply->message)) {
            if (e->code == ServerErrorCode::unprepared && st.prepared && !reprepared) {
                reprepared = true;
                co_await reprepare(connection, *st.prepared);
                continue;
            }
            net::throw_server_error(*e);
        }
        co_return to_page_reply(*reply, st.prepared.get());
    }
}

asio::awaitable<ResultSet> SessionImpl::execute_all(StatementRef st) {
    auto self = shared_from_this();
    ResultSet rs;
    std::optional<protocol::Bytes> paging;
    for (;;) {
        PageReply pr = co_await execute_one(st, paging, std::nullopt);
        rs.add_response_info(pr.info);
        if (pr.schema_change) rs.set_schema_change(std::move(*pr.schema_change));
        if (pr.keyspace_set) {
            rs.set_keyspace_set(*pr.keyspace_set);
            // USE through execute(): apply it to the whole pool.
            if (pr.keyspace_set != keyspace()) co_await set_keyspace(*pr.keyspace_set);
        }
        if (!pr.page) break;
        paging = pr.page->paging_state();
        rs.add_page(std::move(*pr.page));
        if (!paging) break;
    }
    co_return rs;
}

asio::awaitable<ResultSet> SessionImpl::execute_batch(const Batch& batch) {
    auto self = shared_from_this();
    const StatementOptions& opts = batch.options();
    std::vector<std::vector<protocol::ValueView>> values;
    values.reserve(batch.size());
    for (const auto& entry : batch.entries())
        std::visit([&](const auto& s) { values.push_back(value_views(&s.values())); }, entry);
    bool reprepared = false;
    for (;;) {
        auto connection = co_await acquire();
        const bool v5 = connection->version() == protocol::ProtocolVersion::v5;
        std::vector<protocol::Bytes> ids(batch.size());
        protocol::BatchRequest b;
        b.type = static_cast<protocol::BatchType>(batch.kind());
        b.consistency = opts.consistency.value_or(config_.default_consistency);
        b.serial_consistency = opts.serial_consistency ? opts.serial_consistency : config_.default_serial_consistency;
        b.default_timestamp = opts.default_timestamp;
        if (v5 && opts.keyspace) b.keyspace = std::string_view(*opts.keyspace);
        for (std::size_t i = 0; i < batch.size(); ++i) {
            protocol::BatchStatement bs;
            if (auto* s = std::get_if<Statement>(&batch.entries()[i])) {
                bs.query = s->query();
            } else {
                const auto& bound = std::get<BoundStatement>(batch.entries()[i]);
                ids[i] = bound.prepared()->id_copy();
                bs.is_prepared = true;
                bs.id = ids[i];
            }
            bs.values = values[i];
            b.statements.push_back(std::move(bs));
        }
        const protocol::Request request = std::move(b);
        net::Reply reply = co_await send(connection, request, opts, RequestKind::batch);
        if (auto* e = std::get_if<protocol::ErrorResponse>(&reply.message)) {
            if (e->code == ServerErrorCode::unprepared && !reprepared) {
                reprepared = true;
                for (const auto& entry : batch.entries())
                    if (auto* bound = std::get_if<BoundStatement>(&entry))
                        co_await reprepare(connection, *bound->prepared());
                continue;
            }
            net::throw_server_error(*e);
        }
        PageReply pr = to_page_reply(reply, nullptr);
        ResultSet rs;
        rs.add_response_info(pr.info);
        if (pr.page) rs.add_page(std::move(*pr.page));  // conditional batches return rows
        co_return rs;
    }
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
            entry = std::make_shared<PrepareEntry>();
            prepared_.emplace(query, entry);
            owner = true;
        }
    }
    if (!owner) {
        const auto executor = co_await asio::this_coro::executor;
        auto timer = std::make_shared<asio::steady_timer>(executor);
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                if (entry->done) break;
                entry->waiters.push_back(timer);
            }
            // Woken by the owner; the bound on the wait covers a wake-up that raced the wait.
            timer->expires_after(std::chrono::milliseconds(100));
            co_await timer->async_wait(use_tuple);
        }
        if (entry->error) std::rethrow_exception(entry->error);
        co_return PreparedStatement(entry->data);
    }

    std::exception_ptr error;
    std::shared_ptr<PreparedData> data;
    try {
        auto connection = co_await acquire();
        protocol::PrepareRequest p;
        p.query = query;
        const protocol::Request request = p;
        const StatementOptions defaults;
        net::Reply reply = co_await send(connection, request, defaults, RequestKind::prepare);
        if (auto* e = std::get_if<protocol::ErrorResponse>(&reply.message)) net::throw_server_error(*e);
        auto* result = std::get_if<protocol::ResultResponse>(&reply.message);
        auto* pr = result ? std::get_if<protocol::PreparedResult>(result) : nullptr;
        if (!pr) throw ProtocolError(ProtocolErrc::invalid_value, "PREPARE was not answered with a Prepared result");
        data = std::make_shared<PreparedData>();
        data->query = query;
        data->bind_markers = Columns::from_specs(pr->metadata.columns);
        data->partition_key_indexes = pr->metadata.partition_key_indexes;
        data->id = pr->id;
        data->result_metadata_id = pr->result_metadata_id;
        if (!pr->result_metadata.columns.empty())
            data->result_columns = Columns::from_specs(pr->result_metadata.columns);
    } catch (...) {
        error = std::current_exception();
    }
    std::vector<std::shared_ptr<asio::steady_timer>> waiters;
    {
        std::lock_guard lock(mutex_);
        entry->done = true;
        entry->data = data;
        entry->error = error;
        if (error) prepared_.erase(query);  // a later prepare() tries again
        waiters.swap(entry->waiters);
    }
    for (auto& t : waiters) asio::post(t->get_executor(), [t] { t->cancel(); });
    if (error) std::rethrow_exception(error);
    co_return PreparedStatement(data);
}

asio::awaitable<void> SessionImpl::set_keyspace(std::string keyspace) {
    auto self = shared_from_this();
    std::vector<std::shared_ptr<net::Connection>> connections;
    {
        std::lock_guard lock(mutex_);
        for (auto& h : hosts_)
            for (auto& s : h.slots)
                if (s.connection && s.connection->is_open()) connections.push_back(s.connection);
    }
    if (connections.empty()) connections.push_back(co_await acquire());
    const std::string text = use_statement(keyspace);
    protocol::QueryRequest q;
    q.query = text;
    q.params.consistency = config_.default_consistency;
    const protocol::Request request = q;
    const StatementOptions defaults;
    bool first = true;
    for (auto& c : connections) {
        std::optional<net::Reply> reply;
        try {
            reply = co_await send(c, request, defaults);
        } catch (const ConnectionClosed&) {
            continue;  // reopened connections pick up the new keyspace
        }
        if (auto* e = std::get_if<protocol::ErrorResponse>(&reply->message)) {
            if (first) net::throw_server_error(*e);
            c->close();  // inconsistent keyspace: drop it, it reconnects with the right one
        }
        if (first) {
            std::lock_guard lock(mutex_);
            keyspace_ = keyspace;
        }
        first = false;
    }
}

asio::awaitable<void> SessionImpl::run_concurrent_worker(std::shared_ptr<ConcurrentState> state) {
    auto self = shared_from_this();
    while (state->next < state->count) {
        const std::size_t i = state->next++;
        try {
            BoundStatement bound = state->make(i);
            StatementRef ref;
            ref.prepared = bound.prepared();
            ref.values = &bound.values();
            ref.options = &bound.options();
            state->out[i].result = co_await execute_all(ref);
        } catch (...) {
            state->out[i].error = std::current_exception();
        }
    }
}

asio::awaitable<void> SessionImpl::run_concurrent(std::shared_ptr<ConcurrentState> state, std::size_t workers) {
    // Runs on the strand, like the workers: `state` is only touched there.
    state->running = workers;
    for (std::size_t w = 0; w < workers; ++w)
        asio::co_spawn(state->strand, run_concurrent_worker(state), [state](std::exception_ptr) {
            if (--state->running == 0) state->done.cancel();
        });
    while (state->running > 0) {
        state->done.expires_after(std::chrono::milliseconds(100));
        co_await state->done.async_wait(use_tuple);
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
    co_await asio::co_spawn(strand, run_concurrent(state, workers), asio::use_awaitable);
    co_return std::move(state->out);
}

}  // namespace async_cassandra::detail

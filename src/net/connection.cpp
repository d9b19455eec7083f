#include "net/connection.hpp"

#include <async_cassandra/exception_message.hpp>

#include "net/error_mapping.hpp"

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/bind_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/dispatch.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <tuple>

namespace async_cassandra::net {

namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

protocol::Compression to_protocol(CompressionAlgorithm c) {
    switch (c) {
        case CompressionAlgorithm::none: return protocol::Compression::none;
        case CompressionAlgorithm::lz4: return protocol::Compression::lz4;
        case CompressionAlgorithm::snappy: return protocol::Compression::snappy;
    }
    return protocol::Compression::none;
}

template <class T>
const T* response_as(const Reply& r) {
    return std::get_if<T>(&r.message);
}

/// The client TLS context: trusted CAs and the optional client certificate. Complete before any
/// SSL object is made from it (an SSL object copies the certificate settings when created).
asio::ssl::context make_client_tls_context(const TlsConfig& config) {
    asio::ssl::context context(asio::ssl::context::tls_client);
    std::error_code ec;
    if (config.ca_file.empty()) context.set_default_verify_paths(ec);
    else context.load_verify_file(config.ca_file, ec);
    if (ec) throw ConfigurationError("cannot load TLS CA certificates: " + ec.message());
    if (!config.cert_file.empty() || !config.key_file.empty()) {
        if (config.cert_file.empty() || config.key_file.empty())
            throw ConfigurationError("TLS client certificate: cert_file and key_file go together");
        context.use_certificate_chain_file(config.cert_file, ec);
        if (ec) throw ConfigurationError("cannot load TLS client certificate '" + config.cert_file + "': " + ec.message());
        context.use_private_key_file(config.key_file, asio::ssl::context::pem, ec);
        if (ec) throw ConfigurationError("cannot load TLS client key '" + config.key_file + "': " + ec.message());
        if (SSL_CTX_check_private_key(context.native_handle()) != 1)
            throw ConfigurationError("TLS client key '" + config.key_file + "' does not match certificate '" +
                                     config.cert_file + "'");
    }
    return context;
}
}  // namespace

ResponseInfo response_info_of(const protocol::BodyPrefix& prefix) {
    ResponseInfo info;
    info.warnings = prefix.warnings;
    info.tracing_id = prefix.tracing_id;
    info.custom_payload.insert(prefix.custom_payload.begin(), prefix.custom_payload.end());
    return info;
}

struct Connection::Tls {
    Tls(asio::ip::tcp::socket& socket, const TlsConfig& config, const std::string& host)
        : context(make_client_tls_context(config)), stream(socket, context) {
        name = config.server_name.empty() ? host : config.server_name;
        if (config.verify_peer) {
            stream.set_verify_mode(asio::ssl::verify_peer);
            stream.set_verify_callback(asio::ssl::host_name_verification(name));
        } else {
            stream.set_verify_mode(asio::ssl::verify_none);
        }
        // SNI, unless the name is an IP address.
        std::error_code parse_error;
        (void)asio::ip::make_address(name, parse_error);
        if (parse_error) SSL_set_tlsext_host_name(stream.native_handle(), name.c_str());
    }
    asio::ssl::context context;
    asio::ssl::stream<asio::ip::tcp::socket&> stream;
    std::string name;
};

/// One request from send() to its completion. Lives on the heap, owned by the connection from
/// begin() until finish() hands it to the caller's executor (a small object instead of a
/// coroutine frame per request: with 1,024 requests in flight, their memory is what the CPU
/// caches hold).
struct Connection::Waiter {
    virtual ~Waiter() = default;
    /// Posts the outcome (`reply`, or `error`) to the caller's executor and gives up ownership.
    virtual void finish() = 0;

    const protocol::Request* request = nullptr;  ///< encoded when a stream id is free
    std::uint8_t flags = 0;
    std::uint64_t serial = 0;  ///< identifies the request to a cancellation (ids are reused)
    std::int16_t stream = -1;  ///< -1 while waiting for a free stream id
    Clock::time_point deadline = Clock::time_point::max();
    std::optional<Reply> reply;
    std::exception_ptr error;
    std::size_t request_bytes = 0;
    const protocol::ExpectedResponse* expected = nullptr;  ///< what can answer the request
    protocol::ExpectedResponse own_expectation;            ///< when the caller gave none
};

namespace {
/// A Waiter completing an asio handler (here: the awaiting coroutine's).
template <class Handler>
struct SendOperation final : Connection::Waiter {
    explicit SendOperation(Handler&& h)
        : handler(std::move(h)),
          work(asio::prefer(asio::get_associated_executor(handler), asio::execution::outstanding_work.tracked)) {}

    void finish() override {
        // Posted, never run inline: the caller must not resume inside the connection's reader.
        auto executor = work;
        asio::post(executor, [op = std::unique_ptr<SendOperation>(this)]() mutable {
            Handler h = std::move(op->handler);
            std::exception_ptr error = op->error;
            Reply reply;
            if (op->reply) {
                reply = std::move(*op->reply);
                reply.request_bytes = op->request_bytes;
            } else if (!error) {
                error = std::make_exception_ptr(ConnectionClosed("request abandoned"));
            }
            op.reset();  // free it before the caller runs on
            std::move(h)(error, std::move(reply));
        });
    }

    Handler handler;
    decltype(asio::prefer(std::declval<asio::associated_executor_t<Handler>>(),
                          asio::execution::outstanding_work.tracked)) work;
};
}  // namespace

/// Installed in the caller's cancellation slot: abandons the request on the strand, if it is
/// still pending (a request that already completed is left alone).
struct Connection::CancelRequest {
    std::weak_ptr<Connection> connection;
    std::uint64_t serial;
    void operator()(asio::cancellation_type) const {
        if (auto c = connection.lock()) {
            auto strand = c->strand_;
            asio::dispatch(strand, [c = std::move(c), serial = serial] { c->cancel_request(serial); });
        }
    }
};

Connection::Connection(Executor executor, std::string host, std::uint16_t port, ConnectionConfig config,
                       protocol::ProtocolVersion version, Logger logger)
    : strand_(asio::make_strand(executor)),
      host_(std::move(host)),
      port_(port),
      config_(std::move(config)),
      version_(version),
      socket_(strand_),
      heartbeat_timer_(strand_),
      deadline_timer_(strand_),
      reader_(config_.max_body_size),
      writer_(version, config_.max_body_size),
      table_(std::clamp<std::size_t>(config_.max_in_flight, 1, kMaxStreamIds)),
      logger_(std::move(logger)) {}

Connection::~Connection() = default;

std::exception_ptr Connection::close_reason() const { return close_reason_; }

asio::awaitable<std::shared_ptr<Connection>> Connection::open(Executor executor, std::string host,
                                                              std::uint16_t port, ConnectionConfig config,
                                                              Logger logger) {
    std::vector<protocol::ProtocolVersion> versions;
    if (config.protocol_version) {
        if (*config.protocol_version != 4 && *config.protocol_version != 5)
            throw ConfigurationError("protocol version must be 4 or 5");
        versions.push_back(static_cast<protocol::ProtocolVersion>(*config.protocol_version));
    } else {
        versions = {protocol::ProtocolVersion::v5, protocol::ProtocolVersion::v4};
    }
    for (std::size_t i = 0; i < versions.size(); ++i) {
        auto conn = std::make_shared<Connection>(executor, host, port, config, versions[i], logger);
        const bool last = i + 1 == versions.size();
        std::exception_ptr error;
        bool version_refused = false;
        try {
            co_await asio::co_spawn(conn->strand_, conn->start(), asio::use_awaitable);
            co_return conn;
        } catch (const ProtocolErrorFromServer&) {
            version_refused = true;
            error = std::current_exception();
        } catch (const ProtocolError&) {
            version_refused = true;
            error = std::current_exception();
        } catch (const ConnectionClosed&) {
            // A server that does not know the version may close the socket instead of answering
            // (or answer bytes we cannot frame): after the TCP (and TLS) connection was up, that
            // is a refusal of the version, not a dead node.
            version_refused = conn->transport_ready_;
            error = std::current_exception();
        } catch (...) {
            error = std::current_exception();
        }
        conn->close();
        const int v = static_cast<int>(versions[i]);
        if (version_refused && !last) {
            if (logger.enabled(LogLevel::info))
                logger.log(LogLevel::info, "protocol v" + std::to_string(v) + " refused by " + conn->endpoint() +
                                               " (" + exception_message(error) + "); trying v" +
                                               std::to_string(static_cast<int>(versions[i + 1])));
            continue;
        }
        if (logger.enabled(LogLevel::warn))
            logger.log(LogLevel::warn, "cannot open connection to " + conn->endpoint() + " (protocol v" +
                                           std::to_string(v) + "): " + exception_message(error));
        std::rethrow_exception(error);
    }
    throw ConnectionClosed("no protocol version to try");  // unreachable
}

asio::awaitable<void> Connection::start() {
    auto self = shared_from_this();
    // Watchdog: closing the socket aborts the pending connect/handshake step.
    auto watchdog = std::make_shared<asio::steady_timer>(strand_, config_.connect_timeout);
    auto handshake_done = std::make_shared<bool>(false);
    watchdog->async_wait([self, handshake_done, watchdog](std::error_code ec) {
        if (ec || *handshake_done) return;
        self->close_with(std::make_exception_ptr(Timeout("connect to " + self->endpoint() + " timed out")));
    });
    struct CancelWatchdog {
        std::shared_ptr<asio::steady_timer> t;
        std::shared_ptr<bool> done;
        ~CancelWatchdog() {
            *done = true;
            t->cancel();
        }
    } cancel_watchdog{watchdog, handshake_done};

    asio::ip::tcp::resolver resolver(strand_);
    const std::string service = std::to_string(port_);
    auto [rec, endpoints] = co_await resolver.async_resolve(host_, service, use_tuple);
    if (!is_open()) std::rethrow_exception(close_reason_);
    if (rec) throw ConnectionClosed("cannot resolve " + host_ + ": " + rec.message());
    auto [cec, ep] = co_await asio::async_connect(socket_, endpoints, use_tuple);
    if (!is_open()) std::rethrow_exception(close_reason_);
    if (cec) {
        close_with(std::make_exception_ptr(ConnectionClosed("connect to " + endpoint() + " failed: " + cec.message())));
        std::rethrow_exception(close_reason_);
    }
    std::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    // write_queued() writes plain TCP with write_some from the strand: it must never block.
    if (!config_.tls) socket_.non_blocking(true, ignored);
    if (config_.tls) {
        tls_ = std::make_unique<Tls>(socket_, *config_.tls, host_);
        auto [hec] = co_await tls_->stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
        if (!is_open()) std::rethrow_exception(close_reason_);
        if (hec) {
            close_with(std::make_exception_ptr(
                ConnectionClosed("TLS handshake with " + endpoint() + " failed: " + hec.message())));
            std::rethrow_exception(close_reason_);
        }
    }

    transport_ready_ = true;
    asio::co_spawn(strand_, reader_loop(), asio::detached);
    asio::co_spawn(strand_, deadline_loop(), asio::detached);

    const std::optional<std::chrono::milliseconds> step_timeout = config_.connect_timeout;
    const protocol::Request options_request = protocol::OptionsRequest{};
    Reply supported = co_await send(options_request, step_timeout, 0);
    if (auto* e = response_as<protocol::ErrorResponse>(supported)) throw_server_error(*e);
    auto* sup = response_as<protocol::SupportedResponse>(supported);
    if (!sup) throw ProtocolError(ProtocolErrc::invalid_value, "OPTIONS was not answered with SUPPORTED");

    protocol::Compression compression = to_protocol(config_.compression);
    if (version_ == protocol::ProtocolVersion::v5 && compression == protocol::Compression::snappy)
        compression = protocol::Compression::none;  // v5 segments only know LZ4
    if (compression != protocol::Compression::none) {
        auto it = sup->options.find("COMPRESSION");
        std::string name(protocol::to_string(compression));
        if (it == sup->options.end() || std::find(it->second.begin(), it->second.end(), name) == it->second.end())
            compression = protocol::Compression::none;
    }

    protocol::StartupRequest startup;
    startup.options["CQL_VERSION"] = "3.0.0";
    startup.options["DRIVER_NAME"] = config_.driver_name;
    startup.options["DRIVER_VERSION"] = config_.driver_version;
    if (compression != protocol::Compression::none)
        startup.options["COMPRESSION"] = std::string(protocol::to_string(compression));
    const bool v5 = version_ == protocol::ProtocolVersion::v5;
    if (v5) {
        switch_reader_to_segments_ = true;
        segment_lz4_ = compression == protocol::Compression::lz4;
    } else {
        reader_.set_compression(compression);
    }
    const protocol::Request startup_request = std::move(startup);
    Reply ready = co_await send(startup_request, step_timeout, 0);
    // The reader switched to segments when it saw READY/AUTHENTICATE; requests follow suit.
    if (v5) writer_.set_framed(segment_lz4_);
    else writer_.set_body_compression(compression);

    if (auto* e = response_as<protocol::ErrorResponse>(ready)) throw_server_error(*e);
    if (auto* auth = response_as<protocol::AuthenticateResponse>(ready)) {
        co_await authenticate(auth->authenticator, step_timeout);
    } else if (!response_as<protocol::ReadyResponse>(ready)) {
        throw ProtocolError(ProtocolErrc::invalid_value, "STARTUP was not answered with READY or AUTHENTICATE");
    }
    if (config_.heartbeat_interval && config_.heartbeat_interval->count() > 0)
        asio::co_spawn(strand_, heartbeat_loop(), asio::detached);
    handshake_done_ = true;
    if (logger_.enabled(LogLevel::info))
        logger_.log(LogLevel::info, "connection to " + endpoint() + " open: protocol v" +
                                        std::to_string(static_cast<int>(version_)) + ", compression " +
                                        (compression == protocol::Compression::none
                                             ? std::string("none")
                                             : std::string(protocol::to_string(compression))) +
                                        (tls_ ? ", TLS" : ""));
}

asio::awaitable<void> Connection::authenticate(std::string server_class,
                                               std::optional<std::chrono::milliseconds> step_timeout) {
    std::shared_ptr<AuthProvider> provider = config_.auth_provider;
    if (!provider && config_.auth)
        provider = std::make_shared<PlainTextAuthProvider>(config_.auth->username, config_.auth->password);
    if (!provider)
        throw CredentialsRequired("server " + endpoint() + " requires authentication (" + server_class +
                                  ") but no credentials are configured");
    std::unique_ptr<Authenticator> authenticator = provider->new_authenticator(endpoint(), server_class);
    if (!authenticator) throw ConfigurationError("the auth provider gave no authenticator for " + server_class);
    std::optional<AuthToken> token = authenticator->initial_response();
    // v4 4.1.2 / 4.2.7: AUTH_RESPONSE, answered by AUTH_CHALLENGE (another round) or AUTH_SUCCESS.
    // Bounded so that a server challenging forever cannot hold the handshake.
    for (int round = 1; round <= kMaxSaslRounds; ++round) {
        // (named, not a temporary: GCC 12 mishandles non-trivial temporaries in co_await operands)
        const protocol::Request auth_response = protocol::AuthResponseRequest{std::move(token)};
        Reply answer = co_await send(auth_response, step_timeout, 0);
        if (auto* e = response_as<protocol::ErrorResponse>(answer)) throw_server_error(*e);
        if (auto* success = response_as<protocol::AuthSuccessResponse>(answer)) {
            authenticator->on_success(success->token);
            co_return;
        }
        auto* challenge = response_as<protocol::AuthChallengeResponse>(answer);
        if (!challenge)
            throw AuthenticationError(std::string("unexpected ") + protocol::to_string(answer.header.opcode) +
                                      " during SASL authentication with " + server_class);
        token = authenticator->evaluate_challenge(challenge->token);
    }
    throw AuthenticationError("SASL authentication with " + endpoint() + " did not finish within " +
                              std::to_string(kMaxSaslRounds) + " rounds");
}

asio::awaitable<Reply> Connection::send(const protocol::Request& request,
                                        std::optional<std::chrono::milliseconds> timeout, std::uint8_t flags,
                                        const protocol::ExpectedResponse* expected) {
    auto initiation = [self = shared_from_this()](auto handler, const protocol::Request* request,
                                                  std::optional<std::chrono::milliseconds> timeout, std::uint8_t flags,
                                                  const protocol::ExpectedResponse* expected) {
        auto op = std::make_unique<SendOperation<decltype(handler)>>(std::move(handler));
        op->request = request;
        op->flags = flags;
        op->serial = self->next_serial_.fetch_add(1, std::memory_order_relaxed);
        if (expected) {
            op->expected = expected;
        } else {
            op->own_expectation = protocol::expected_response(*request);
            op->expected = &op->own_expectation;
        }
        if (timeout) {
            const auto now = Clock::now();
            op->deadline = *timeout < Clock::time_point::max() - now ? now + *timeout : Clock::time_point::max();
        }
        // Before the strand may own (and finish) the operation.
        auto slot = asio::get_associated_cancellation_slot(op->handler);
        if (slot.is_connected()) slot.template emplace<CancelRequest>(CancelRequest{self, op->serial});
        auto strand = self->strand_;
        asio::dispatch(strand, [self = std::move(self), op = std::unique_ptr<Waiter>(std::move(op))]() mutable {
            self->begin(op.release());
        });
    };
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr, Reply)>(
        std::move(initiation), asio::use_awaitable, &request, timeout, flags, expected);
}

void Connection::begin(Waiter* w) {
    if (!is_open()) {
        w->error = close_reason_;
        w->finish();
        return;
    }
    // First come, first served: behind the requests already waiting for a stream id.
    if (id_waiters_.empty() && start_request(w)) return;
    id_waiters_.push_back(w);  // back-pressure: every stream id is in use
    arm_deadline(w->deadline);
}

bool Connection::start_request(Waiter* w) {
    const std::optional<std::int16_t> id = table_.insert(w);
    if (!id) return false;
    w->stream = *id;
    try {
        w->request_bytes = writer_.append(*id, *w->request, w->flags);
    } catch (...) {
        // Not encodable (nothing was appended): the request fails, the connection is fine.
        table_.complete(*id);
        w->error = std::current_exception();
        w->finish();
        return true;
    }
    ++queued_frames_;
    update_counters();
    arm_deadline(w->deadline);
    flush();
    return true;
}

void Connection::start_waiting_requests() {
    while (!id_waiters_.empty() && table_.available() > 0) {
        Waiter* w = id_waiters_.front();
        id_waiters_.pop_front();
        start_request(w);
    }
}

void Connection::abandon(Waiter* w, bool timed_out) {
    if (w->stream < 0) {
        // Still waiting for a stream id: nothing was sent.
        id_waiters_.erase(std::remove(id_waiters_.begin(), id_waiters_.end(), w), id_waiters_.end());
        w->error = timed_out ? std::make_exception_ptr(
                                   Timeout("no free stream id on " + endpoint() + " within the request timeout"))
                             : std::make_exception_ptr(RequestCancelled("request cancelled while waiting for a stream id"));
        w->finish();
        return;
    }
    // The id stays reserved until the late response arrives.
    table_.orphan(w->stream);
    update_counters();
    if (logger_.enabled(LogLevel::debug))
        logger_.log(LogLevel::debug, "request on stream " + std::to_string(w->stream) + " to " + endpoint() +
                                         (timed_out ? " timed out" : " cancelled") +
                                         "; stream id orphaned until its late response (" +
                                         std::to_string(table_.orphans()) + " orphaned)");
    w->error = timed_out ? std::make_exception_ptr(Timeout("request to " + endpoint() + " timed out"))
                         : std::make_exception_ptr(RequestCancelled("request cancelled"));
    w->finish();
}

void Connection::close_if_too_many_orphans() {
    if (table_.orphans() >= config_.max_orphans)
        close_with(std::make_exception_ptr(ConnectionClosed("too many orphaned streams on " + endpoint())));
}

void Connection::cancel_request(std::uint64_t serial) {
    if (!is_open()) return;  // close_with() completed every request
    Waiter* found = nullptr;
    for (Waiter* w : id_waiters_)
        if (w->serial == serial) found = w;
    if (!found)
        table_.for_each_pending([&](Waiter* w) {
            if (w->serial == serial) found = w;
        });
    if (!found) return;  // answered already (its reply is on its way) or failed
    abandon(found, false);
    close_if_too_many_orphans();
}

void Connection::arm_deadline(Clock::time_point deadline) {
    if (deadline >= next_deadline_) return;  // the timer wakes earlier anyway: the common case
    next_deadline_ = deadline;
    deadline_timer_.cancel();  // deadline_loop() re-arms it
}

asio::awaitable<void> Connection::deadline_loop() {
    auto self = shared_from_this();
    while (is_open()) {
        deadline_timer_.expires_at(next_deadline_);
        auto [ec] = co_await deadline_timer_.async_wait(use_tuple);
        if (!is_open()) break;
        if (ec) continue;  // arm_deadline() moved the deadline earlier
        next_deadline_ = expire_requests(Clock::now());
    }
}

Connection::Clock::time_point Connection::expire_requests(Clock::time_point now) {
    Clock::time_point earliest = Clock::time_point::max();
    std::vector<Waiter*> expired;
    auto check = [&](Waiter* w) {
        if (w->deadline <= now) expired.push_back(w);
        else earliest = std::min(earliest, w->deadline);
    };
    table_.for_each_pending(check);
    for (Waiter* w : id_waiters_) check(w);
    // Every expired request fails with Timeout before too many orphans may close the connection.
    for (Waiter* w : expired) abandon(w, true);
    if (!expired.empty()) close_if_too_many_orphans();
    return earliest;
}

void Connection::flush() {
    if (writing_ || writer_.empty() || !is_open()) return;
    if (!flush_posted_) {
        // The first request since the socket went quiet goes out at once (latency at low
        // concurrency); the posted flush sends what the rest of the current burst of handlers
        // (e.g. every answer of one read) queues after it.
        // Posted to the strand's executor, entering the strand only when it runs: a handler
        // queued on the strand itself would make every later send() of the burst queue behind
        // it instead of running at once.
        flush_posted_ = true;
        asio::post(strand_.get_inner_executor(), asio::bind_executor(strand_, [self = shared_from_this()] {
            self->flush_posted_ = false;
            self->write_queued();
        }));
    } else if (queued_frames_ < kFramesPerWrite) {
        return;
    }
    // Within a burst, every kFramesPerWrite requests: the node works on them while we handle
    // the rest of the burst, instead of receiving them all only after it.
    write_queued();
}

void Connection::write_queued() {
    if (writing_ || writer_.empty() || !is_open()) return;
    try {
        writer_.take(write_buffer_);
    } catch (...) {
        fail_write(std::current_exception());
        return;
    }
    queued_frames_ = 0;
    std::size_t written = 0;
    if (!tls_) {
        // Plain TCP: a non-blocking write straight from here (the socket is in non-blocking
        // mode), so no write stays "in flight" while the socket can take more.
        std::error_code ec;
        written = socket_.write_some(asio::buffer(write_buffer_), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
            written = 0;
        } else if (ec) {
            fail_write(std::make_exception_ptr(ConnectionClosed("write to " + endpoint() + " failed: " + ec.message())));
            return;
        }
        if (written == write_buffer_.size()) return;
    }
    // TLS, or the socket buffer is full: an asynchronous write of the rest; what is queued
    // meanwhile goes out after it, in order.
    writing_ = true;
    auto done = asio::bind_executor(strand_, [self = shared_from_this()](std::error_code ec, std::size_t) {
        self->writing_ = false;
        if (ec) {
            self->close_with(
                std::make_exception_ptr(ConnectionClosed("write to " + self->endpoint() + " failed: " + ec.message())));
            return;
        }
        self->write_queued();
    });
    const auto rest = asio::buffer(write_buffer_.data() + written, write_buffer_.size() - written);
    if (tls_) asio::async_write(tls_->stream, rest, std::move(done));
    else asio::async_write(socket_, rest, std::move(done));
}

void Connection::fail_write(std::exception_ptr reason) {
    // Called inside start_request() or dispatch(): closing here would finish requests that
    // those are still using. No later write is attempted; the close fails every request.
    writing_ = true;
    asio::post(strand_, [self = shared_from_this(), reason] { self->close_with(reason); });
}

asio::awaitable<void> Connection::reader_loop() {
    auto self = shared_from_this();
    while (is_open()) {
        std::error_code ec;
        std::size_t n = 0;
        // Read straight into the decoder: a large body lands in its own buffer without a copy.
        const std::span<std::uint8_t> space = reader_.prepare();
        const auto target = asio::buffer(space.data(), space.size());
        if (tls_) std::tie(ec, n) = co_await tls_->stream.async_read_some(target, use_tuple);
        else std::tie(ec, n) = co_await socket_.async_read_some(target, use_tuple);
        if (ec) {
            close_with(std::make_exception_ptr(ConnectionClosed(
                ec == asio::error::eof || ec == asio::ssl::error::stream_truncated
                    ? "connection closed by " + endpoint()
                                       : "read from " + endpoint() + " failed: " + ec.message())));
            break;
        }
        last_read_ = Clock::now();
        try {
            reader_.commit(n);
            while (is_open()) {
                auto env = reader_.next();
                if (!env) break;
                dispatch(std::move(*env));
            }
        } catch (const std::exception& e) {
            // The byte stream itself is lost (bad checksum, impossible length, a response on a
            // stream id without a request): no later response can be trusted. Pending requests
            // fail as on a dropped connection, so that retry policies move them elsewhere.
            auto reason = std::make_exception_ptr(
                ConnectionClosed("connection to " + endpoint() + " lost: " + e.what(), std::current_exception()));
            // Responses of the same read are suspect too: a server that answered one request on
            // another's stream id shows it only when the second answer for that id arrives, and
            // the first one went to the wrong request. Fail them rather than deliver them.
            for (Waiter* w : delivered_) {
                w->reply.reset();
                w->error = reason;
            }
            close_with(reason);
            release_delivered();
            break;
        }
        release_delivered();
    }
}

void Connection::release_delivered() {
    for (Waiter* w : delivered_) w->finish();
    delivered_.clear();
}

void Connection::dispatch(protocol::Envelope env) {
    const auto opcode = env.header.opcode;
    if (switch_reader_to_segments_ &&
        (opcode == protocol::Opcode::ready || opcode == protocol::Opcode::authenticate)) {
        switch_reader_to_segments_ = false;
        reader_.enable_segments(segment_lz4_ ? protocol::Compression::lz4 : protocol::Compression::none);
    }
    if (!env.header.is_response)
        throw ProtocolError(ProtocolErrc::invalid_value, "server sent a request frame");
    // Decode with the version of the frame: a server that refuses v5 answers in v4.
    auto version = (env.header.version == 4 || env.header.version == 5)
                       ? static_cast<protocol::ProtocolVersion>(env.header.version)
                       : version_;
    if (env.header.stream < 0) {
        if (opcode != protocol::Opcode::event || !event_handler_) return;
        std::optional<Reply> msg;
        try {
            msg = decode_body(env, version);
        } catch (const std::exception& e) {
            // One bad EVENT body loses one event, not the connection.
            if (logger_.enabled(LogLevel::warn))
                logger_.log(LogLevel::warn, "undecodable EVENT from " + endpoint() + " ignored: " + e.what());
            return;
        }
        if (auto* ev = std::get_if<protocol::EventResponse>(&msg->message)) event_handler_(*ev);
        return;
    }
    auto done = table_.complete(env.header.stream);
    using Outcome = InFlightTable<Waiter*>::Outcome;
    if (done.outcome == Outcome::unknown)
        throw ProtocolError(ProtocolErrc::invalid_value,
                            "response on stream " + std::to_string(env.header.stream) + " with no request");
    if (done.outcome == Outcome::delivered) {
        Waiter* w = *done.pending;
        try {
            w->reply = decode_body(env, version);
        } catch (const ProtocolError& e) {
            // The envelope was intact: only this response is bad. Fail its request, keep the
            // connection and every other request on it.
            w->error = std::make_exception_ptr(ResponseDecodeError(e.code(), static_cast<std::uint8_t>(opcode),
                                                                   protocol::to_string(opcode), e.what()));
        } catch (const std::exception& e) {
            w->error = std::make_exception_ptr(ResponseDecodeError(ProtocolErrc::invalid_value,
                                                                   static_cast<std::uint8_t>(opcode),
                                                                   protocol::to_string(opcode), e.what()));
        }
        delivered_.push_back(w);  // woken once the whole read is dispatched (reader_loop)
        if (w->reply)
            if (const char* why = protocol::response_mismatch(*w->expected, w->reply->message))
                // Another request's answer: the server mixed up stream ids, so no later answer on
                // this connection can be trusted (reader_loop fails this read's and every pending
                // request as on a lost connection).
                throw ProtocolError(ProtocolErrc::invalid_value,
                                    "response on stream " + std::to_string(env.header.stream) +
                                        " cannot answer its request (" + why + "): stream ids mixed up");
    }
    if (done.outcome == Outcome::orphan && logger_.enabled(LogLevel::debug))
        logger_.log(LogLevel::debug, "late response on orphaned stream " + std::to_string(env.header.stream) +
                                         " from " + endpoint() + " dropped; stream id reusable");
    update_counters();
    start_waiting_requests();
}

Reply Connection::decode_body(protocol::Envelope& env, protocol::ProtocolVersion version) {
    Reply r;
    r.header = env.header;
    protocol::ByteReader in(env.body);
    protocol::BodyPrefix prefix = protocol::decode_body_prefix(in, env.header.flags, true);
    if (prefix.tracing_id || !prefix.warnings.empty() || !prefix.custom_payload.empty())
        r.prefix = std::make_shared<const protocol::BodyPrefix>(std::move(prefix));
    std::size_t ignored = 0;
    r.message = protocol::decode_response(env.header.opcode, in.rest(), version, &ignored);
    r.response_bytes = protocol::kFrameHeaderSize + env.body.size();
    if (ignored > 0 && logger_.enabled(LogLevel::debug))
        logger_.log(LogLevel::debug, "ignored " + std::to_string(ignored) + " trailing bytes after the " +
                                         protocol::to_string(env.header.opcode) + " body on stream " +
                                         std::to_string(env.header.stream) + " from " + endpoint());
    if (r.prefix && !r.prefix->warnings.empty() && logger_.enabled(LogLevel::warn))
        for (const auto& warning : r.prefix->warnings)
            logger_.log(LogLevel::warn, "server warning from " + endpoint() + ": " + warning);
    if (auto* e = std::get_if<protocol::ErrorResponse>(&r.message); e && r.prefix)
        e->info = std::make_shared<const ResponseInfo>(response_info_of(*r.prefix));
    r.body = std::move(env.storage);
    return r;
}

void Connection::update_counters() noexcept {
    in_flight_.store(table_.pending(), std::memory_order_relaxed);
    orphans_.store(table_.orphans(), std::memory_order_relaxed);
}

asio::awaitable<void> Connection::heartbeat_loop() {
    auto self = shared_from_this();
    const auto interval = *config_.heartbeat_interval;
    while (is_open()) {
        heartbeat_timer_.expires_after(interval);
        auto [ec] = co_await heartbeat_timer_.async_wait(use_tuple);
        if (ec || !is_open()) break;
        if (Clock::now() - last_read_ < interval) continue;
        try {
            const protocol::Request ping = protocol::OptionsRequest{};
            // The answer may take longer than the interval on a busy node: allow connect_timeout.
            const std::optional<std::chrono::milliseconds> wait = std::max(interval, config_.connect_timeout);
            Reply r = co_await send(ping, wait, 0);
            (void)r;
        } catch (const Error& e) {
            if (is_open()) logger_.log(LogLevel::warn, "heartbeat to " + endpoint() + " failed: " + e.what());
            close_with(std::make_exception_ptr(ConnectionClosed("heartbeat to " + endpoint() + " failed")));
            break;
        }
    }
}

void Connection::close() {
    auto self = shared_from_this();
    asio::dispatch(strand_, [self] {
        self->close_with(std::make_exception_ptr(ConnectionClosed("connection to " + self->endpoint() + " closed")),
                         true);
    });
}

void Connection::set_close_handler(std::function<void(std::exception_ptr)> handler) {
    auto self = shared_from_this();
    asio::dispatch(strand_, [self, handler = std::move(handler)]() mutable {
        if (self->is_open()) self->close_handler_ = std::move(handler);
        else handler(self->close_reason_);
    });
}

void Connection::close_with(std::exception_ptr reason, bool requested) {
    if (!is_open()) return;
    // Handshake failures are reported once, by open(); a close we asked for is routine.
    const LogLevel level = requested ? LogLevel::info : LogLevel::warn;
    if (handshake_done_ && logger_.enabled(level))
        logger_.log(level, requested ? "connection to " + endpoint() + " closed by the client"
                                     : "connection to " + endpoint() + " lost: " + exception_message(reason));
    close_reason_ = reason;
    open_.store(false, std::memory_order_release);
    std::error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    heartbeat_timer_.cancel();
    deadline_timer_.cancel();
    for (Waiter* w : table_.take_all()) {
        w->error = reason;
        w->finish();
    }
    for (Waiter* w : std::exchange(id_waiters_, {})) {
        w->error = reason;
        w->finish();
    }
    update_counters();
    if (close_handler_) std::exchange(close_handler_, nullptr)(reason);
}

}  // namespace async_cassandra::net

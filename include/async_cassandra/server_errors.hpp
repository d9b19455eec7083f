// Errors reported by a Cassandra node (ERROR responses, native_protocol_v4.spec section 9) and
// the client-side failures of the request path (timeouts, lost connections, no host).
//
// Every type derives from async_cassandra::Error (error.hpp). Server errors derive from
// ServerError, which carries the numeric code and the server's message; subclasses add the
// extra fields of their code. Catch ServerError to handle "the server said no", catch a subclass
// for one reason, or inspect ServerError::code().
#pragma once

#include <async_cassandra/consistency.hpp>
#include <async_cassandra/error.hpp>
#include <async_cassandra/response_info.hpp>

#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

namespace async_cassandra {

/// Name of a server error code ("Unavailable", "Read_timeout", ...).
const char* to_string(ServerErrorCode code) noexcept;

// ---------------------------------------------------------------- server errors

/// An ERROR response. what() is "<code name> (0x....): <server message>".
class ServerError : public Error {
public:
    ServerError(ServerErrorCode code, std::string message);
    ServerErrorCode code() const noexcept { return code_; }
    /// The message as the server sent it.
    const std::string& server_message() const noexcept { return message_; }
    /// Warnings, tracing id and custom payload the server sent with the ERROR.
    const ResponseInfo& response_info() const noexcept { return info_; }
    const std::vector<std::string>& warnings() const noexcept { return info_.warnings; }
    const std::optional<std::array<std::uint8_t, 16>>& tracing_id() const noexcept { return info_.tracing_id; }
    void set_response_info(ResponseInfo info) { info_ = std::move(info); }

private:
    ServerErrorCode code_;
    std::string message_;
    ResponseInfo info_;
};

/// 0x0000: the node failed unexpectedly.
class ServerInternalError : public ServerError {
public:
    explicit ServerInternalError(std::string message) : ServerError(ServerErrorCode::server_error, std::move(message)) {}
};

/// 0x000A: the node did not understand our bytes (or our protocol version).
class ProtocolErrorFromServer : public ServerError {
public:
    explicit ProtocolErrorFromServer(std::string message)
        : ServerError(ServerErrorCode::protocol_error, std::move(message)) {}
};

/// 0x0100: authentication failed (bad credentials).
class AuthenticationError : public ServerError {
public:
    explicit AuthenticationError(std::string message)
        : ServerError(ServerErrorCode::bad_credentials, std::move(message)) {}
};

/// 0x1000: not enough live replicas for the consistency level.
class Unavailable : public ServerError {
public:
    Unavailable(std::string message, Consistency consistency, std::int32_t required, std::int32_t alive)
        : ServerError(ServerErrorCode::unavailable, std::move(message)),
          consistency_(consistency), required_(required), alive_(alive) {}
    Consistency consistency() const noexcept { return consistency_; }
    std::int32_t required() const noexcept { return required_; }
    std::int32_t alive() const noexcept { return alive_; }

private:
    Consistency consistency_;
    std::int32_t required_;
    std::int32_t alive_;
};

/// 0x1001: the coordinator is overloaded.
class Overloaded : public ServerError {
public:
    explicit Overloaded(std::string message) : ServerError(ServerErrorCode::overloaded, std::move(message)) {}
};

/// 0x1002: the coordinator is bootstrapping.
class IsBootstrapping : public ServerError {
public:
    explicit IsBootstrapping(std::string message)
        : ServerError(ServerErrorCode::is_bootstrapping, std::move(message)) {}
};

/// 0x1003: a TRUNCATE failed.
class TruncateError : public ServerError {
public:
    explicit TruncateError(std::string message) : ServerError(ServerErrorCode::truncate_error, std::move(message)) {}
};

/// 0x1100: replicas did not acknowledge a write in time.
class WriteTimeout : public ServerError {
public:
    WriteTimeout(std::string message, Consistency consistency, std::int32_t received, std::int32_t block_for,
                 std::string write_type, std::int16_t contentions)
        : ServerError(ServerErrorCode::write_timeout, std::move(message)), consistency_(consistency),
          received_(received), block_for_(block_for), write_type_(std::move(write_type)), contentions_(contentions) {}
    Consistency consistency() const noexcept { return consistency_; }
    std::int32_t received() const noexcept { return received_; }
    std::int32_t block_for() const noexcept { return block_for_; }
    /// SIMPLE, BATCH, UNLOGGED_BATCH, COUNTER, BATCH_LOG, CAS, VIEW, CDC.
    const std::string& write_type() const noexcept { return write_type_; }
    /// v5, CAS writes: contentions during the Paxos phase. Cassandra 4.0-5.0 also send it with
    /// write_type SIMPLE when the Paxos commit phase timed out; 0 when the server sent none.
    std::int16_t contentions() const noexcept { return contentions_; }

private:
    Consistency consistency_;
    std::int32_t received_;
    std::int32_t block_for_;
    std::string write_type_;
    std::int16_t contentions_;
};

/// 0x1200: replicas did not answer a read in time.
class ReadTimeout : public ServerError {
public:
    ReadTimeout(std::string message, Consistency consistency, std::int32_t received, std::int32_t block_for,
                bool data_present)
        : ServerError(ServerErrorCode::read_timeout, std::move(message)), consistency_(consistency),
          received_(received), block_for_(block_for), data_present_(data_present) {}
    Consistency consistency() const noexcept { return consistency_; }
    std::int32_t received() const noexcept { return received_; }
    std::int32_t block_for() const noexcept { return block_for_; }
    bool data_present() const noexcept { return data_present_; }

private:
    Consistency consistency_;
    std::int32_t received_;
    std::int32_t block_for_;
    bool data_present_;
};

/// Reason map entry of a v5 read/write failure: endpoint address (4 or 16 bytes) -> failure code.
struct FailureReason {
    std::vector<std::uint8_t> endpoint;
    std::uint16_t code = 0;
};

/// 0x1300: a replica failed a read (e.g. too many tombstones).
class ReadFailure : public ServerError {
public:
    ReadFailure(std::string message, Consistency consistency, std::int32_t received, std::int32_t block_for,
                std::int32_t num_failures, std::vector<FailureReason> reasons, bool data_present)
        : ServerError(ServerErrorCode::read_failure, std::move(message)), consistency_(consistency),
          received_(received), block_for_(block_for), num_failures_(num_failures), reasons_(std::move(reasons)),
          data_present_(data_present) {}
    Consistency consistency() const noexcept { return consistency_; }
    std::int32_t received() const noexcept { return received_; }
    std::int32_t block_for() const noexcept { return block_for_; }
    std::int32_t num_failures() const noexcept { return num_failures_; }
    /// v5 only; empty in v4.
    const std::vector<FailureReason>& reasons() const noexcept { return reasons_; }
    bool data_present() const noexcept { return data_present_; }

private:
    Consistency consistency_;
    std::int32_t received_;
    std::int32_t block_for_;
    std::int32_t num_failures_;
    std::vector<FailureReason> reasons_;
    bool data_present_;
};

/// 0x1400: a user-defined function failed.
class FunctionFailure : public ServerError {
public:
    FunctionFailure(std::string message, std::string keyspace, std::string function, std::vector<std::string> arg_types)
        : ServerError(ServerErrorCode::function_failure, std::move(message)), keyspace_(std::move(keyspace)),
          function_(std::move(function)), arg_types_(std::move(arg_types)) {}
    const std::string& keyspace() const noexcept { return keyspace_; }
    const std::string& function() const noexcept { return function_; }
    const std::vector<std::string>& arg_types() const noexcept { return arg_types_; }

private:
    std::string keyspace_;
    std::string function_;
    std::vector<std::string> arg_types_;
};

/// 0x1500: a replica failed a write.
class WriteFailure : public ServerError {
public:
    WriteFailure(std::string message, Consistency consistency, std::int32_t received, std::int32_t block_for,
                 std::int32_t num_failures, std::vector<FailureReason> reasons, std::string write_type)
        : ServerError(ServerErrorCode::write_failure, std::move(message)), consistency_(consistency),
          received_(received), block_for_(block_for), num_failures_(num_failures), reasons_(std::move(reasons)),
          write_type_(std::move(write_type)) {}
    Consistency consistency() const noexcept { return consistency_; }
    std::int32_t received() const noexcept { return received_; }
    std::int32_t block_for() const noexcept { return block_for_; }
    std::int32_t num_failures() const noexcept { return num_failures_; }
    const std::vector<FailureReason>& reasons() const noexcept { return reasons_; }
    const std::string& write_type() const noexcept { return write_type_; }

private:
    Consistency consistency_;
    std::int32_t received_;
    std::int32_t block_for_;
    std::int32_t num_failures_;
    std::vector<FailureReason> reasons_;
    std::string write_type_;
};

/// 0x1600 (v5): a write to a CDC-enabled table failed.
class CdcWriteFailure : public ServerError {
public:
    explicit CdcWriteFailure(std::string message)
        : ServerError(ServerErrorCode::cdc_write_failure, std::move(message)) {}
};

/// 0x1700 (v5): the outcome of a CAS write is unknown.
class CasWriteUnknown : public ServerError {
public:
    CasWriteUnknown(std::string message, Consistency consistency, std::int32_t received, std::int32_t block_for)
        : ServerError(ServerErrorCode::cas_write_unknown, std::move(message)), consistency_(consistency),
          received_(received), block_for_(block_for) {}
    Consistency consistency() const noexcept { return consistency_; }
    std::int32_t received() const noexcept { return received_; }
    std::int32_t block_for() const noexcept { return block_for_; }

private:
    Consistency consistency_;
    std::int32_t received_;
    std::int32_t block_for_;
};

/// 0x2000: the query has a syntax error.
class SyntaxError : public ServerError {
public:
    explicit SyntaxError(std::string message) : ServerError(ServerErrorCode::syntax_error, std::move(message)) {}
};

/// 0x2100: the logged-in user lacks a permission.
class Unauthorized : public ServerError {
public:
    explicit Unauthorized(std::string message) : ServerError(ServerErrorCode::unauthorized, std::move(message)) {}
};

/// 0x2200: the query is syntactically right but invalid (unknown table, wrong type...).
class InvalidRequest : public ServerError {
public:
    explicit InvalidRequest(std::string message) : ServerError(ServerErrorCode::invalid, std::move(message)) {}
};

/// 0x2300: the query is invalid because of a configuration issue.
class ConfigError : public ServerError {
public:
    explicit ConfigError(std::string message) : ServerError(ServerErrorCode::config_error, std::move(message)) {}
};

/// 0x2400: CREATE of a keyspace or table that exists. table() is empty for a keyspace.
class AlreadyExists : public ServerError {
public:
    AlreadyExists(std::string message, std::string keyspace, std::string table)
        : ServerError(ServerErrorCode::already_exists, std::move(message)), keyspace_(std::move(keyspace)),
          table_(std::move(table)) {}
    const std::string& keyspace() const noexcept { return keyspace_; }
    const std::string& table() const noexcept { return table_; }

private:
    std::string keyspace_;
    std::string table_;
};

/// 0x2500: the coordinator does not know the prepared id. The session re-prepares and retries
/// once on its own; callers only see this when that retry fails the same way.
class Unprepared : public ServerError {
public:
    Unprepared(std::string message, std::vector<std::uint8_t> id)
        : ServerError(ServerErrorCode::unprepared, std::move(message)), id_(std::move(id)) {}
    const std::vector<std::uint8_t>& id() const noexcept { return id_; }

private:
    std::vector<std::uint8_t> id_;
};

// ---------------------------------------------------------------- client errors

/// A request did not complete within its timeout. The request may still have been executed.
class Timeout : public Error {
public:
    using Error::Error;
};

/// The connection a request was sent on closed (or broke) before its response arrived. Retry
/// policies treat it as connection loss (safe to retry an idempotent request elsewhere).
/// `cause()` is what broke it when that was not the peer closing the socket, e.g. a
/// ProtocolError (bad segment checksum, impossible length, a response on a stream id without a
/// request): the byte stream was lost, not just one response.
class ConnectionClosed : public Error {
public:
    explicit ConnectionClosed(const std::string& what, std::exception_ptr cause = nullptr)
        : Error(what), cause_(std::move(cause)) {}
    const std::exception_ptr& cause() const noexcept { return cause_; }

private:
    std::exception_ptr cause_;
};

/// One response's body could not be decoded although its envelope was intact: only that
/// request fails; the connection and the other requests on it carry on. The request may have
/// been executed by the server.
class ResponseDecodeError : public ProtocolError {
public:
    ResponseDecodeError(ProtocolErrc code, std::uint8_t opcode, std::string opcode_name, const std::string& reason)
        : ProtocolError(code, "cannot decode " + opcode_name + " response: " + reason), opcode_(opcode),
          opcode_name_(std::move(opcode_name)), reason_(reason) {}
    /// Opcode of the response (native_protocol_v4.spec 2.4), e.g. 0x08 RESULT, 0x00 ERROR.
    std::uint8_t opcode() const noexcept { return opcode_; }
    const std::string& opcode_name() const noexcept { return opcode_name_; }
    /// Why decoding failed (the ProtocolError's message).
    const std::string& reason() const noexcept { return reason_; }

private:
    std::uint8_t opcode_;
    std::string opcode_name_;
    std::string reason_;
};

/// Invalid configuration (bad contact point, impossible pool size, unsupported option).
class ConfigurationError : public UsageError {
public:
    using UsageError::UsageError;
};

/// The server asks for authentication (its authenticator class is in the message) and the
/// connection has no credentials (ConnectionConfig::auth). Wrong credentials are a server
/// AuthenticationError instead.
class CredentialsRequired : public ConfigurationError {
public:
    using ConfigurationError::ConfigurationError;
};

/// No host could take the request. Carries the failure of every host tried.
class NoHostAvailable : public Error {
public:
    struct HostFailure {
        std::string host;  ///< "address:port"
        std::exception_ptr error;
    };
    NoHostAvailable(std::string what, std::vector<HostFailure> failures)
        : Error(std::move(what)), failures_(std::move(failures)) {}
    const std::vector<HostFailure>& failures() const noexcept { return failures_; }

private:
    std::vector<HostFailure> failures_;
};

/// The request was abandoned because its cancellation slot fired (or the session shut down).
class RequestCancelled : public Error {
public:
    using Error::Error;
};

}  // namespace async_cassandra

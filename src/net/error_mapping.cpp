#include "net/error_mapping.hpp"

#include <cstdio>

namespace async_cassandra {

const char* to_string(ServerErrorCode code) noexcept {
    switch (code) {
        case ServerErrorCode::server_error: return "Server error";
        case ServerErrorCode::protocol_error: return "Protocol error";
        case ServerErrorCode::bad_credentials: return "Bad credentials";
        case ServerErrorCode::unavailable: return "Unavailable";
        case ServerErrorCode::overloaded: return "Overloaded";
        case ServerErrorCode::is_bootstrapping: return "Is bootstrapping";
        case ServerErrorCode::truncate_error: return "Truncate error";
        case ServerErrorCode::write_timeout: return "Write timeout";
        case ServerErrorCode::read_timeout: return "Read timeout";
        case ServerErrorCode::read_failure: return "Read failure";
        case ServerErrorCode::function_failure: return "Function failure";
        case ServerErrorCode::write_failure: return "Write failure";
        case ServerErrorCode::cdc_write_failure: return "CDC write failure";
        case ServerErrorCode::cas_write_unknown: return "CAS write unknown";
        case ServerErrorCode::syntax_error: return "Syntax error";
        case ServerErrorCode::unauthorized: return "Unauthorized";
        case ServerErrorCode::invalid: return "Invalid";
        case ServerErrorCode::config_error: return "Config error";
        case ServerErrorCode::already_exists: return "Already exists";
        case ServerErrorCode::unprepared: return "Unprepared";
    }
    return "Unknown server error";
}

namespace {
std::string describe(ServerErrorCode code, const std::string& message) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%04X", static_cast<unsigned>(code));
    return std::string(to_string(code)) + " (" + hex + "): " + message;
}
}  // namespace

ServerError::ServerError(ServerErrorCode code, std::string message)
    : Error(describe(code, message)), code_(code), message_(std::move(message)) {}

}  // namespace async_cassandra

namespace async_cassandra::net {

namespace {
std::vector<FailureReason> reasons_of(const protocol::ErrorResponse& e) {
    std::vector<FailureReason> out;
    out.reserve(e.reason_map.size());
    for (const auto& [endpoint, code] : e.reason_map) out.push_back(FailureReason{endpoint, code});
    return out;
}
}  // namespace

std::exception_ptr make_server_error(const protocol::ErrorResponse& e) {
    try {
        throw_server_error(e);
    } catch (...) {
        return std::current_exception();
    }
}

namespace {
// Attaches what the server said with the ERROR (warnings, tracing id, payload), then throws.
template <class E>
[[noreturn]] void raise(E error, const protocol::ErrorResponse& e) {
    if (e.info && !e.info->empty()) error.set_response_info(*e.info);
    throw error;
}
}  // namespace

void throw_server_error(const protocol::ErrorResponse& e) {
    const std::string& m = e.message;
    switch (e.code) {
        case ServerErrorCode::server_error: raise(ServerInternalError(m), e);
        case ServerErrorCode::protocol_error: raise(ProtocolErrorFromServer(m), e);
        case ServerErrorCode::bad_credentials: raise(AuthenticationError(m), e);
        case ServerErrorCode::unavailable: raise(Unavailable(m, e.consistency, e.required, e.alive), e);
        case ServerErrorCode::overloaded: raise(Overloaded(m), e);
        case ServerErrorCode::is_bootstrapping: raise(IsBootstrapping(m), e);
        case ServerErrorCode::truncate_error: raise(TruncateError(m), e);
        case ServerErrorCode::write_timeout:
            raise(WriteTimeout(m, e.consistency, e.received, e.block_for, e.write_type, e.contentions), e);
        case ServerErrorCode::read_timeout:
            raise(ReadTimeout(m, e.consistency, e.received, e.block_for, e.data_present), e);
        case ServerErrorCode::read_failure:
            raise(ReadFailure(m, e.consistency, e.received, e.block_for, e.num_failures, reasons_of(e), e.data_present),
                  e);
        case ServerErrorCode::function_failure: raise(FunctionFailure(m, e.keyspace, e.function, e.arg_types), e);
        case ServerErrorCode::write_failure:
            raise(WriteFailure(m, e.consistency, e.received, e.block_for, e.num_failures, reasons_of(e), e.write_type),
                  e);
        case ServerErrorCode::cdc_write_failure: raise(CdcWriteFailure(m), e);
        case ServerErrorCode::cas_write_unknown: raise(CasWriteUnknown(m, e.consistency, e.received, e.block_for), e);
        case ServerErrorCode::syntax_error: raise(SyntaxError(m), e);
        case ServerErrorCode::unauthorized: raise(Unauthorized(m), e);
        case ServerErrorCode::invalid: raise(InvalidRequest(m), e);
        case ServerErrorCode::config_error: raise(ConfigError(m), e);
        case ServerErrorCode::already_exists: raise(AlreadyExists(m, e.keyspace, e.table), e);
        case ServerErrorCode::unprepared: raise(Unprepared(m, e.unprepared_id), e);
    }
    raise(ServerError(e.code, m), e);
}

}  // namespace async_cassandra::net

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

void throw_server_error(const protocol::ErrorResponse& e) {
    const std::string& m = e.message;
    switch (e.code) {
        case ServerErrorCode::server_error: throw ServerInternalError(m);
        case ServerErrorCode::protocol_error: throw ProtocolErrorFromServer(m);
        case ServerErrorCode::bad_credentials: throw AuthenticationError(m);
        case ServerErrorCode::unavailable: throw Unavailable(m, e.consistency, e.required, e.alive);
        case ServerErrorCode::overloaded: throw Overloaded(m);
        case ServerErrorCode::is_bootstrapping: throw IsBootstrapping(m);
        case ServerErrorCode::truncate_error: throw TruncateError(m);
        case ServerErrorCode::write_timeout:
            throw WriteTimeout(m, e.consistency, e.received, e.block_for, e.write_type, e.contentions);
        case ServerErrorCode::read_timeout:
            throw ReadTimeout(m, e.consistency, e.received, e.block_for, e.data_present);
        case ServerErrorCode::read_failure:
            throw ReadFailure(m, e.consistency, e.received, e.block_for, e.num_failures, reasons_of(e),
                              e.data_present);
        case ServerErrorCode::function_failure: throw FunctionFailure(m, e.keyspace, e.function, e.arg_types);
        case ServerErrorCode::write_failure:
            throw WriteFailure(m, e.consistency, e.received, e.block_for, e.num_failures, reasons_of(e),
                               e.write_type);
        case ServerErrorCode::cdc_write_failure: throw CdcWriteFailure(m);
        case ServerErrorCode::cas_write_unknown: throw CasWriteUnknown(m, e.consistency, e.received, e.block_for);
        case ServerErrorCode::syntax_error: throw SyntaxError(m);
        case ServerErrorCode::unauthorized: throw Unauthorized(m);
        case ServerErrorCode::invalid: throw InvalidRequest(m);
        case ServerErrorCode::config_error: throw ConfigError(m);
        case ServerErrorCode::already_exists: throw AlreadyExists(m, e.keyspace, e.table);
        case ServerErrorCode::unprepared: throw Unprepared(m, e.unprepared_id);
    }
    throw ServerError(e.code, m);
}

}  // namespace async_cassandra::net

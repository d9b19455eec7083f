#include "session/error_classifier.hpp"

#include <async_cassandra/server_errors.hpp>

#include <system_error>

namespace async_cassandra::detail {

RequestErrorKind classify(const std::exception_ptr& error) noexcept {
    try {
        std::rethrow_exception(error);
    } catch (const RequestCancelled&) {
        return RequestErrorKind::cancelled;
    } catch (const Timeout&) {
        return RequestErrorKind::client_timeout;
    } catch (const ConnectionClosed&) {
        return RequestErrorKind::connection_lost;
    } catch (const ProtocolError&) {
        return RequestErrorKind::connection_lost;  // a broken frame closes the connection
    } catch (const ServerError& e) {
        switch (e.code()) {
            case ServerErrorCode::read_timeout: return RequestErrorKind::read_timeout;
            case ServerErrorCode::write_timeout: return RequestErrorKind::write_timeout;
            case ServerErrorCode::unavailable: return RequestErrorKind::unavailable;
            case ServerErrorCode::overloaded: return RequestErrorKind::overloaded;
            case ServerErrorCode::is_bootstrapping: return RequestErrorKind::is_bootstrapping;
            case ServerErrorCode::server_error: return RequestErrorKind::server_error;
            case ServerErrorCode::read_failure:
            case ServerErrorCode::write_failure:
            case ServerErrorCode::function_failure:
            case ServerErrorCode::cdc_write_failure:
            case ServerErrorCode::cas_write_unknown:
            case ServerErrorCode::truncate_error: return RequestErrorKind::read_failure;
            default: return RequestErrorKind::request_error;
        }
    } catch (const std::system_error& e) {
        return e.code() == std::errc::operation_canceled ? RequestErrorKind::cancelled : RequestErrorKind::other;
    } catch (...) {
        return RequestErrorKind::other;
    }
}

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
    } catch (const NoHostAvailable&) {
        return "NoHostAvailable";
    } catch (const ServerError& e) {
        return error_type_of(e.code());
    } catch (const Error&) {
        return "Error";
    } catch (...) {
        return "Exception";
    }
}

}  // namespace async_cassandra::detail

#include "errors.hpp"

#include <async_cassandra/error.hpp>
#include <async_cassandra/server_errors.hpp>
#include <async_cassandra/stream.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace acass_cli {

namespace ac = async_cassandra;

namespace {

int classify(std::exception_ptr error, std::string& message) {
    try {
        std::rethrow_exception(error);
    } catch (const CliUsageError& e) {
        message = e.what();
        return exit_usage;
    } catch (const FileError& e) {
        message = e.what();
        return exit_file;
    } catch (const DataError& e) {
        message = e.what();
        return exit_data;
    } catch (const RequestFailure& e) {
        message = e.what();
        return exit_request;
    } catch (const ConnectFailure& e) {
        message = e.what();
        return exit_unreachable;
    } catch (const AuthRequired& e) {
        message = std::string(e.what()) + " (use --user and --password-file)";
        return exit_auth;
    } catch (const ac::AuthenticationError& e) {
        message = std::string("authentication failed: ") + e.what();
        return exit_auth;
    } catch (const ac::SyntaxError& e) {
        message = e.what();
        return exit_query;
    } catch (const ac::InvalidRequest& e) {
        message = e.what();
        return exit_query;
    } catch (const ac::Unauthorized& e) {
        message = e.what();
        return exit_query;
    } catch (const ac::ConfigError& e) {
        message = e.what();
        return exit_query;
    } catch (const ac::AlreadyExists& e) {
        message = e.what();
        return exit_query;
    } catch (const ac::NoHostAvailable& e) {
        message = e.what();
        return exit_unreachable;
    } catch (const ac::StreamError& e) {
        // Retries exhausted: report the last cause, which is what a person can act on.
        std::string cause;
        if (e.cause()) classify(e.cause(), cause);
        message = std::string(e.what()) + (cause.empty() ? "" : " (last error: " + cause + ")");
        return exit_request;
    } catch (const ac::ServerError& e) {
        message = e.what();
        return exit_request;
    } catch (const ac::Timeout& e) {
        message = e.what();
        return exit_request;
    } catch (const ac::ConnectionClosed& e) {
        message = e.what();
        return exit_request;
    } catch (const ac::UsageError& e) {
        // Library misuse caused by the user's input (unknown column, bad resume point...).
        message = e.what();
        return exit_usage;
    } catch (const std::exception& e) {
        message = e.what();
        return exit_internal;
    } catch (...) {
        message = "unknown error";
        return exit_internal;
    }
}

}  // namespace

int report_failure(const std::string& command, std::exception_ptr error) {
    std::string message;
    const int code = classify(error, message);
    std::fprintf(stderr, "acass %s: %s\n", command.c_str(), message.c_str());
    return code;
}

}  // namespace acass_cli

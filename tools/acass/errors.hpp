// Exit codes of acass and the mapping from exceptions to them. Every failure leaves through
// report_failure(), which prints one clear line on stderr and returns the documented code
// (tools/README.md, "Exit codes").
#pragma once

#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

namespace acass_cli {

enum ExitCode : int {
    exit_ok = 0,
    exit_internal = 1,      ///< unexpected error (a bug, or something not classified below)
    exit_usage = 2,         ///< bad flags or arguments (CLI11's parse errors included)
    exit_unreachable = 3,   ///< no host accepted a connection (refused, timed out, TLS failure)
    exit_auth = 4,          ///< authentication failed (bad or missing credentials)
    exit_query = 5,         ///< the server rejected the statement (syntax, invalid, unauthorized)
    exit_rejected = 6,      ///< load finished but some records were rejected
    exit_request = 7,       ///< a request failed after connecting (timeout, lost connection, overload)
    exit_file = 8,          ///< a local file could not be read or written
    exit_data = 9,          ///< a value cannot be written in the output format (Avro's or Parquet's limits)
    exit_interrupted = 130  ///< stopped by SIGINT/SIGTERM (or export --stop-after-pages)
};

/// Bad flags or arguments found after parsing (exit_usage).
class CliUsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A local file problem (exit_file). The message names the file and the reason.
class FileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A value the output format cannot hold, e.g. a decimal beyond Avro's decimal(38, 18)
/// (exit_data): the data, not the file, is the problem; the message names the column and value.
class DataError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Connecting failed for a reason that is not the server's answer (exit_unreachable).
class ConnectFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A request failed after connecting in a way retries did not overcome (exit_request).
class RequestFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The server wants credentials that were not given (exit_auth).
class AuthRequired : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Prints "acass <command>: <message>" on stderr and returns the exit code of `error`.
int report_failure(const std::string& command, std::exception_ptr error);

/// "cannot <action> <path>: <strerror(errno)>" as a FileError. (Inline: the Parquet writer's
/// fuzz target links it without the rest of the tool.)
[[noreturn]] inline void throw_file_error(const std::string& path, const std::string& action) {
    throw FileError("cannot " + action + " " + path + ": " + std::strerror(errno));
}

}  // namespace acass_cli

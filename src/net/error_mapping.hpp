// Maps a decoded ERROR response to the exception type of its code (server_errors.hpp).
#pragma once

#include "protocol/messages.hpp"

#include <async_cassandra/server_errors.hpp>

#include <exception>

namespace async_cassandra::net {

/// Builds the ServerError subclass for `error.code` with the extra fields copied; unknown codes
/// become a plain ServerError. Never throws except std::bad_alloc.
std::exception_ptr make_server_error(const protocol::ErrorResponse& error);

/// Same, thrown. [[noreturn]].
[[noreturn]] void throw_server_error(const protocol::ErrorResponse& error);

}  // namespace async_cassandra::net

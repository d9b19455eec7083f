// The message of a captured exception, for logs and reports of failures kept as exception_ptr
// (a stream's error, a failed attempt, a worker's failure). One helper for the whole library.
#pragma once

#include <exception>
#include <string>

namespace async_cassandra {

/// what() of a std::exception, "unknown error" for anything else, "no error" for a null pointer.
std::string exception_message(const std::exception_ptr& error);

}  // namespace async_cassandra

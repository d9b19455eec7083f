// The one error classifier: what kind of failure an exception is (for the retry policy, host
// state and the observer's error_type), in one place instead of a catch chain per operation.
#pragma once

#include <async_cassandra/error.hpp>
#include <async_cassandra/retry_policy.hpp>

#include <exception>
#include <string>

namespace async_cassandra::detail {

/// The kind of a failed attempt's exception.
RequestErrorKind classify(const std::exception_ptr& error) noexcept;
/// RequestEvent::error_type: the name of the class a failure is thrown as ("ReadTimeout"...).
const char* error_type_of(const std::exception_ptr& error) noexcept;
const char* error_type_of(ServerErrorCode code) noexcept;

}  // namespace async_cassandra::detail

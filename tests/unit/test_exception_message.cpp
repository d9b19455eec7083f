// exception_message: the one exception-to-text helper the client, the cluster code and acass use.
#include <async_cassandra/error.hpp>
#include <async_cassandra/exception_message.hpp>

#include <gtest/gtest.h>

#include <stdexcept>

namespace {

using async_cassandra::exception_message;

TEST(ExceptionMessage, StdExceptionGivesWhat) {
    EXPECT_EQ(exception_message(std::make_exception_ptr(std::runtime_error("connection refused"))), "connection refused");
}

TEST(ExceptionMessage, LibraryErrorKeepsItsPrefix) {
    const auto error = std::make_exception_ptr(
        async_cassandra::ProtocolError(async_cassandra::ProtocolErrc::truncated, "need 4 bytes"));
    EXPECT_EQ(exception_message(error), "truncated: need 4 bytes");
}

TEST(ExceptionMessage, NonStdExceptionIsUnknown) {
    EXPECT_EQ(exception_message(std::make_exception_ptr(42)), "unknown error");
}

TEST(ExceptionMessage, NullIsNoErrorInsteadOfUndefinedBehaviour) {
    EXPECT_EQ(exception_message(nullptr), "no error");
}

}  // namespace

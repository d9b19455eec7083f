// Runs one test coroutine to completion on a fresh io_context and rethrows what it threw.
// `body` receives the io_context's executor and returns an asio::awaitable<void>.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <gtest/gtest.h>

#include <exception>
#include <utility>

namespace acass_test {

template <class F>
void run(F&& body) {
    asio::io_context io;
    std::exception_ptr error;
    bool finished = false;
    asio::co_spawn(io, std::forward<F>(body)(io.get_executor()), [&](std::exception_ptr e) {
        error = e;
        finished = true;
    });
    io.run();
    ASSERT_TRUE(finished);
    if (error) std::rethrow_exception(error);
}

}  // namespace acass_test

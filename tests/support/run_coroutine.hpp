// Runs one test coroutine to completion on a fresh io_context and rethrows what it threw.
// `body` receives the io_context's executor and returns an asio::awaitable<void>.
// poll_until: waits inside a test coroutine for a condition that other coroutines make true.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <chrono>
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

/// Checks `done()` every 5 ms on `ex` until it is true or `limit` has passed (the caller then
/// checks what it expected, so a hang fails the test instead of blocking it).
template <class Done>
asio::awaitable<void> poll_until(asio::any_io_executor ex, Done done, std::chrono::milliseconds limit) {
    asio::steady_timer t(ex);
    const auto polls = limit / std::chrono::milliseconds(5);
    for (long long i = 0; i < polls && !done(); ++i) {
        t.expires_after(std::chrono::milliseconds(5));
        co_await t.async_wait(asio::use_awaitable);
    }
}

}  // namespace acass_test

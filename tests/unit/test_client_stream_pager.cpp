// The streaming layer (execute_stream / ResultStream) against a scripted fake page fetcher: no
// server. The fake serves a table of `total` rows (one bigint column v = row number), paging state
// = the next row number; it can delay, fail, serve empty non-final pages, and counts requests in
// flight and requests abandoned through their cancellation slot.
#include <async_cassandra/stream.hpp>

#include "protocol/messages.hpp"
#include "protocol/rows_page.hpp"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

using namespace async_cassandra;
using namespace std::chrono_literals;
using protocol::Bytes;

namespace {

Bytes encode_offset(std::int64_t v) {
    Bytes b(8);
    for (int i = 0; i < 8; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (56 - 8 * i));
    return b;
}
std::int64_t decode_offset(const std::optional<PagingState>& b) {
    if (!b) return 0;
    std::uint64_t v = 0;
    for (std::uint8_t x : b->bytes()) v = (v << 8) | x;
    return static_cast<std::int64_t>(v);
}

Page make_page(std::int64_t first, std::int64_t count, std::optional<Bytes> paging) {
    auto body = std::make_shared<Bytes>();
    for (std::int64_t v = first; v < first + count; ++v) {
        for (std::uint8_t x : {0, 0, 0, 8}) body->push_back(x);
        for (int i = 7; i >= 0; --i) body->push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * i)));
    }
    protocol::RowsResult r;
    r.metadata.column_count = 1;
    r.metadata.columns = {protocol::ColumnSpec{"ks", "t", "v", DataType::simple(TypeKind::bigint)}};
    r.metadata.paging_state = std::move(paging);
    r.row_count = static_cast<std::int32_t>(count);
    r.rows_content = protocol::BytesView(*body);
    return protocol::page_from_rows(body, std::move(r));
}

struct FakeTable {
    std::int64_t total = 23;
    std::chrono::milliseconds delay{0};
    std::map<int, std::chrono::milliseconds> delay_on_call;  ///< overrides `delay`
    std::set<int> empty_on_call;                            ///< calls answering an empty, non-final page
    std::map<int, std::vector<std::exception_ptr>> errors;  ///< from call N on, one error per call
    std::mutex mutex;                                       ///< guards `errors` (multi-threaded tests)

    std::atomic<int> calls{0};
    std::atomic<int> in_flight{0};
    std::atomic<int> max_in_flight{0};
    std::atomic<int> abandoned{0};
    std::atomic<int> answered{0};

    PageFetcher fetcher() {
        return [this](std::optional<PagingState> ps, std::optional<std::int32_t> size) { return fetch(std::move(ps), size); };
    }

    std::exception_ptr pop_error(int call) {
        std::lock_guard lock(mutex);
        for (auto& [from, list] : errors) {
            if (call >= from && !list.empty()) {
                auto e = list.front();
                list.erase(list.begin());
                return e;
            }
        }
        return nullptr;
    }

    asio::awaitable<Page> fetch(std::optional<PagingState> ps, std::optional<std::int32_t> size) {
        const int call = ++calls;
        const int now = ++in_flight;
        int prev = max_in_flight.load();
        while (now > prev && !max_in_flight.compare_exchange_weak(prev, now)) {
        }
        struct Guard {
            FakeTable* t;
            ~Guard() { --t->in_flight; }
        } guard{this};
        auto d = delay;
        if (auto it = delay_on_call.find(call); it != delay_on_call.end()) d = it->second;
        if (d.count() > 0) {
            asio::steady_timer timer(co_await asio::this_coro::executor, d);
            auto [ec] = co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
            if (ec) {
                ++abandoned;
                throw RequestCancelled("fake request cancelled");
            }
        }
        if (auto e = pop_error(call)) std::rethrow_exception(e);
        const std::int64_t off = decode_offset(ps);
        ++answered;
        if (empty_on_call.count(call)) co_return make_page(off, 0, encode_offset(off));
        const std::int64_t n = std::min<std::int64_t>(size.value_or(5000), total - off);
        const std::int64_t next = off + n;
        std::optional<Bytes> more;
        if (next < total) more = encode_offset(next);
        co_return make_page(off, n, std::move(more));
    }
};

std::int64_t value_of(const Row& r) { return r.get<std::int64_t>(0); }

/// Runs `f` on a fresh single-threaded io_context until all work is done; rethrows its failure.
template <class F>
void run(F f) {
    asio::io_context ctx;
    std::exception_ptr error;
    asio::co_spawn(ctx, f(), [&](std::exception_ptr e) { error = e; });
    ctx.run();
    if (error) std::rethrow_exception(error);
}

StreamConfig config_of(std::int32_t fetch, std::size_t prefetch = 1) {
    StreamConfig c;
    c.fetch_size = fetch;
    c.prefetch_pages = prefetch;
    return c;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

}  // namespace

TEST(StreamPager, IteratesRowsInOrderWithCountersAndCallback) {
    FakeTable table;
    std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> calls;
    std::vector<std::int64_t> seen;
    run([&]() -> asio::awaitable<void> {
        StreamConfig c = config_of(5);
        c.page_callback = [&](std::int64_t p, std::int64_t n, std::int64_t t) { calls.emplace_back(p, n, t); };
        auto stream = co_await execute_stream(table.fetcher(), c);
        while (auto row = co_await stream.next()) seen.push_back(value_of(*row));
        EXPECT_EQ(stream.page_number(), 5);
        EXPECT_EQ(stream.total_rows_fetched(), 23);
        EXPECT_FALSE(stream.paging_state().has_value());
        EXPECT_FALSE((co_await stream.next()).has_value());  // stays at the end
    });
    ASSERT_EQ(seen.size(), 23u);
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<std::int64_t>(i));
    using T = std::tuple<std::int64_t, std::int64_t, std::int64_t>;
    EXPECT_EQ(calls, (std::vector<T>{T{1, 5, 5}, T{2, 5, 10}, T{3, 5, 15}, T{4, 5, 20}, T{5, 3, 23}}));
    EXPECT_EQ(table.calls.load(), 5);
    EXPECT_EQ(table.in_flight.load(), 0);
}

TEST(StreamPager, TryNextHandsOutThePageInHandAndNextTakesTheFollowingOne) {
    FakeTable table;
    std::vector<std::int64_t> seen;
    int awaited = 0;  // next() calls: one per page boundary, plus one at the end
    ResumePoint after_seven;
    run([&]() -> asio::awaitable<void> {
        auto stream = co_await execute_stream(table.fetcher(), config_of(5));
        EXPECT_FALSE(stream.try_next().has_value());  // no page taken yet: next() takes the first
        for (;;) {
            std::optional<Row> row = stream.try_next();
            if (!row) {
                ++awaited;
                row = co_await stream.next();
            }
            if (!row) break;
            seen.push_back(value_of(*row));
            if (seen.size() == 7) after_seven = stream.resume_point();
        }
        EXPECT_FALSE(stream.try_next().has_value());  // stays at the end
        EXPECT_EQ(stream.total_rows_fetched(), 23);
        // Rows handed out by try_next() count as consumed: resuming continues after the 7th.
        std::vector<std::int64_t> rest;
        const StreamConfig resume = config_of(5).resume_from(after_seven);
        auto resumed = co_await execute_stream(table.fetcher(), resume);
        while (auto row = co_await resumed.next()) rest.push_back(value_of(*row));
        EXPECT_EQ(rest.size(), 16u);
        EXPECT_EQ(rest.empty() ? -1 : rest.front(), 7);
        // After close(), try_next() hands out nothing more from the page in hand.
        auto closed = co_await execute_stream(table.fetcher(), config_of(5));
        EXPECT_TRUE((co_await closed.next()).has_value());
        EXPECT_TRUE(closed.try_next().has_value());
        co_await closed.close();
        EXPECT_FALSE(closed.try_next().has_value());
        EXPECT_FALSE((co_await closed.next()).has_value());
    });
    ASSERT_EQ(seen.size(), 23u);
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<std::int64_t>(i));
    EXPECT_EQ(awaited, 6);  // 5 pages (5+5+5+5+3 rows) and the end
    EXPECT_EQ(table.in_flight.load(), 0);
}

TEST(StreamPager, IteratesPages) {
    FakeTable table;
    std::vector<std::size_t> sizes;
    std::int64_t expected = 0;
    run([&]() -> asio::awaitable<void> {
        auto stream = co_await execute_stream(table.fetcher(), config_of(5, 2));
        while (auto page = co_await stream.next_page()) {
            sizes.push_back(page->size());
            for (Row r : *page) EXPECT_EQ(value_of(r), expected++);
            EXPECT_EQ(stream.page_number(), static_cast<std::int64_t>(sizes.size()));
        }
    });
    EXPECT_EQ(sizes, (std::vector<std::size_t>{5, 5, 5, 5, 3}));
    EXPECT_EQ(expected, 23);
}

TEST(StreamPager, MaxPagesStopsEarly) {
    FakeTable table;
    table.total = 100;
    int rows = 0;
    run([&]() -> asio::awaitable<void> {
        StreamConfig c = config_of(5, 3);
        c.max_pages = 2;
        auto stream = co_await execute_stream(table.fetcher(), c);
        while (auto row = co_await stream.next()) ++rows;
        EXPECT_EQ(stream.page_number(), 2);
        EXPECT_EQ(decode_offset(stream.paging_state()), 10);  // resumable
    });
    EXPECT_EQ(rows, 10);
    EXPECT_EQ(table.calls.load(), 2);
}

TEST(StreamPager, ThrowingCallbackDoesNotBreakTheStream) {
    FakeTable table;
    int callback_calls = 0;
    int rows = 0;
    run([&]() -> asio::awaitable<void> {
        StreamConfig c = config_of(5);
        c.page_callback = [&](std::int64_t p, std::int64_t, std::int64_t) {
            ++callback_calls;
            if (p % 2 == 0) throw std::runtime_error("callback failed");
        };
        auto stream = co_await execute_stream(table.fetcher(), c);
        while (auto row = co_await stream.next()) ++rows;
        EXPECT_EQ(stream.callback_errors(), 2);
        EXPECT_TRUE(stream.last_callback_error() != nullptr);
    });
    EXPECT_EQ(rows, 23);
    EXPECT_EQ(callback_calls, 5);
}

TEST(StreamPager, EarlyBreakAbandonsTheRequestInFlight) {
    FakeTable table;
    table.total = 1000;
    table.delay = 20ms;
    int rows = 0;
    run([&]() -> asio::awaitable<void> {
        {
            // prefetch 2: when page 4 (rows 15..19) arrives, page 5 is requested at once.
            auto stream = co_await execute_stream(table.fetcher(), config_of(5, 2));
            while (auto row = co_await stream.next()) {
                if (value_of(*row) == 15) break;
                ++rows;
            }
        }  // destroyed: the in-flight request is cancelled
    });
    EXPECT_EQ(rows, 15);
    EXPECT_EQ(table.in_flight.load(), 0);
    EXPECT_GE(table.abandoned.load(), 1);
    EXPECT_LE(table.calls.load(), 5);
}

TEST(StreamPager, ExceptionInLoopBodyCleansUp) {
    FakeTable table;
    table.total = 1000;
    table.delay = 10ms;
    EXPECT_THROW(run([&]() -> asio::awaitable<void> {
                     auto stream = co_await execute_stream(table.fetcher(), config_of(5, 2));
                     while (auto row = co_await stream.next()) {
                         if (value_of(*row) == 7) throw std::logic_error("body failed");
                     }
                 }),
                 std::logic_error);
    EXPECT_EQ(table.in_flight.load(), 0);
    EXPECT_GE(table.abandoned.load(), 1);
}

TEST(StreamPager, CancellingTheConsumerAbandonsTheFetch) {
    FakeTable table;
    table.delay_on_call[2] = 2000ms;
    asio::io_context ctx;
    asio::cancellation_signal signal;
    std::exception_ptr consumer_error;
    bool got_cancelled = false;
    const auto start = std::chrono::steady_clock::now();
    asio::co_spawn(
        ctx,
        [&]() -> asio::awaitable<void> {
            auto stream = co_await execute_stream(table.fetcher(), config_of(5, 0));
            for (int i = 0; i < 5; ++i) EXPECT_TRUE((co_await stream.next()).has_value());
            try {
                co_await stream.next();  // page 2: 2 s away
            } catch (const RequestCancelled&) {
                got_cancelled = true;
                throw;
            }
        },
        asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e) { consumer_error = e; }));
    asio::steady_timer timer(ctx, 50ms);
    timer.async_wait([&](asio::error_code) { signal.emit(asio::cancellation_type::terminal); });
    ctx.run();
    EXPECT_TRUE(got_cancelled);
    EXPECT_TRUE(consumer_error != nullptr);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
    EXPECT_EQ(table.in_flight.load(), 0);
    EXPECT_EQ(table.abandoned.load(), 1);
}

TEST(StreamPager, ConsumerCancellationLeavesTheStreamUsable) {
    FakeTable table;
    table.delay_on_call[2] = 150ms;
    std::vector<std::int64_t> seen;
    run([&]() -> asio::awaitable<void> {
        auto stream = co_await execute_stream(table.fetcher(), config_of(5, 0));
        while (seen.size() < 5) seen.push_back(value_of(*co_await stream.next()));
        asio::cancellation_signal signal;
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer timer(ex, 20ms);
        timer.async_wait([&](asio::error_code) { signal.emit(asio::cancellation_type::terminal); });
        bool cancelled = false;
        try {
            co_await asio::co_spawn(
                ex, [&]() -> asio::awaitable<void> { co_await stream.next(); },
                asio::bind_cancellation_slot(signal.slot(), asio::use_awaitable));
        } catch (const RequestCancelled&) {
            cancelled = true;
        }
        EXPECT_TRUE(cancelled);
        while (auto row = co_await stream.next()) seen.push_back(value_of(*row));
    });
    ASSERT_EQ(seen.size(), 23u);
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<std::int64_t>(i));
}

TEST(StreamPager, CloseDuringPendingFetch) {
    FakeTable table;
    table.total = 100;
    table.delay_on_call[2] = 2000ms;
    run([&]() -> asio::awaitable<void> {
        auto stream = co_await execute_stream(table.fetcher(), config_of(5, 1));
        auto page = co_await stream.next_page();
        EXPECT_TRUE(page.has_value());
        co_await sleep_for(10ms);
        EXPECT_EQ(table.in_flight.load(), 1);
        const auto start = std::chrono::steady_clock::now();
        co_await stream.close();
        EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
        EXPECT_EQ(table.in_flight.load(), 0);  // the fetcher has stopped
        EXPECT_EQ(table.abandoned.load(), 1);
        co_await stream.close();  // idempotent
        EXPECT_FALSE((co_await stream.next()).has_value());
        EXPECT_FALSE((co_await stream.next_page()).has_value());
        EXPECT_EQ(page->size(), 5u);  // a page handed out stays valid
        EXPECT_EQ(value_of((*page)[4]), 4);
    });
}

TEST(StreamPager, CloseConcurrentWithNext) {
    FakeTable table;
    table.total = 100;
    table.delay_on_call[2] = 2000ms;
    bool waiter_done = false;
    run([&]() -> asio::awaitable<void> {
        auto stream = co_await execute_stream(table.fetcher(), config_of(5, 0));
        EXPECT_TRUE((co_await stream.next_page()).has_value());
        auto ex = co_await asio::this_coro::executor;
        asio::co_spawn(
            ex,
            [&]() -> asio::awaitable<void> {
                auto p = co_await stream.next_page();  // waits for page 2
                EXPECT_FALSE(p.has_value());
                waiter_done = true;
            },
            asio::detached);
        co_await sleep_for(20ms);
        EXPECT_FALSE(waiter_done);
        co_await stream.close();
        co_await sleep_for(1ms);
        EXPECT_TRUE(waiter_done);
    });
    EXPECT_TRUE(waiter_done);
    EXPECT_EQ(table.in_flight.load(), 0);
}

TEST(StreamPager, EmptyNonFinalPagesDoNotEndTheStream) {
    FakeTable table;
    table.empty_on_call = {1, 3, 4};
    std::vector<std::int64_t> seen;
    int pages = 0;
    run([&]() -> asio::awaitable<void> {
        auto stream = co_await execute_stream(table.fetcher(), config_of(5));
        while (auto row = co_await stream.next()) seen.push_back(value_of(*row));
        EXPECT_EQ(stream.page_number(), 8);  // 5 pages of rows + 3 empty ones
    });
    ASSERT_EQ(seen.size(), 23u);
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<std::int64_t>(i));
    FakeTable table2;
    table2.empty_on_call = {2};
    run([&]() -> asio::awaitable<void> {
        auto stream = co_await execute_stream(table2.fetcher(), config_of(5));
        while (auto page = co_await stream.next_page()) {
            EXPECT_FALSE(page->empty());
            ++pages;
        }
    });
    EXPECT_EQ(pages, 5);
}

TEST(StreamPager, ResumeFromSavedPagingState) {
    FakeTable table;
    std::vector<std::int64_t> seen;
    std::optional<PagingState> saved;
    run([&]() -> asio::awaitable<void> {
        StreamConfig c = config_of(5, 2);
        {
            auto stream = co_await execute_stream(table.fetcher(), c);
            for (int i = 0; i < 2; ++i) {
                auto page = co_await stream.next_page();
                for (Row r : *page) seen.push_back(value_of(r));
            }
            saved = stream.paging_state();
        }
        auto resumed = co_await execute_stream(table.fetcher(), c.resume_from(saved));
        while (auto row = co_await resumed.next()) seen.push_back(value_of(*row));
        EXPECT_EQ(resumed.page_number(), 3);
    });
    EXPECT_EQ(decode_offset(saved), 10);
    ASSERT_EQ(seen.size(), 23u);
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<std::int64_t>(i));
    EXPECT_EQ(table.in_flight.load(), 0);
}

TEST(StreamPager, TransientErrorsAreRetriedWithTheSamePagingState) {
    FakeTable table;
    table.errors[3] = {std::make_exception_ptr(Timeout("t")), std::make_exception_ptr(Overloaded("busy"))};
    std::vector<std::int64_t> seen;
    run([&]() -> asio::awaitable<void> {
        StreamConfig c = config_of(5);
        c.retry_policy = std::make_shared<ExponentialBackoffRetry>(3, 1ms, 5ms);
        auto stream = co_await execute_stream(table.fetcher(), c);
        while (auto row = co_await stream.next()) seen.push_back(value_of(*row));
    });
    ASSERT_EQ(seen.size(), 23u);
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<std::int64_t>(i));
    EXPECT_EQ(table.calls.load(), 7);
}

TEST(StreamPager, ExhaustedRetriesGiveStreamErrorWithPagingState) {
    FakeTable table;
    for (int i = 0; i < 10; ++i) table.errors[3].push_back(std::make_exception_ptr(ConnectionClosed("gone")));
    std::vector<std::int64_t> seen;
    run([&]() -> asio::awaitable<void> {
        StreamConfig c = config_of(5);
        c.retry_policy = std::make_shared<ExponentialBackoffRetry>(2, 1ms, 2ms);
        auto stream = co_await execute_stream(table.fetcher(), c);
        std::optional<PagingState> resume;
        try {
            while (auto row = co_await stream.next()) seen.push_back(value_of(*row));
            ADD_FAILURE() << "no StreamError";
        } catch (const StreamError& e) {
            EXPECT_EQ(e.attempts(), 3);
            EXPECT_EQ(decode_offset(e.paging_state()), 10);
            EXPECT_EQ(e.paging_state(), stream.paging_state());
            EXPECT_THROW(std::rethrow_exception(e.cause()), ConnectionClosed);
            resume = e.paging_state();
        }
        EXPECT_THROW(co_await stream.next(), StreamError);  // sticky
        {
            std::lock_guard lock(table.mutex);
            table.errors.clear();
        }
        auto resumed = co_await execute_stream(table.fetcher(), c.resume_from(resume));
        while (auto row = co_await resumed.next()) seen.push_back(value_of(*row));
    });
    ASSERT_EQ(seen.size(), 23u);
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<std::int64_t>(i));
}

TEST(StreamPager, NonRetryableErrorsFailAtOnce) {
    FakeTable table;
    table.errors[1] = {std::make_exception_ptr(SyntaxError("bad"))};
    EXPECT_THROW(run([&]() -> asio::awaitable<void> { co_await execute_stream(table.fetcher(), config_of(5)); }),
                 SyntaxError);
    EXPECT_EQ(table.calls.load(), 1);

    FakeTable table2;
    table2.errors[2] = {std::make_exception_ptr(InvalidRequest("no")), std::make_exception_ptr(InvalidRequest("no"))};
    int rows = 0;
    EXPECT_THROW(run([&]() -> asio::awaitable<void> {
                     auto stream = co_await execute_stream(table2.fetcher(), config_of(5, 0));
                     while (auto row = co_await stream.next()) ++rows;
                 }),
                 InvalidRequest);
    EXPECT_EQ(rows, 5);
    EXPECT_EQ(table2.calls.load(), 2);
}

TEST(StreamPager, PageTimeoutAbandonsTheRequest) {
    FakeTable table;
    table.delay_on_call[2] = 3000ms;
    int rows = 0;
    const auto start = std::chrono::steady_clock::now();
    run([&]() -> asio::awaitable<void> {
        StreamConfig c = config_of(5, 1);
        c.page_timeout = 50ms;
        auto stream = co_await execute_stream(table.fetcher(), c);
        try {
            while (auto row = co_await stream.next()) ++rows;
            ADD_FAILURE() << "no StreamTimeout";
        } catch (const StreamTimeout& e) {
            EXPECT_EQ(decode_offset(e.paging_state()), 5);
            EXPECT_EQ(e.paging_state(), stream.paging_state());
        }
    });
    EXPECT_EQ(rows, 5);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms);
    EXPECT_EQ(table.in_flight.load(), 0);
    EXPECT_EQ(table.abandoned.load(), 1);
}

class StreamPrefetch : public ::testing::TestWithParam<std::size_t> {};

TEST_P(StreamPrefetch, ReadAheadIsBounded) {
    const std::size_t k = GetParam();
    FakeTable table;
    table.total = 40;  // 20 pages of 2
    table.delay = 1ms;
    run([&]() -> asio::awaitable<void> {
        auto stream = co_await execute_stream(table.fetcher(), config_of(2, k));
        std::int64_t consumed = 0;
        while (auto page = co_await stream.next_page()) {
            ++consumed;
            co_await sleep_for(30ms);  // slow consumer: the fetcher runs as far ahead as allowed
            const auto expected_calls = std::min<std::int64_t>(20, consumed + static_cast<std::int64_t>(k));
            EXPECT_EQ(table.calls.load(), expected_calls) << "after page " << consumed;
            EXPECT_LE(stream.buffered_pages(), std::max<std::size_t>(k, 1));
        }
        EXPECT_EQ(consumed, 20);
    });
    EXPECT_EQ(table.max_in_flight.load(), 1);
    EXPECT_EQ(table.in_flight.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Pages, StreamPrefetch, ::testing::Values(0u, 1u, 3u));

TEST(StreamPager, ManyStreamsAbandonedAtRandomPoints) {
    FakeTable table;
    table.total = 60;
    table.delay = 1ms;
    auto alive = std::make_shared<int>(0);
    std::atomic<int> finished{0};
    {
        asio::io_context ctx;
        std::mt19937 rng(12345);
        for (int i = 0; i < 10000; ++i) {
            const int stop_at = static_cast<int>(rng() % 70);  // >= 60: read to the end
            const std::size_t prefetch = rng() % 3;
            const bool use_close = rng() % 2 == 0;
            PageFetcher f = [&table, alive](std::optional<PagingState> ps, std::optional<std::int32_t> n) {
                return table.fetch(std::move(ps), n);
            };
            asio::co_spawn(
                ctx,
                [&, f, stop_at, prefetch, use_close]() -> asio::awaitable<void> {
                    auto stream = co_await execute_stream(f, config_of(7, prefetch));
                    int n = 0;
                    while (auto row = co_await stream.next()) {
                        if (n++ == stop_at) break;
                    }
                    if (use_close) co_await stream.close();
                    ++finished;
                },
                [](std::exception_ptr e) {
                    if (e) std::rethrow_exception(e);
                });
        }
        ctx.run();
    }
    EXPECT_EQ(finished.load(), 10000);
    EXPECT_EQ(table.in_flight.load(), 0);
    EXPECT_EQ(alive.use_count(), 1);  // every stream state (and its fetcher) was released
}

TEST(StreamPager, MultiThreadedExecutor) {
    FakeTable table;
    table.total = 200;
    table.delay = 1ms;
    std::atomic<std::int64_t> sum{0};
    std::atomic<int> done{0};
    {
        asio::io_context ctx(4);
        for (int i = 0; i < 50; ++i) {
            asio::co_spawn(
                ctx,
                [&, i]() -> asio::awaitable<void> {
                    auto stream = co_await execute_stream(table.fetcher(), config_of(9, static_cast<std::size_t>(i % 3)));
                    std::int64_t s = 0;
                    while (auto row = co_await stream.next()) {
                        s += value_of(*row);
                        if (i % 5 == 0 && value_of(*row) == 50) break;
                    }
                    if (i % 5 != 0) sum += s;
                    ++done;
                },
                [](std::exception_ptr e) {
                    if (e) std::rethrow_exception(e);
                });
        }
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) threads.emplace_back([&] { ctx.run(); });
        for (auto& t : threads) t.join();
    }
    EXPECT_EQ(done.load(), 50);
    EXPECT_EQ(sum.load(), 40 * (199 * 200 / 2));
    EXPECT_EQ(table.in_flight.load(), 0);
}

// Parallel partition processing with bounded concurrency: one stream per partition
// (SELECT ... WHERE pk = ? by a prepared statement), all started at once, with a semaphore of 3
// letting at most three of them run at any moment — enough to overlap the round trips, few
// enough not to flood the cluster or the memory (each running stream holds up to two pages).
//
// Asio has no semaphore; a channel pre-filled with N tokens is one: acquiring receives a token
// (waiting while none is left), releasing sends it back. A Permit returns its token in its
// destructor, so an exception or an early co_return cannot leak it.
//
//   parallel_partitions --host H --port P [--rows-expected N] [--partitions 10] [--concurrency 3]
//                       [--fetch-size 20]
//
// Checks: each partition arrives whole (ck = 0, 1, ... with the generator's values), and the
// highest number of streams observed running at once is exactly min(concurrency, partitions):
// never above the limit, and not below it either (which would mean nothing ran in parallel).
#include "example_support.hpp"

#include <asio/experimental/channel.hpp>
#include <asio/use_awaitable.hpp>

namespace ac = async_cassandra;
using example::Args;

namespace {

class Semaphore {
public:
    /// Releases its token when destroyed (move-only).
    class Permit {
    public:
        explicit Permit(Semaphore* owner) : owner_(owner) {}
        Permit(Permit&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
        Permit& operator=(Permit&&) = delete;
        ~Permit() {
            if (owner_) owner_->release();
        }

    private:
        Semaphore* owner_;
    };

    Semaphore(asio::any_io_executor executor, std::size_t permits) : tokens_(std::move(executor), permits) {
        for (std::size_t i = 0; i < permits; ++i) tokens_.try_send(asio::error_code{}, kToken);
    }
    /// Waits for a free token.
    asio::awaitable<Permit> acquire() {
        co_await tokens_.async_receive(asio::use_awaitable);
        co_return Permit(this);
    }

private:
    void release() {
        tokens_.try_send(asio::error_code{}, kToken);
    }  // never full: we only return what we took

    // A token carries a dummy int: Asio 1.22's channel does not compile with a bare
    // void(error_code) signature.
    static constexpr int kToken = 1;
    asio::experimental::channel<void(asio::error_code, int)> tokens_;
};

/// How many partition streams are running now, and the most ever seen. One io_context thread
/// runs every task, so plain integers are enough.
struct ConcurrencyGauge {
    int running = 0;
    int max_running = 0;
};
/// Counts one running stream for as long as it lives.
class Running {
public:
    explicit Running(ConcurrencyGauge& gauge) : gauge_(gauge) {
        gauge_.max_running = std::max(gauge_.max_running, ++gauge_.running);
    }
    ~Running() { --gauge_.running; }
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;

private:
    ConcurrencyGauge& gauge_;
};

struct PartitionResult {
    std::int64_t pk = 0;
    std::int64_t rows = 0;
    std::int64_t pages = 0;
    bool rows_ok = true;
    int running_at_start = 0;
    double started = 0, finished = 0;  // seconds since the start of the run
    std::string error;                 // set when the task threw
};

asio::awaitable<PartitionResult> process_partition(ac::Session session, ac::PreparedStatement select,
                                                   std::int64_t pk, std::int32_t fetch_size, Semaphore& limit,
                                                   ConcurrencyGauge& gauge, example::Clock::time_point t0) {
    Semaphore::Permit permit = co_await limit.acquire();  // waits while `concurrency` others run
    Running running(gauge);

    PartitionResult result;
    result.pk = pk;
    result.running_at_start = gauge.running;
    result.started = example::seconds_since(t0);
    ac::StreamConfig config;
    config.fetch_size = fetch_size;
    ac::BoundStatement bound = select.bind(pk);
    {
        ac::ResultStream stream = co_await session.execute_stream(bound, config);
        std::int32_t next_ck = 0;
        while (auto row = co_await stream.next()) {
            const auto ck = row->get<std::int32_t>("ck");
            if (row->get<std::int64_t>("pk") != pk || ck != next_ck++ ||
                row->get<double>("value") != example::synthetic_value(pk, ck))
                result.rows_ok = false;
            ++result.rows;
        }
        result.pages = stream.page_number();
    }  // stream closed, then `running` and `permit` released, in that order
    result.finished = example::seconds_since(t0);
    co_return result;
}

asio::awaitable<int> process_partitions(ac::Session session, Args args) {
    const auto expected = args.optional_int_flag("rows-expected");
    const std::int64_t partitions = args.int_flag("partitions", 10);
    const int concurrency = static_cast<int>(std::max<std::int64_t>(1, args.int_flag("concurrency", 3)));
    const auto fetch_size = static_cast<std::int32_t>(args.int_flag("fetch-size", 20));
    args.reject_unknown();

    auto executor = co_await asio::this_coro::executor;
    const ac::PreparedStatement select =
        co_await session.prepare("SELECT pk, ck, value FROM synthetic.rows WHERE pk = ?");

    Semaphore limit(executor, static_cast<std::size_t>(concurrency));
    ConcurrencyGauge gauge;
    // Finished tasks post their result here; it has room for all of them, so sending never waits.
    asio::experimental::channel<void(asio::error_code, PartitionResult)> done(
        executor, static_cast<std::size_t>(partitions));
    const auto t0 = example::Clock::now();
    for (std::int64_t pk = 0; pk < partitions; ++pk) {
        asio::co_spawn(executor, process_partition(session, select, pk, fetch_size, limit, gauge, t0),
                       [&done, pk](std::exception_ptr error, PartitionResult result) {
                           if (error) {
                               result.pk = pk;
                               try {
                                   std::rethrow_exception(error);
                               } catch (const std::exception& e) {
                                   result.error = e.what();
                               }
                           }
                           done.try_send(asio::error_code{}, std::move(result));
                       });
    }

    // Wait for every task (they reference `limit`, `gauge` and `done`, which live in this frame).
    std::vector<PartitionResult> results;
    for (std::int64_t i = 0; i < partitions; ++i)
        results.push_back(co_await done.async_receive(asio::use_awaitable));
    const double seconds = example::seconds_since(t0);

    std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.pk < b.pk; });
    int failures = 0;
    std::int64_t rows = 0;
    for (const auto& r : results) {
        std::printf(
            "partition %2lld: %4lld rows, %2lld pages, running from %.4f s to %.4f s (%d streams running "
            "when it started)%s%s\n",
            static_cast<long long>(r.pk), static_cast<long long>(r.rows), static_cast<long long>(r.pages),
            r.started, r.finished, r.running_at_start, r.error.empty() ? "" : "  ERROR: ", r.error.c_str());
        rows += r.rows;
        const std::int64_t want = expected ? example::synthetic_rows_in(*expected, r.pk) : r.rows;
        if (!r.error.empty() || !r.rows_ok || r.rows != want) ++failures;
    }
    std::printf("%lld partitions, %lld rows in %.3f s; limit %d, max streams running at once: %d\n",
                static_cast<long long>(partitions), static_cast<long long>(rows), seconds, concurrency,
                gauge.max_running);

    if (failures != 0)
        co_return example::fail(std::to_string(failures) + " partitions failed or were incomplete");
    if (expected) {
        // The partitions above say nothing about the table's size when they are all full ones:
        // check the last partition --rows-expected implies and the first one past it too, so that
        // a wrong --rows-expected cannot pass.
        const std::int64_t last_pk = (*expected + 99) / 100 - 1;
        for (const std::int64_t pk : {last_pk, last_pk + 1}) {
            if (pk < 0) continue;
            std::int64_t rows_in_pk = 0;
            // Built before co_await: GCC 12 miscompiles brace temporaries inside co_await.
            ac::BoundStatement bound = select.bind(pk);
            ac::StreamConfig config;
            auto stream = co_await session.execute_stream(std::move(bound), config);
            while (co_await stream.next()) ++rows_in_pk;
            if (rows_in_pk != example::synthetic_rows_in(*expected, pk))
                co_return example::fail("partition " + std::to_string(pk) + " holds " + std::to_string(rows_in_pk) +
                                        " rows; --rows-expected " + std::to_string(*expected) + " implies " +
                                        std::to_string(example::synthetic_rows_in(*expected, pk)));
        }
    }
    if (gauge.max_running > concurrency) co_return example::fail("the semaphore let too many streams run");
    if (gauge.max_running < std::min<std::int64_t>(concurrency, partitions))
        co_return example::fail("streams never reached the concurrency limit: nothing ran in parallel");
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return example::run(argc, argv, process_partitions);
}

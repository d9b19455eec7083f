// GCC 12 destroys an aggregate-initialised temporary inside a co_await expression twice (a double
// free: see the GCC 12 note in include/async_cassandra/session.hpp). The API's types that calls
// take by value have constructors, so braced temporaries of them are safe there. This test calls
// the API exactly that way against the embedded node. Under ASan (build-asan, scripts/test.sh's
// sanitizer run) it fails with "attempting double-free" when one of the types with heap-owning
// members used below (Decimal, PagingState, Statement) becomes an aggregate again; the
// static_asserts cover the configuration types, whose braced temporaries here own no heap memory
// (a double destruction of them would go unnoticed at run time).
#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>

#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

using namespace async_cassandra;
namespace srv = async_cassandra::server::net;

static_assert(!std::is_aggregate_v<StreamConfig>);
static_assert(!std::is_aggregate_v<ScanConfig>);
static_assert(!std::is_aggregate_v<StatementOptions>);
static_assert(!std::is_aggregate_v<ResumePoint>);
static_assert(!std::is_aggregate_v<Decimal>);
static_assert(!std::is_aggregate_v<PagingState>);
static_assert(!std::is_aggregate_v<Statement>);

TEST(ClientCoAwaitTemporaries, BracedArgumentsInsideCoAwaitAreDestroyedOnce) {
    srv::ClusterOptions options;
    options.port = 0;
    srv::Cluster server(options);
    server.start();
    acass_test::run([&](asio::any_io_executor executor) -> asio::awaitable<void> {
        ClusterConfig config;
        config.contact_points = {"127.0.0.1"};
        config.port = server.port();
        Cluster cluster(executor, config);
        Session session = co_await cluster.connect();
        co_await session.execute(Statement{
            "CREATE KEYSPACE tmp WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"});
        co_await session.execute(Statement{"CREATE TABLE tmp.t (k int, c int, d decimal, PRIMARY KEY (k, c))"});
        // A Decimal owns its digits (heap): the case that double-frees when it is an aggregate.
        const std::string digits = "123456789012345678901234567890";
        for (int c = 0; c < 10; ++c)
            co_await session.execute("INSERT INTO tmp.t (k, c, d) VALUES (?, ?, ?)", 1, c,
                                     Decimal{2, Varint::parse(digits + std::to_string(c))});

        const Page first = co_await session.execute_page(Statement{"SELECT c, d FROM tmp.t WHERE k = 1"},
                                                         std::nullopt, 4);
        EXPECT_EQ(first.size(), 4u);
        EXPECT_TRUE(first.has_more_pages());
        if (!first.has_more_pages()) co_return;
        // The paging state as a braced temporary (its bytes live on the heap).
        const Page second = co_await session.execute_page(Statement{"SELECT c, d FROM tmp.t WHERE k = 1"},
                                                          PagingState{first.paging_state()->bytes()}, 4);
        EXPECT_EQ(second.size(), 4u);
        if (!second.empty()) {
            EXPECT_EQ(second[0].get<int>(0), 4);
            EXPECT_EQ(second[0].get<Decimal>(1), (Decimal{2, Varint::parse(digits + "4")}));
        }

        // Configuration temporaries (not aggregates, so GCC 12 builds them like any class).
        ResultStream stream =
            co_await session.execute_stream(Statement{"SELECT c FROM tmp.t WHERE k = 1"}, StreamConfig{});
        int rows = 0;
        while (auto row = co_await stream.next()) ++rows;
        EXPECT_EQ(rows, 10);
        ResultStream rest = co_await execute_stream(session, Statement{"SELECT c FROM tmp.t WHERE k = 1"},
                                                    StreamConfig{}.resume_from(PagingState{first.paging_state()->bytes()}));
        int rest_rows = 0;
        while (auto row = co_await rest.next()) ++rest_rows;
        EXPECT_EQ(rest_rows, 6);
        co_await session.execute(Statement{"SELECT c FROM tmp.t WHERE k = 1"}.set_options(StatementOptions{}));
        co_await session.shutdown();
    });
}

// acass-server --replay-pages (server/net/replay_pages.hpp): a full scan of synthetic.rows is served
// from its first page over and over, with advancing paging states, until the table's row count has
// been delivered; other statements are answered by the engine as usual.
#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>
#include <async_cassandra/stream.hpp>

#include "support/embedded_server.hpp"
#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>

using namespace async_cassandra;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;

namespace {

// 120 full pages of 1,000 and a last one of 50: the cut of the last page is exercised too.
constexpr std::int64_t kRows = 120'050;
constexpr std::int32_t kFetch = 1000;

std::unique_ptr<srv::Cluster> start_replay_server() {
    srv::ClusterOptions options;
    options.port = 0;
    options.synthetic_rows = kRows;
    options.replay_pages = true;
    auto server = std::make_unique<srv::Cluster>(options);
    server->start();
    return server;
}

/// Checks one synthetic row against the table's formulas and returns its (pk, ck).
std::pair<std::int64_t, std::int32_t> check_row(const Row& row) {
    const auto pk = row.get<std::int64_t>("pk");
    const auto ck = row.get<std::int32_t>("ck");
    EXPECT_EQ(row.get<std::string_view>("name"), "name-" + std::to_string(pk) + "-" + std::to_string(ck));
    EXPECT_DOUBLE_EQ(row.get<double>("value"), static_cast<double>(pk) * 0.5 + ck);
    EXPECT_EQ(row.get<Timestamp>("ts").milliseconds, 1700000000000 + pk * 1000 + ck);
    return {pk, ck};
}

StreamConfig stream_config(std::int32_t fetch) {
    StreamConfig c;
    c.fetch_size = fetch;
    c.prefetch_pages = 1;
    c.page_timeout = 10s;
    return c;
}

}  // namespace

/// (protocol version, prepared)
class ReplayPagesStream : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(ReplayPagesStream, ServesTheTableRowCountWithValidRows) {
    auto [version, prepared] = GetParam();
    auto server = start_replay_server();
    acass_test::run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, acass_test::config_for(*server, version));
        Session session = co_await cluster.connect();
        std::optional<ResultStream> opened;
        if (prepared) {
            PreparedStatement ps = co_await session.prepare("SELECT pk, ck, name, value, ts FROM synthetic.rows");
            BoundStatement bound = ps.bind();
            opened.emplace(co_await execute_stream(session, bound, stream_config(kFetch)));
        } else {
            Statement st("SELECT * FROM synthetic.rows");
            opened.emplace(co_await execute_stream(session, st, stream_config(kFetch)));
        }
        auto& stream = *opened;
        std::set<std::pair<std::int64_t, std::int32_t>> keys;
        std::int64_t rows = 0;
        while (auto row = co_await stream.next()) {
            keys.insert(check_row(*row));
            ++rows;
        }
        EXPECT_EQ(rows, kRows);
        EXPECT_EQ(stream.total_rows_fetched(), kRows);
        EXPECT_EQ(stream.page_number(), 121);
        EXPECT_FALSE(stream.paging_state().has_value());
        // Replayed: every page repeats the first page's rows.
        EXPECT_EQ(static_cast<std::int64_t>(keys.size()), kFetch);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

INSTANTIATE_TEST_SUITE_P(VersionsAndPrepared, ReplayPagesStream,
                         ::testing::Values(std::make_tuple(4, false), std::make_tuple(5, false),
                                           std::make_tuple(5, true)));

TEST(ReplayPages, OtherStatementsAreAnsweredByTheEngine) {
    auto server = start_replay_server();
    acass_test::run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, acass_test::config_for(*server));
        Session session = co_await cluster.connect();
        // A partition read over several pages: every row once, nothing repeated.
        {
            std::set<std::pair<std::int64_t, std::int32_t>> keys;
            Statement st("SELECT * FROM synthetic.rows WHERE pk = 7");
            auto stream = co_await execute_stream(session, st, stream_config(30));
            while (auto row = co_await stream.next()) keys.insert(check_row(*row));
            EXPECT_EQ(keys.size(), 100u);
            EXPECT_EQ(keys.begin()->first, 7);
        }
        // LIMIT is not replayed either: exactly the rows asked for, all distinct.
        {
            std::set<std::pair<std::int64_t, std::int32_t>> keys;
            Statement st("SELECT * FROM synthetic.rows LIMIT 2500");
            auto stream = co_await execute_stream(session, st, stream_config(kFetch));
            std::int64_t rows = 0;
            while (auto row = co_await stream.next()) {
                keys.insert(check_row(*row));
                ++rows;
            }
            EXPECT_EQ(rows, 2500);
            EXPECT_EQ(keys.size(), 2500u);
        }
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
}

TEST(ReplayPages, NeedsTheSyntheticTable) {
    srv::ClusterOptions options;
    options.port = 0;
    options.replay_pages = true;
    EXPECT_THROW(srv::Cluster{options}, UsageError);
}

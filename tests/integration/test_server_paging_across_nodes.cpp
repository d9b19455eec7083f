// Paging across the nodes of `acass-server --nodes N`: a paging state is data, not a cursor, so
// each page of one query may come from a different coordinator and the result is the same rows,
// in the same order, each exactly once (as with Cassandra, where any node can continue a page).

#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include "support/run_coroutine.hpp"
#include "protocol/bytes.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace async_cassandra;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;

namespace {

constexpr int kNodes = 3;

using acass_test::run;

using Keys = std::vector<std::pair<std::int64_t, std::int32_t>>;

// Reads every page of `query`, page i from node (i % kNodes) + 1 when `rotate`, else from node 1.
asio::awaitable<Keys> read_all(const srv::Cluster& server, std::string query, std::int32_t page_size, bool rotate,
                               int version, std::size_t* pages) {
    auto executor = co_await asio::this_coro::executor;
    std::vector<std::unique_ptr<Cluster>> clusters;
    std::vector<Session> sessions;
    for (int n = 1; n <= kNodes; ++n) {
        ClusterConfig config;
        config.contact_points = {server.address(n)};
        config.port = server.port();
        config.connection.protocol_version = version;
        config.request_timeout = 10s;
        clusters.push_back(std::make_unique<Cluster>(executor, config));
        sessions.push_back(co_await clusters.back()->connect());
    }
    Keys keys;
    std::optional<PagingState> state;
    std::size_t page_index = 0;
    do {
        Session& session = sessions[rotate ? page_index % kNodes : 0];
        Statement statement(query);
        Page page = co_await session.execute_page(statement, state, page_size);
        for (const Row& row : page) {
            const auto pk = row.get<std::int64_t>("pk");
            const auto ck = row.get<std::int32_t>("ck");
            EXPECT_EQ(row.get<std::string_view>("name"), "name-" + std::to_string(pk) + "-" + std::to_string(ck));
            keys.emplace_back(pk, ck);
        }
        state = page.paging_state();
        ++page_index;
    } while (state);
    *pages = page_index;
    for (auto& s : sessions) co_await s.shutdown();
    for (auto& c : clusters) co_await c->shutdown();
    co_return keys;
}

}  // namespace

TEST(ServerPagingAcrossNodes, EveryPageFromAnotherNodeGivesTheSameRowsOnce) {
    srv::ClusterOptions options;
    options.port = 0;
    options.nodes = kNodes;
    options.synthetic_rows = 1234;
    srv::Cluster server(options);
    server.start();
    for (int version : {4, 5}) {
        SCOPED_TRACE(version);
        Keys rotating, single;
        std::size_t rotating_pages = 0, single_pages = 0;
        run([&](auto) -> asio::awaitable<void> {
            rotating = co_await read_all(server, "SELECT pk, ck, name FROM synthetic.rows", 100, true, version,
                                         &rotating_pages);
            single = co_await read_all(server, "SELECT pk, ck, name FROM synthetic.rows", 100, false, version,
                                       &single_pages);
        });
        ASSERT_EQ(rotating.size(), 1234u);
        EXPECT_EQ(rotating, single);  // same order: token order of partitions, then clustering order
        std::vector<std::pair<std::int64_t, std::int32_t>> sorted = rotating;
        std::sort(sorted.begin(), sorted.end());
        EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "a row came twice";
        EXPECT_GE(rotating_pages, 13u);  // 1234 rows / 100 per page, so every node served pages
    }
    // Every node really coordinated some of the pages.
    for (int n = 1; n <= kNodes; ++n) EXPECT_GT(server.stats(n).queries, 0u) << "node " << n;
    server.stop();
}

TEST(ServerPagingAcrossNodes, LimitHoldsAcrossPagesAndNodes) {
    srv::ClusterOptions options;
    options.port = 0;
    options.nodes = kNodes;
    options.synthetic_rows = 1000;
    srv::Cluster server(options);
    server.start();
    Keys keys;
    std::size_t pages = 0;
    run([&](auto) -> asio::awaitable<void> {
        keys = co_await read_all(server, "SELECT pk, ck, name FROM synthetic.rows LIMIT 250", 60, true, 5, &pages);
    });
    EXPECT_EQ(keys.size(), 250u);
    EXPECT_EQ(pages, 5u);  // 60 + 60 + 60 + 60 + 10
    server.stop();
}

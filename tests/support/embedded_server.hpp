// The embedded node (acass-server's library) in-process on a free port, and a client
// configuration pointing at it: the start-up shared by the client integration tests.
#pragma once

#include "server/net/cluster.hpp"

#include <async_cassandra/config.hpp>
#include <async_cassandra/session.hpp>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

/// ASSERT_TRUE for coroutines (gtest's ASSERT_* `return`, which a coroutine cannot).
#define CO_ASSERT_TRUE(c)                             \
    do {                                              \
        if (!(c)) {                                   \
            ADD_FAILURE() << "assertion failed: " #c; \
            co_return;                                \
        }                                             \
    } while (0)

namespace acass_test {

struct ServerSetup {
    std::vector<int> protocol_versions = {4, 5};
    std::int64_t synthetic_rows = 0;  ///< rows of synthetic.rows (0 = no synthetic table)
    std::optional<std::pair<std::string, std::string>> credentials;  ///< PasswordAuthenticator user, password
    int nodes = 1;  ///< nodes on 127.0.0.1..N (one port)
};

/// Starts a one-node server on 127.0.0.1 and a free port; it stops when the pointer dies.
inline std::unique_ptr<async_cassandra::server::net::Cluster> start_server(ServerSetup setup = {}) {
    async_cassandra::server::net::ClusterOptions options;
    options.port = 0;
    options.protocol_versions = std::move(setup.protocol_versions);
    options.synthetic_rows = setup.synthetic_rows;
    options.credentials = std::move(setup.credentials);
    options.nodes = setup.nodes;
    auto server = std::make_unique<async_cassandra::server::net::Cluster>(options);
    server->start();
    return server;
}

/// A client configuration for `server`: one contact point, the given protocol version
/// (nullopt = negotiate) and compression, a 10 s request timeout.
inline async_cassandra::ClusterConfig config_for(
    const async_cassandra::server::net::Cluster& server, std::optional<int> version = std::nullopt,
    async_cassandra::CompressionAlgorithm compression = async_cassandra::CompressionAlgorithm::none) {
    async_cassandra::ClusterConfig c;
    c.contact_points = {"127.0.0.1"};
    c.port = server.port();
    c.connection.protocol_version = version;
    c.connection.compression = compression;
    c.request_timeout = std::chrono::seconds(10);
    return c;
}

/// config_for(server) with every node of `server` as a contact point and a quick reconnection
/// back-off (tests of failover).
inline async_cassandra::ClusterConfig config_for_all_nodes(const async_cassandra::server::net::Cluster& server) {
    async_cassandra::ClusterConfig c = config_for(server);
    c.contact_points.clear();
    for (int node = 1; node <= server.node_count(); ++node) c.contact_points.push_back(server.address(node));
    c.reconnection.base = std::chrono::milliseconds(20);
    c.reconnection.max = std::chrono::milliseconds(200);
    return c;
}

/// Waits (up to `limit`) until `session` has no request in flight and returns the count left.
/// Abandoned requests keep their stream ids until the server's late reply, so "back to zero"
/// is only true a little after a stream or scan has been given up.
inline asio::awaitable<std::size_t> wait_until_idle(async_cassandra::Session session,
                                                    std::chrono::milliseconds limit = std::chrono::seconds(2)) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (session.in_flight_requests() != 0 && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(5));
        co_await timer.async_wait(asio::use_awaitable);
    }
    co_return session.in_flight_requests();
}

}  // namespace acass_test

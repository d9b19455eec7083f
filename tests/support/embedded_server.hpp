// The embedded node (acass-server's library) in-process on a free port, and a client
// configuration pointing at it: the start-up shared by the client integration tests.
#pragma once

#include "server/net/cluster.hpp"

#include <async_cassandra/config.hpp>

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
};

/// Starts a one-node server on 127.0.0.1 and a free port; it stops when the pointer dies.
inline std::unique_ptr<async_cassandra::server::net::Cluster> start_server(ServerSetup setup = {}) {
    async_cassandra::server::net::ClusterOptions options;
    options.port = 0;
    options.protocol_versions = std::move(setup.protocol_versions);
    options.synthetic_rows = setup.synthetic_rows;
    options.credentials = std::move(setup.credentials);
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

}  // namespace acass_test

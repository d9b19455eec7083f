// Helpers of the cluster-level tests (failover, reliability matrix): several in-process nodes,
// fault rules, waiting for host state, counting requests on the nodes.
#pragma once

#include "server/net/cluster.hpp"
#include "support/embedded_server.hpp"
#include "support/synthetic_rows.hpp"

#include <async_cassandra/cluster.hpp>
#include <async_cassandra/error.hpp>
#include <async_cassandra/row.hpp>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

namespace acass_test {

/// `nodes` in-process nodes (127.0.0.1..N, one free port), with `synthetic_rows` rows of synthetic.rows.
inline std::unique_ptr<async_cassandra::server::net::Cluster> start_nodes(int nodes, std::int64_t synthetic_rows = 0) {
    ServerSetup setup;
    setup.nodes = nodes;
    setup.synthetic_rows = synthetic_rows;
    return start_server(std::move(setup));
}

/// QUERY/PREPARE/EXECUTE/BATCH requests received by every node since the last reset_stats().
inline std::uint64_t total_queries(const async_cassandra::server::net::Cluster& server) {
    std::uint64_t n = 0;
    for (int node = 1; node <= server.node_count(); ++node) n += server.stats(node).queries;
    return n;
}

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::use_awaitable);
}

/// A fault rule answering requests whose text contains `pattern` with `code` (on `node`, 0 = all).
inline async_cassandra::server::net::FaultRule error_rule(async_cassandra::ServerErrorCode code, std::string pattern,
                                                          int node = 0) {
    async_cassandra::server::net::FaultRule rule;
    rule.kind = async_cassandra::server::net::FaultKind::error;
    rule.error_code = code;
    rule.pattern = std::move(pattern);
    rule.node = node;
    return rule;
}

/// Makes `rule` the only fault rule of `server`, resets its counts and runs `request()` (a
/// coroutine); returns the error it ended with (nullptr when it succeeded). The retry-rule tests
/// read the node's counts afterwards.
template <class Request>
asio::awaitable<std::exception_ptr> error_under(async_cassandra::server::net::Cluster& server,
                                                async_cassandra::server::net::FaultRule rule, Request request) {
    server.faults().clear();
    server.faults().add(std::move(rule));
    server.reset_stats();
    std::exception_ptr error;
    try {
        co_await request();
    } catch (...) {
        error = std::current_exception();
    }
    co_return error;
}

/// Waits (up to 5 s) until the cluster reports `endpoint` in state `up`.
inline asio::awaitable<bool> wait_for_host(const async_cassandra::Cluster& cluster, const std::string& endpoint,
                                           bool up) {
    for (int i = 0; i < 500; ++i) {
        for (const auto& h : cluster.hosts())
            if (h->endpoint() == endpoint && h->is_up() == up) co_return true;
        co_await sleep_for(std::chrono::milliseconds(10));
    }
    co_return false;
}

/// Checks one synthetic row (gtest failure when a value is wrong) and returns its index pk * 100 + ck.
inline std::size_t synthetic_index(const async_cassandra::Row& row) {
    const auto index = synthetic_row_index(row);
    EXPECT_TRUE(index) << "wrong values in synthetic row pk=" << row.get<std::int64_t>("pk")
                       << " ck=" << row.get<std::int32_t>("ck");
    return index.value_or(static_cast<std::size_t>(-1));
}

}  // namespace acass_test

// `acass count`: counts the rows of a table by streaming its partition key columns (bounded
// memory, progress on a TTY): as one stream, or with --splits N as N token-range streams of which
// --concurrency C run at once (async_cassandra::scan_table); or with --server-side by one
// SELECT COUNT(*).
#pragma once

#include "connection.hpp"

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace acass_cli {

struct CountOptions {
    std::string table;
    std::int32_t fetch_size = 5000;
    std::size_t prefetch = 1;
    std::size_t splits = 0;       ///< 0 = one stream over the whole table
    std::size_t concurrency = 4;  ///< with splits: ranges streamed at once
    bool server_side = false;
    bool quiet = false;
};

void add_count_flags(CLI::App& app, CountOptions& options);

asio::awaitable<int> run_count(CommandContext& context, const CountOptions& options);

/// `SELECT COUNT(*) FROM ...` for a SELECT statement (its select list replaced; the rest kept).
/// Throws CliUsageError when the text has no FROM.
std::string count_statement_for(const std::string& select);

/// Runs a COUNT(*) statement and returns its single value.
asio::awaitable<std::int64_t> server_side_count(async_cassandra::Session session,
                                                std::string count_statement);

/// The nodes' tokens (Murmur3); empty when unknown (then split_token_ring_aligned cuts the ring
/// evenly). For `--splits` ranges that each go to a replica of the whole range. Taken from the
/// control connection's metadata (system.local and system.peers read on one connection); only
/// when that has no tokens, from those two tables through the session.
asio::awaitable<std::vector<std::int64_t>> ring_tokens(const CommandContext& context);

}  // namespace acass_cli

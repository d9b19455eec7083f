#include "count.hpp"

#include "server_warnings.hpp"
#include "errors.hpp"
#include "output_file.hpp"
#include "progress.hpp"
#include "reads.hpp"

#include <async_cassandra/scan.hpp>
#include <async_cassandra/text_codec.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace acass_cli {

namespace ac = async_cassandra;

void add_count_flags(CLI::App& app, CountOptions& o) {
    app.add_option("--table", o.table, "KEYSPACE.TABLE (or TABLE with --keyspace)")->required();
    app.add_option("--fetch-size", o.fetch_size, "Rows per page of the streamed scan")
        ->default_val(5000)
        ->check(CLI::Range(1, 1 << 30));
    app.add_option("--prefetch", o.prefetch, "Pages fetched ahead")->default_val(1)->check(CLI::Range(0, 64));
    auto* splits = app.add_option("--splits", o.splits,
                                  "Scan N token ranges of the ring as separate streams (default: one stream)")
                       ->check(CLI::Range(std::size_t{1}, ac::max_token_splits));
    app.add_option("--concurrency", o.concurrency, "Token ranges streamed at once (with --splits)")
        ->default_val(4)
        ->check(CLI::Range(1, 1024))
        ->needs(splits);
    app.add_flag("--server-side", o.server_side, "One SELECT COUNT(*) instead of a streamed scan")->excludes(splits);
    app.add_flag("-q,--quiet", o.quiet, "Print the number only");
}

std::string count_statement_for(const std::string& select) {
    // The first FROM keyword outside quotes and parentheses ends the select list.
    int depth = 0;
    char quote = 0;
    for (std::size_t i = 0; i + 4 <= select.size(); ++i) {
        const char c = select[i];
        if (quote) {
            if (c == quote) quote = 0;
            continue;
        }
        if (c == '\'' || c == '"')
            quote = c;
        else if (c == '(')
            ++depth;
        else if (c == ')')
            --depth;
        else if (depth == 0 && (i == 0 || std::isspace(static_cast<unsigned char>(select[i - 1])))) {
            std::string word = select.substr(i, 4);
            std::transform(word.begin(), word.end(), word.begin(),
                           [](unsigned char ch) { return std::tolower(ch); });
            if (word == "from" &&
                (i + 4 == select.size() || std::isspace(static_cast<unsigned char>(select[i + 4]))))
                return "SELECT COUNT(*) " + select.substr(i);
        }
    }
    throw CliUsageError("cannot derive a COUNT(*) statement (no FROM) from: " + select);
}

asio::awaitable<std::int64_t> server_side_count(ac::Session session, std::string count_statement) {
    ac::Statement statement = statement_for(std::move(count_statement));
    statement.options().no_timeout = true;  // a count scans everything; the server has its own limits
    ac::ResultSet result = co_await session.execute(std::move(statement));
    for (const ac::Row row : result) co_return row.get<std::int64_t>(0);
    throw CliUsageError("COUNT(*) returned no row");
}

namespace {

// Fallback without a control connection: system.local gives the answering node's tokens,
// system.peers every other node's. The two queries may be answered by different nodes (load
// balancing), and then the union misses the second node's tokens; so each is asked a few times:
// peers lists from two different nodes already cover every node.
asio::awaitable<std::vector<std::int64_t>> tokens_from_system_tables(ac::Session session) {
    std::vector<std::int64_t> tokens;
    for (int round = 0; round < 4; ++round) {
        for (const char* query : {"SELECT tokens FROM system.local", "SELECT tokens FROM system.peers"}) {
            try {
                ac::Statement statement = statement_for(query);  // a read: retried like the others
                ac::ResultSet result = co_await session.execute(std::move(statement));
                for (const ac::Row row : result) {
                    const auto texts = row.get<std::optional<std::vector<std::string>>>(0);
                    for (const std::string& t : texts.value_or(std::vector<std::string>{})) tokens.push_back(std::stoll(t));
                }
            } catch (const std::exception&) {  // no such table/column, or not Murmur3 tokens
                co_return std::vector<std::int64_t>{};
            }
        }
    }
    co_return tokens;
}

}  // namespace

asio::awaitable<std::vector<std::int64_t>> ring_tokens(const CommandContext& context) {
    std::vector<std::int64_t> tokens = context.cluster.metadata().ring_tokens();  // from the control connection
    if (!tokens.empty()) co_return tokens;
    tokens = co_await tokens_from_system_tables(context.session);
    std::sort(tokens.begin(), tokens.end());
    tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
    co_return tokens;
}

namespace {

// The partition key column names of the table (in key order, as stored); empty if unknown.
asio::awaitable<std::vector<std::string>> partition_key_columns(ac::Session session, const TableName& table) {
    std::vector<std::string> keys;
    try {
        keys = co_await ac::read_partition_key(std::move(session), table.cql());
    } catch (const ac::ServerError&) {
        keys.clear();  // no system_schema: the caller falls back to the first column
    }
    co_return keys;
}

struct Interrupted {};

// --splits: scan_table's count mode, a SELECT count(*) per token range (the nodes count; one row
// per range on the wire), `concurrency` ranges at once.
asio::awaitable<int> parallel_count(CommandContext& context, const CountOptions& o, const TableName& table,
                                    std::vector<std::string> keys, Progress& progress) {
    ac::ScanConfig config;
    config.table = table.cql();
    config.count = true;
    config.partition_key = std::move(keys);
    // Aligned to the nodes' tokens (when known): every range is counted by a replica of all of it.
    const std::vector<std::int64_t> tokens = co_await ring_tokens(context);
    config.ranges = ac::split_token_ring_aligned(o.splits, tokens);
    config.concurrency = o.concurrency;
    config.stream.fetch_size = o.fetch_size;
    config.stream.prefetch_pages = o.prefetch;
    std::int64_t rows = 0, pages = 0;
    bool stopped = false;
    ac::ScanStats stats;
    try {
        stats = co_await ac::scan_table(context.session, config, [&](std::size_t, const ac::Page& page) {
            for (const ac::Row row : page) rows += row.get<std::int64_t>(0);  // the range's count
            ++pages;
            progress.update(rows, -1, pages);
            if (context.interruption.requested) throw Interrupted{};
        });
    } catch (const Interrupted&) {
        stopped = true;  // scan_table has stopped every stream before rethrowing
    }
    progress.finish();
    if (stopped) {
        std::fprintf(stderr, "acass count: interrupted after counting %lld rows (incomplete)\n",
                     static_cast<long long>(rows));
        co_return exit_interrupted;
    }
    print_stdout(std::to_string(stats.rows) + "\n");
    if (!o.quiet) {
        const double seconds = progress.seconds();
        std::fprintf(stderr,
                     "acass count: %lld rows of %s in %lld pages, %zu token ranges (%zu at once), %.2f s "
                     "(%.0f rows/s), peak RSS %.1f MB\n",
                     static_cast<long long>(stats.rows), table.cql().c_str(), static_cast<long long>(stats.pages),
                     stats.splits_done, o.concurrency, seconds,
                     seconds > 0 ? static_cast<double>(stats.rows) / seconds : 0, peak_rss_mb());
    }
    co_return exit_ok;
}

}  // namespace

asio::awaitable<int> run_count(CommandContext& context, const CountOptions& o) {
    const TableName table = parse_table_name(o.table, context.connection.keyspace);
    Progress progress(!o.quiet && Progress::stderr_is_tty(), std::nullopt);
    if (o.server_side) {
        const std::int64_t n =
            co_await server_side_count(context.session, "SELECT COUNT(*) FROM " + table.cql());
        print_stdout(std::to_string(n) + "\n");
        co_return exit_ok;
    }
    // Preparing SELECT * checks that the table exists (InvalidRequest otherwise) and gives a
    // fallback column: every CQL row has a non-null partition key, so selecting it yields one
    // row per CQL row, with the least data on the wire.
    ac::PreparedStatement all = co_await context.session.prepare("SELECT * FROM " + table.cql());
    std::vector<std::string> keys = co_await partition_key_columns(context.session, table);
    if (keys.empty()) {
        // token() needs the real partition key; the first column is only a guess.
        if (o.splits) throw CliUsageError("--splits needs the partition key of " + table.cql() +
                                          " from system_schema.columns, which has none");
        const auto columns = all.result_columns();
        if (!columns || columns->empty()) throw CliUsageError("cannot find the columns of " + table.cql());
        keys.push_back((*columns)[0].name);
    }
    if (o.splits) co_return co_await parallel_count(context, o, table, std::move(keys), progress);
    std::string select = "SELECT ";
    for (std::size_t i = 0; i < keys.size(); ++i) select += (i ? ", " : "") + ac::quote_cql_identifier(keys[i]);
    select += " FROM " + table.cql();

    ac::StreamConfig config;
    config.fetch_size = o.fetch_size;
    config.prefetch_pages = o.prefetch;
    ac::Statement statement = statement_for(select);
    ac::ResultStream stream = co_await ac::execute_stream(context.session, statement, config);
    ServerWarnings warnings;  // to stderr, once per distinct text
    std::int64_t rows = 0, pages = 0;
    bool stopped = false;
    for (;;) {
        if (context.interruption.requested) {
            stopped = true;
            break;
        }
        std::optional<ac::Page> page = co_await stream.next_page();
        if (!page) break;
        warnings.report(*page);
        rows += static_cast<std::int64_t>(page->size());
        ++pages;
        progress.update(rows, -1, pages);
    }
    co_await stream.close();
    progress.finish();
    if (stopped) {
        std::fprintf(stderr, "acass count: interrupted after %lld rows (incomplete)\n",
                     static_cast<long long>(rows));
        co_return exit_interrupted;
    }
    print_stdout(std::to_string(rows) + "\n");
    if (!o.quiet) {
        const double seconds = progress.seconds();
        std::fprintf(stderr,
                     "acass count: %lld rows of %s in %lld pages, %.2f s (%.0f rows/s), peak RSS %.1f MB\n",
                     static_cast<long long>(rows), table.cql().c_str(), static_cast<long long>(pages),
                     seconds, seconds > 0 ? static_cast<double>(rows) / seconds : 0, peak_rss_mb());
    }
    co_return exit_ok;
}

}  // namespace acass_cli

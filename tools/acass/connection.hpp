// The connection flags every acass subcommand shares, their mapping onto ClusterConfig, and the
// runner that executes a subcommand's coroutine on one io_context with SIGINT/SIGTERM handling.
#pragma once

#include <async_cassandra/async_cassandra.hpp>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace acass_cli {

struct ConnectionOptions {
    std::vector<std::string> hosts;
    std::string dc;  ///< local data center ("" = the first contact point's)
    std::uint16_t port = 9042;
    std::string keyspace;
    std::string user;
    std::string password_file;
    bool tls = false;
    std::string tls_ca;
    std::string tls_cert;
    std::string tls_key;
    int protocol_version = 0;  ///< 0 = negotiate
    std::string consistency;
    double timeout_seconds = 12;
};

/// Adds --host, --port, --keyspace, --user, --password-file, --tls, --tls-ca, --tls-cert,
/// --tls-key, --protocol-version, --consistency and --timeout to `app`, stored in `options`.
void add_connection_flags(CLI::App& app, ConnectionOptions& options);

/// The ClusterConfig the flags describe. Throws CliUsageError for inconsistent flags and
/// FileError for an unreadable password file.
async_cassandra::ClusterConfig make_cluster_config(const ConnectionOptions& options);

/// Set by the runner when SIGINT or SIGTERM arrives; subcommands poll it between pages or
/// records and stop cleanly (exit_interrupted). A second signal ends the process at once.
struct Interruption {
    bool requested = false;
};

/// What a subcommand body gets: a connected session (keyspace applied), its cluster (for the
/// control connection's metadata) and the interruption flag.
struct CommandContext {
    async_cassandra::Session session;
    const async_cassandra::Cluster& cluster;
    const Interruption& interruption;
    const ConnectionOptions& connection;
};

using CommandBody = std::function<asio::awaitable<int>(CommandContext&)>;

/// Connects with `options`, runs `body`, shuts the session down (also after an error) and
/// returns the body's exit code, or report_failure()'s code for an exception.
int run_command(const std::string& command, const ConnectionOptions& options, CommandBody body);

/// A --table argument: "ks.table", or "table" with --keyspace, each part in CQL spelling (unquoted
/// parts are case-insensitive, "Quoted" ones kept as is). Throws CliUsageError when no keyspace
/// is known.
struct TableName {
    std::string keyspace;  ///< the name as stored (unquoted and lower-cased like CQL does)
    std::string table;
    std::string cql() const;  ///< keyspace.table for statements, quoted where needed
};
TableName parse_table_name(const std::string& text, const std::string& default_keyspace);

/// Peak resident set of this process in MB (VmHWM of /proc/self/status), 0 if unknown.
double peak_rss_mb();

}  // namespace acass_cli

#include "connection.hpp"

#include "errors.hpp"

#include <async_cassandra/text_codec.hpp>

#include <asio/co_spawn.hpp>
#include <asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <tuple>

namespace acass_cli {

namespace ac = async_cassandra;

void add_connection_flags(CLI::App& app, ConnectionOptions& o) {
    const char* group = "Connection";
    app.add_option("--host", o.hosts, "Contact point (repeatable; default 127.0.0.1)")->group(group);
    app.add_option("--port", o.port, "CQL port of every host")->default_val(9042)->group(group);
    app.add_option("--dc", o.dc, "Local data center: requests go to its nodes only (default: the first contact point's)")
        ->group(group);
    app.add_option("-k,--keyspace", o.keyspace, "Keyspace to USE (and for unqualified table names)")
        ->group(group);
    auto* user = app.add_option("-u,--user", o.user, "User name (PasswordAuthenticator)")->group(group);
    auto* password = app.add_option("--password-file", o.password_file,
                                    "File whose first line is the password (needs --user)")
                         ->group(group);
    user->needs(password);
    password->needs(user);
    app.add_flag("--tls", o.tls, "Use TLS (the system's CA certificates unless --tls-ca)")->group(group);
    app.add_option("--tls-ca", o.tls_ca, "PEM file of CA certificates to trust (implies --tls)")
        ->group(group);
    auto* cert = app.add_option("--tls-cert", o.tls_cert,
                                "Client certificate (PEM chain) for servers that require one (implies --tls)")
                     ->group(group);
    auto* key = app.add_option("--tls-key", o.tls_key, "Private key (PEM) of --tls-cert")->group(group);
    cert->needs(key);
    key->needs(cert);
    app.add_option("--protocol-version", o.protocol_version, "Protocol version 4 or 5 (default: negotiate)")
        ->check(CLI::IsMember({4, 5}))
        ->group(group);
    app.add_option("--consistency", o.consistency, "Consistency level, e.g. ONE, QUORUM, LOCAL_QUORUM")
        ->group(group);
    app.add_option("--timeout", o.timeout_seconds, "Connect and per-request timeout in seconds")
        ->default_val(12)
        ->check(CLI::PositiveNumber)
        ->group(group);
}

namespace {

std::string read_password(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw_file_error(path, "read the password file");
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

}  // namespace

ac::ClusterConfig make_cluster_config(const ConnectionOptions& o) {
    ac::ClusterConfig config;
    config.contact_points = o.hosts.empty() ? std::vector<std::string>{"127.0.0.1"} : o.hosts;
    config.port = o.port;
    config.local_dc = o.dc;
    if (o.protocol_version != 0) config.connection.protocol_version = o.protocol_version;
    if (!o.user.empty()) config.connection.auth = ac::PlainTextAuth{o.user, read_password(o.password_file)};
    if (o.tls || !o.tls_ca.empty() || !o.tls_cert.empty()) {
        for (const std::string* file : {&o.tls_ca, &o.tls_cert, &o.tls_key})
            if (!file->empty() && !std::ifstream(*file)) throw_file_error(*file, "read the TLS file");
        ac::TlsConfig tls;
        tls.ca_file = o.tls_ca;
        tls.cert_file = o.tls_cert;
        tls.key_file = o.tls_key;
        config.connection.tls = tls;
    }
    if (!o.consistency.empty()) {
        const auto level = ac::parse_consistency(o.consistency);
        if (!level) throw CliUsageError("--consistency: unknown level '" + o.consistency + "'");
        config.default_consistency = *level;
    }
    const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout_seconds * 1000.0));
    config.request_timeout = timeout;
    config.connection.connect_timeout = timeout;
    return config;
}

namespace {

// Connect failures that are not the server's answer become ConnectFailure (exit_unreachable);
// the server's answers (bad credentials, unknown keyspace) keep their type.
asio::awaitable<ac::Session> connect(ac::Cluster& cluster, const ConnectionOptions& o) {
    std::optional<std::string> keyspace;
    if (!o.keyspace.empty()) keyspace = o.keyspace;
    try {
        co_return co_await cluster.connect(keyspace);
    } catch (const ac::ServerError&) {
        throw;
    } catch (const ac::NoHostAvailable&) {
        throw;
    } catch (const ac::CredentialsRequired& e) {
        throw AuthRequired(e.what());
    } catch (const ac::UsageError&) {
        throw;
    } catch (const std::exception& e) {
        throw ConnectFailure(std::string("cannot connect: ") + e.what());
    }
}

asio::awaitable<int> run_body(const std::string& command, const ConnectionOptions& options,
                              const CommandBody& body, const Interruption& interruption) {
    auto executor = co_await asio::this_coro::executor;
    ac::ClusterConfig config = make_cluster_config(options);
    ac::Cluster cluster(executor, config);
    ac::Session session = co_await connect(cluster, options);
    int code = exit_ok;
    std::exception_ptr error;
    try {
        CommandContext context{session, cluster, interruption, options};
        code = co_await body(context);
    } catch (...) {
        error = std::current_exception();
    }
    co_await session.shutdown();
    co_await cluster.shutdown();
    if (error) code = report_failure(command, error);
    co_return code;
}

}  // namespace

int run_command(const std::string& command, const ConnectionOptions& options, CommandBody body) {
    asio::io_context io;
    Interruption interruption;
    asio::signal_set signals(io, SIGINT, SIGTERM);
    std::function<void(const std::error_code&, int)> on_signal = [&](const std::error_code& ec, int) {
        if (ec) return;
        if (interruption.requested) std::_Exit(exit_interrupted);  // second signal: stop now
        interruption.requested = true;
        std::fprintf(stderr, "\nacass %s: interrupted, stopping after the current page (again to abort)\n",
                     command.c_str());
        signals.async_wait(on_signal);
    };
    signals.async_wait(on_signal);

    int result = exit_internal;
    asio::co_spawn(io, run_body(command, options, body, interruption),
                   [&](std::exception_ptr error, int code) {
                       result = error ? report_failure(command, error) : code;
                       signals.cancel();
                       io.stop();  // connections the library may still be closing are not waited for
                   });
    io.run();
    return result;
}

std::string TableName::cql() const {
    return ac::quote_cql_identifier(keyspace) + "." + ac::quote_cql_identifier(table);
}

TableName parse_table_name(const std::string& text, const std::string& default_keyspace) {
    TableName name;
    std::tie(name.keyspace, name.table) = ac::split_qualified_name(text);
    if (name.keyspace.empty()) name.keyspace = ac::unquote_cql_identifier(default_keyspace);
    if (name.keyspace.empty() || name.table.empty())
        throw CliUsageError("--table '" + text + "': expected KEYSPACE.TABLE (or TABLE with --keyspace)");
    return name;
}

double peak_rss_mb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    return 0;
}

}  // namespace acass_cli

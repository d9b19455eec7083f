// acass-server: an in-memory CQL node (or N of them) for tests, benchmarks and driver compatibility.
//
//   acass-server [--host 127.0.0.1] [--port 9042] [--nodes N] [--datacenters D] [--racks R]
//                [--protocol-versions 4,5] [--emulate cassandra-3.11|cassandra-4.1|cassandra-5.0|scylla]
//                [--auth user:password] [--cluster-name NAME] [--synthetic ROWS]
//                [--fault SPEC]... [--log-requests] [--control-stdin] [--tls CERT.pem,KEY.pem]
//                [--max-connections N] [--handshake-timeout S] [--idle-timeout S]
//                [--replay-pages]
//
// With --tls every node serves the native protocol over TLS 1.2+ only (no plain-text fallback on
// the same port); an unreadable or mismatched certificate/key exits with status 1 at startup.
//
// Prints one "acass-server listening on HOST:PORT (N nodes)" line on stdout once every node
// accepts connections (with --port 0 the port is the one the system picked), and shuts down
// cleanly on SIGINT/SIGTERM.
//
// With --control-stdin, lines on stdin drive the cluster from a test script: "stop N",
// "restart N", "remove N", "add N", "stats N", "fault RULE" (as --fault), "clear-faults", "quit".
// Each command answers one line on stdout
// ("ok", "stats N requests=.. queries=.. connections=.. open=.. replica_requests=..
// non_replica_requests=.. refused=.. range_replica_requests=.. range_non_replica_requests=..", or "error: ...").
#include "server/net/cluster.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <pthread.h>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace net = async_cassandra::server::net;

namespace {

void control_loop(net::Cluster& cluster) {
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string cmd;
        in >> cmd;
        int node = 0;
        try {
            if (cmd == "quit") break;
            if (cmd == "fault") {  // the rest of the line is a --fault rule
                std::string spec;
                std::getline(in >> std::ws, spec);
                cluster.faults().add(net::parse_fault(spec));
                std::printf("ok\n");
                std::fflush(stdout);
                continue;
            }
            in >> node;
            if (cmd == "clear-faults") cluster.faults().clear();
            else if (cmd == "stop") cluster.stop_node(node);
            else if (cmd == "restart") cluster.restart_node(node);
            else if (cmd == "remove") cluster.remove_node(node);
            else if (cmd == "add") cluster.add_node(node);
            else if (cmd == "stats") {
                auto s = cluster.stats(node);
                std::printf("stats %d requests=%llu queries=%llu connections=%llu open=%llu replica_requests=%llu "
                            "non_replica_requests=%llu refused=%llu range_replica_requests=%llu range_non_replica_requests=%llu\n",
                            node, static_cast<unsigned long long>(s.requests), static_cast<unsigned long long>(s.queries),
                            static_cast<unsigned long long>(s.connections),
                            static_cast<unsigned long long>(s.open_connections),
                            static_cast<unsigned long long>(s.replica_requests),
                            static_cast<unsigned long long>(s.non_replica_requests),
                            static_cast<unsigned long long>(s.refused_connections),
                            static_cast<unsigned long long>(s.range_replica_requests),
                            static_cast<unsigned long long>(s.range_non_replica_requests));
                std::fflush(stdout);
                continue;
            } else if (cmd.empty()) continue;
            else throw async_cassandra::UsageError("unknown command '" + cmd + "'");
            std::printf("ok\n");
        } catch (const std::exception& e) {
            std::printf("error: %s\n", e.what());
        }
        std::fflush(stdout);
    }
    // End of input or "quit": shut down as on SIGTERM.
    kill(getpid(), SIGTERM);
}

}  // namespace

int main(int argc, char** argv) {
    net::ClusterOptions options;
    std::string versions = "4,5";
    std::string auth;
    std::vector<std::string> faults;
    std::string tls;
    int port = 9042;

    CLI::App app{"acass-server: in-memory CQL node for tests and benchmarks"};
    app.add_option("--host", options.host, "IPv4 address of node 1 (node i gets the next addresses)");
    app.add_option("--port", port, "native protocol port shared by all nodes; 0 picks a free one")
        ->check(CLI::Range(0, 65535));
    app.add_option("--nodes", options.nodes, "nodes per data center (127.0.0.1 .. 127.0.0.N for one data center)")
        ->check(CLI::Range(1, 250));
    app.add_option("--datacenters", options.datacenters,
                   "data centers (1: datacenter1; D > 1: dc1..dcD), each with --nodes nodes; at most 250 nodes in all")
        ->check(CLI::Range(1, 250));
    app.add_option("--racks", options.racks, "racks per data center, rack1..rackR (node k of a DC is in rack (k-1)%R+1)")
        ->check(CLI::Range(1, 250));
    app.add_option("--protocol-versions", versions, "comma-separated protocol versions to accept (4,5)");
    app.add_option("--emulate", options.emulate,
                   "imitate a real server: cassandra-3.11 (v4 only), cassandra-4.1, cassandra-5.0 or scylla (v4 "
                   "only): release_version, SUPPORTED, version refusals, warnings");
    app.add_option("--auth", auth, "enable PasswordAuthenticator with user:password");
    app.add_option("--cluster-name", options.cluster_name, "cluster name reported by system.local");
    app.add_option("--synthetic", options.synthetic_rows, "rows of the generated table synthetic.rows");
    app.add_flag("--replay-pages", options.replay_pages,
                 "with --synthetic: serve full scans of synthetic.rows from one pre-encoded page, over and over "
                 "(benchmarks: the node is never the bottleneck)");
    app.add_option("--tokens-per-node", options.tokens_per_node, "tokens owned by each node")->check(CLI::Range(1, 256));
    app.add_option("--fault", faults,
                   "fault rule KIND[=VALUE][,node=N][,nth=N][,fraction=F][,max_hits=N][,pattern=TEXT]; kinds: "
                   "delay, delay_pages, drop_after_pages, drop_mid_frame, error, stall, corrupt_frame, wrong_stream");
    app.add_flag("--log-requests", options.log_requests, "log every request (opcode and query) to stderr");
    app.add_option("--tls", tls,
                   "serve TLS 1.2+ with CERT.pem,KEY.pem (PEM certificate chain and private key)");
    app.add_option("--tls-client-ca", options.tls_client_ca_file,
                   "with --tls: require client certificates signed by a CA in this PEM file (mutual TLS)");
    app.add_option("--max-connections", options.max_connections,
                   "open connections per node; more are closed at accept (0 = no limit)")
        ->check(CLI::NonNegativeNumber);
    double handshake_timeout = 10, idle_timeout = 0;
    app.add_option("--handshake-timeout", handshake_timeout,
                   "seconds a connection may take to reach READY/AUTH_SUCCESS (TLS included) before it is "
                   "closed (0 = no limit)")
        ->default_val(10)
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--idle-timeout", idle_timeout,
                   "seconds without a byte received or sent after which a connection is closed (0 = never)")
        ->default_val(0)
        ->check(CLI::Range(0.0, 86400.0));
    bool control_stdin = false;
    app.add_flag("--control-stdin", control_stdin,
                 "read commands from stdin: stop N, restart N, remove N, add N, stats N, fault RULE, clear-faults, quit");
    CLI11_PARSE(app, argc, argv);

    try {
        options.port = static_cast<std::uint16_t>(port);
        const auto to_ms = [](double seconds) { return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000)); };
        options.handshake_timeout = to_ms(handshake_timeout);
        options.idle_timeout = to_ms(idle_timeout);
        options.protocol_versions.clear();
        std::stringstream vs(versions);
        for (std::string item; std::getline(vs, item, ',');) {
            if (item.empty()) continue;
            options.protocol_versions.push_back(std::stoi(item));
        }
        if (!auth.empty()) {
            auto colon = auth.find(':');
            if (colon == std::string::npos) throw async_cassandra::UsageError("--auth needs user:password");
            options.credentials.emplace(auth.substr(0, colon), auth.substr(colon + 1));
        }
        for (const auto& f : faults) options.faults.push_back(net::parse_fault(f));
        if (!tls.empty()) {
            auto comma = tls.find(',');
            if (comma == std::string::npos || comma == 0 || comma + 1 == tls.size())
                throw async_cassandra::UsageError("--tls needs CERT.pem,KEY.pem");
            options.tls_cert_file = tls.substr(0, comma);
            options.tls_key_file = tls.substr(comma + 1);
        }
        if (!options.tls_client_ca_file.empty() && tls.empty())
            throw async_cassandra::UsageError("--tls-client-ca needs --tls");

        // Block the termination signals in every thread (the I/O thread inherits the mask), so
        // that the main thread can wait for them synchronously and shut down in order.
        sigset_t signals;
        sigemptyset(&signals);
        sigaddset(&signals, SIGINT);
        sigaddset(&signals, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &signals, nullptr);
        std::signal(SIGPIPE, SIG_IGN);

        net::Cluster cluster(options);
        cluster.start();
        std::printf("acass-server listening on %s:%u (%d node%s%s)\n", options.host.c_str(),
                    static_cast<unsigned>(cluster.port()), cluster.node_count(), cluster.node_count() == 1 ? "" : "s",
                    tls.empty() ? "" : ", TLS");
        std::fflush(stdout);

        if (control_stdin) {
            // Detached: it may be blocked in a read when the process exits.
            std::thread([&cluster] { control_loop(cluster); }).detach();
        }

        int sig = 0;
        sigwait(&signals, &sig);
        std::fprintf(stderr, "acass-server: signal %d, shutting down\n", sig);
        cluster.stop();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "acass-server: %s\n", e.what());
        return 1;
    }
    return 0;
}

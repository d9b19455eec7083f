// acass-server over TLS: the embedded node (in-process, port 0) with a self-signed certificate
// made by the openssl CLI, and our client verifying it (CA file + host name) over v4 and v5; a
// client trusting another CA is refused; a plain-text client on the TLS port is disconnected
// without disturbing TLS clients; bad certificate/key files fail at startup.

#include "server/net/cluster.hpp"

#include <async_cassandra/async_cassandra.hpp>

#include <asio.hpp>
#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace async_cassandra;
using namespace std::chrono_literals;
namespace srv = async_cassandra::server::net;

namespace {

constexpr std::int64_t kRows = 1000;

#define CO_ASSERT_TRUE(c)                             \
    do {                                              \
        if (!(c)) {                                   \
            ADD_FAILURE() << "assertion failed: " #c; \
            co_return;                                \
        }                                             \
    } while (0)

using acass_test::run;

bool make_self_signed(const std::filesystem::path& dir, const std::string& name, const std::string& cn) {
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + cn +
                      " -addext subjectAltName=IP:127.0.0.1,IP:127.0.0.2 -keyout " + (dir / (name + "-key.pem")).string() +
                      " -out " + (dir / (name + "-cert.pem")).string() + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

/// Two unrelated self-signed certificates for 127.0.0.1/127.0.0.2 ("server" and "other") in a
/// temporary directory, and a TLS cluster of two nodes serving the first one.
class ServerTls : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("acass-server-tls-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
        // No skip without the openssl CLI: scripts/test.sh installs it; a TLS test that passes by
        // skipping proves nothing.
        ASSERT_EQ(std::system("openssl version"), 0) << "the openssl CLI is needed (package openssl)";
        ASSERT_TRUE(make_self_signed(dir_, "server", "127.0.0.1"));
        ASSERT_TRUE(make_self_signed(dir_, "other", "127.0.0.1"));
    }
    void TearDown() override {
        server_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    std::string file(const std::string& name) const { return (dir_ / name).string(); }

    srv::ClusterOptions tls_options() const {
        srv::ClusterOptions o;
        o.port = 0;
        o.nodes = 2;
        o.synthetic_rows = kRows;
        o.tls_cert_file = file("server-cert.pem");
        o.tls_key_file = file("server-key.pem");
        return o;
    }
    void start() {
        server_ = std::make_unique<srv::Cluster>(tls_options());
        server_->start();
    }

    /// Client settings that verify the server's chain against `ca` and its address (the
    /// default server name is the host's address).
    ClusterConfig client_config(std::optional<int> version, std::optional<std::string> ca) const {
        ClusterConfig c;
        c.contact_points = {"127.0.0.1"};
        c.port = server_->port();
        c.connection.protocol_version = version;
        c.connection.connect_timeout = 5s;
        if (ca) {
            TlsConfig tls;
            tls.ca_file = *ca;
            tls.verify_peer = true;
            c.connection.tls = tls;
        }
        c.request_timeout = 10s;
        return c;
    }

    /// Connects with TLS and checks a query and a paged read on it.
    void check_tls_client_works(std::optional<int> version, CompressionAlgorithm compression,
                                std::vector<std::string> contact_points = {"127.0.0.1"}) {
        run([&](auto ex) -> asio::awaitable<void> {
            auto cfg = client_config(version, file("server-cert.pem"));
            cfg.connection.compression = compression;
            cfg.contact_points = contact_points;
            Cluster cluster(ex, cfg);
            Session session = co_await cluster.connect();
            ResultSet local = co_await session.execute("SELECT release_version FROM system.local");
            CO_ASSERT_TRUE(local.one());
            EXPECT_FALSE(local.one()->get<std::string>(0).empty());

            Statement all("SELECT * FROM synthetic.rows");
            all.set_page_size(100);  // execute() follows every page over the TLS connection
            ResultSet rs = co_await session.execute(all);
            EXPECT_EQ(rs.size(), static_cast<std::size_t>(kRows));
            EXPECT_GE(rs.pages().size(), static_cast<std::size_t>(kRows / 100));
            co_await session.shutdown();
            co_await cluster.shutdown();
        });
    }

    std::filesystem::path dir_;
    std::unique_ptr<srv::Cluster> server_;
};

/// Whatever `e` holds, rethrown as the exception of the first host that failed.
std::exception_ptr first_host_failure(const NoHostAvailable& e) {
    return e.failures().empty() ? nullptr : e.failures().front().error;
}

/// A plain TCP client sends a CQL OPTIONS frame and reads until the server closes. Returns the
/// bytes it got, or nullopt if the connection was still open after `timeout`.
std::optional<std::vector<std::uint8_t>> plain_options_until_closed(std::uint16_t port,
                                                                    std::chrono::milliseconds timeout) {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    const std::uint8_t options[] = {0x04, 0, 0, 1, 0x05, 0, 0, 0, 0};
    asio::write(s, asio::buffer(options));
    std::vector<std::uint8_t> got;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        pollfd pfd{s.native_handle(), POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return std::nullopt;
        std::uint8_t buf[4096];
        asio::error_code ec;
        std::size_t n = s.read_some(asio::buffer(buf), ec);
        if (ec) return got;  // EOF or reset: closed by the server
        got.insert(got.end(), buf, buf + n);
    }
}

}  // namespace

TEST_F(ServerTls, VerifiedClientQueriesAndPagesOverV4) {
    start();
    check_tls_client_works(4, CompressionAlgorithm::none);
    EXPECT_GE(server_->stats(1).queries, 2u);
}

TEST_F(ServerTls, VerifiedClientQueriesAndPagesOverV5WithLz4) {
    start();
    check_tls_client_works(5, CompressionAlgorithm::lz4);
    EXPECT_GE(server_->stats(1).queries, 2u);
}

TEST_F(ServerTls, NegotiatedVersionAndEveryNodeServesTls) {
    start();
    check_tls_client_works(std::nullopt, CompressionAlgorithm::lz4, {"127.0.0.1", "127.0.0.2"});
    // Node 2 was verified as 127.0.0.2 and completed the CQL handshake over TLS too.
    EXPECT_GE(server_->stats(1).requests, 1u);
    EXPECT_GE(server_->stats(2).requests, 1u);
}

TEST_F(ServerTls, ClientTrustingAnotherCaIsRefused) {
    start();
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, client_config(4, file("other-cert.pem")));
        std::exception_ptr host_error;
        bool no_host = false;
        try {
            co_await cluster.connect();
        } catch (const NoHostAvailable& e) {
            no_host = true;
            host_error = first_host_failure(e);
        }
        CO_ASSERT_TRUE(no_host);
        CO_ASSERT_TRUE(host_error);
        bool closed = false;
        try {
            std::rethrow_exception(host_error);
        } catch (const ConnectionClosed&) {
            closed = true;
        } catch (...) {
        }
        EXPECT_TRUE(closed);
    });
    // No request ever reached the engine, and the server still serves verified clients.
    EXPECT_EQ(server_->stats(1).requests, 0u);
    check_tls_client_works(4, CompressionAlgorithm::none);
}

TEST_F(ServerTls, WrongHostNameIsRefused) {
    start();
    run([&](auto ex) -> asio::awaitable<void> {
        auto cfg = client_config(5, file("server-cert.pem"));
        cfg.connection.tls->server_name = "db.example.com";  // not in the certificate
        Cluster cluster(ex, cfg);
        bool refused = false;
        try {
            co_await cluster.connect();
        } catch (const NoHostAvailable&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
    });
}

TEST_F(ServerTls, PlainTextClientIsDisconnectedAndTlsClientsStillWork) {
    start();
    // A raw CQL frame on the TLS port: the handshake fails, the connection closes, and no CQL
    // answer (0x84/0x85 response header) is ever sent in clear text.
    auto got = plain_options_until_closed(server_->port(), 5s);
    ASSERT_TRUE(got.has_value()) << "the server kept the plain-text connection open";
    if (!got->empty()) {
        EXPECT_NE((*got)[0], 0x84);
        EXPECT_NE((*got)[0], 0x85);
    }
    EXPECT_EQ(server_->stats(1).requests, 0u);

    // Our client without TLS gets a typed error, not a hang.
    run([&](auto ex) -> asio::awaitable<void> {
        Cluster cluster(ex, client_config(4, std::nullopt));
        bool refused = false;
        try {
            co_await cluster.connect();
        } catch (const NoHostAvailable&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
    });

    check_tls_client_works(5, CompressionAlgorithm::none);
    check_tls_client_works(4, CompressionAlgorithm::none);
    // Every failed connection was let go: only what the shut-down sessions left may linger.
    for (int i = 0; i < 100 && server_->stats(1).open_connections != 0; ++i) std::this_thread::sleep_for(20ms);
    EXPECT_EQ(server_->stats(1).open_connections, 0u);
}

TEST_F(ServerTls, SilentClientIsDroppedAfterTheHandshakeTimeout) {
    auto o = tls_options();
    o.tls_handshake_timeout = 300ms;
    server_ = std::make_unique<srv::Cluster>(o);
    server_->start();
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    // Connects and sends nothing: the server must not wait for the handshake forever.
    for (int i = 0; i < 100 && server_->stats(1).open_connections == 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(server_->stats(1).open_connections, 1u);
    pollfd pfd{s.native_handle(), POLLIN, 0};
    ASSERT_EQ(::poll(&pfd, 1, 5000), 1) << "not disconnected within 5 s";
    std::uint8_t buf[64];
    asio::error_code ec;
    s.read_some(asio::buffer(buf), ec);
    EXPECT_TRUE(ec) << "expected the end of the stream";
    for (int i = 0; i < 100 && server_->stats(1).open_connections != 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(server_->stats(1).open_connections, 0u);
    check_tls_client_works(4, CompressionAlgorithm::none);
}

TEST_F(ServerTls, TlsAndPlainClustersSideBySide) {
    // The plain path is unchanged next to a TLS cluster (separate options, separate ports).
    start();
    srv::ClusterOptions plain;
    plain.port = 0;
    srv::Cluster plain_server(plain);
    plain_server.start();
    run([&](auto ex) -> asio::awaitable<void> {
        ClusterConfig c;
        c.contact_points = {"127.0.0.1"};
        c.port = plain_server.port();
        c.request_timeout = 10s;
        Cluster cluster(ex, c);
        Session session = co_await cluster.connect();
        ResultSet rs = co_await session.execute("SELECT release_version FROM system.local");
        EXPECT_EQ(rs.size(), 1u);
        co_await session.shutdown();
        co_await cluster.shutdown();
    });
    check_tls_client_works(4, CompressionAlgorithm::none);
}

TEST_F(ServerTls, BadCertificateOrKeyFailsAtConstruction) {
    auto expect_usage_error = [](srv::ClusterOptions o, const std::string& mentions) {
        try {
            srv::Cluster c(o);
            ADD_FAILURE() << "no error for " << mentions;
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find(mentions), std::string::npos) << e.what();
        }
    };
    auto o = tls_options();
    o.tls_cert_file = file("missing.pem");
    expect_usage_error(o, "missing.pem");

    o = tls_options();
    o.tls_key_file = file("other-key.pem");  // a valid key, but not the certificate's
    expect_usage_error(o, "other-key.pem");

    o = tls_options();
    o.tls_key_file = file("server-cert.pem");  // not a key at all
    expect_usage_error(o, "server-cert.pem");

    o = tls_options();
    o.tls_key_file.clear();
    expect_usage_error(o, "both");
}

TEST_F(ServerTls, ExecutableRejectsBadTlsFilesWithNonZeroExit) {
    const std::string server = std::string(ACASS_BINARY_DIR) + "/bin/acass-server";
    ASSERT_TRUE(std::filesystem::exists(server)) << server << " not built (test_server_tls depends on acass-server)";
    auto run_server = [&](const std::string& tls_arg, std::string& output) {
        std::string cmd = server + " --port 0 --tls " + tls_arg + " 2>&1 </dev/null";
        FILE* f = ::popen(cmd.c_str(), "r");
        if (!f) return -1;
        char buf[512];
        while (std::fgets(buf, sizeof buf, f)) output += buf;
        int status = ::pclose(f);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    std::string out;
    EXPECT_EQ(run_server(file("missing.pem") + "," + file("server-key.pem"), out), 1);
    EXPECT_NE(out.find("cannot load TLS certificate"), std::string::npos) << out;
    EXPECT_EQ(out.find("listening"), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(run_server(file("server-cert.pem"), out), 1);
    EXPECT_NE(out.find("--tls needs CERT.pem,KEY.pem"), std::string::npos) << out;
}

// TLS connections (asio::ssl): chain verification against a CA file and host-name verification,
// against the fake server with a self-signed certificate made for the test by the openssl CLI.

#include "integration/fake_server.hpp"
#include "net/connection.hpp"

#include "support/run_coroutine.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

using namespace async_cassandra;
using namespace async_cassandra::testing;
using namespace std::chrono_literals;

namespace {

using acass_test::run;

Action echo(const RequestInfo& info) {
    Action a;
    if (auto* q = std::get_if<protocol::QueryRequest>(&info.request))
        a.response = protocol::ResultResponse{protocol::SetKeyspaceResult{std::string(q->query)}};
    return a;
}

/// A self-signed certificate for "localhost" / 127.0.0.1 in a temporary directory.
class TlsFiles : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("acass-tls-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
        std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                          "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
                          key() + " -out " + cert();
        // A missing or failing openssl CLI is a failure, not a skip: scripts/test.sh installs it,
        // and a TLS suite that passes by skipping proves nothing.
        ASSERT_EQ(std::system(cmd.c_str()), 0) << "could not make a certificate with: " << cmd;
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::string cert() const { return (dir_ / "cert.pem").string(); }
    std::string key() const { return (dir_ / "key.pem").string(); }
    FakeServerOptions server_options() const {
        FakeServerOptions o;
        o.tls = std::make_pair(cert(), key());
        return o;
    }

    std::filesystem::path dir_;
};

}  // namespace

TEST_F(TlsFiles, VerifiedConnectionWorks) {
    FakeServer server(echo, server_options());
    for (int version : {4, 5}) {
        run([&](auto ex) -> asio::awaitable<void> {
            ConnectionConfig cfg;
            cfg.protocol_version = version;
            cfg.compression = CompressionAlgorithm::lz4;
            TlsConfig tls;
            tls.ca_file = cert();
            tls.server_name = "localhost";
            cfg.tls = tls;
            auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
            protocol::QueryRequest q;
            q.query = "over tls";
            const protocol::Request request = q;
            net::Reply reply = co_await conn->send(request, 5s);
            auto* result = std::get_if<protocol::ResultResponse>(&reply.message);
            EXPECT_TRUE(result && std::get_if<protocol::SetKeyspaceResult>(result) &&
                        std::get<protocol::SetKeyspaceResult>(*result).keyspace == "over tls");
            conn->close();
        });
    }
}

TEST_F(TlsFiles, IpAddressInCertificateIsAccepted) {
    FakeServer server(echo, server_options());
    run([&](auto ex) -> asio::awaitable<void> {
        ConnectionConfig cfg;
        TlsConfig tls;
        tls.ca_file = cert();  // server_name defaults to the contact point, 127.0.0.1
        cfg.tls = tls;
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
        EXPECT_TRUE(conn->is_open());
        conn->close();
    });
}

TEST_F(TlsFiles, WrongHostNameIsRejected) {
    FakeServer server(echo, server_options());
    run([&](auto ex) -> asio::awaitable<void> {
        ConnectionConfig cfg;
        TlsConfig tls;
        tls.ca_file = cert();
        tls.server_name = "db.example.com";
        cfg.tls = tls;
        bool rejected = false;
        try {
            co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
        } catch (const ConnectionClosed&) {
            rejected = true;
        }
        EXPECT_TRUE(rejected);
    });
}

TEST_F(TlsFiles, UntrustedCertificateIsRejectedUnlessVerificationIsOff) {
    FakeServer server(echo, server_options());
    run([&](auto ex) -> asio::awaitable<void> {
        ConnectionConfig cfg;
        TlsConfig tls;  // system CAs: the self-signed certificate is not trusted
        cfg.tls = tls;
        bool rejected = false;
        try {
            co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
        } catch (const ConnectionClosed&) {
            rejected = true;
        }
        EXPECT_TRUE(rejected);

        tls.verify_peer = false;
        cfg.tls = tls;
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
        EXPECT_TRUE(conn->is_open());
        conn->close();
    });
}

TEST_F(TlsFiles, ClientCertificateProblemsAreConfigurationErrors) {
    FakeServer server(echo, server_options());
    const std::string other_key = (dir_ / "other-key.pem").string();
    const std::string make_other = "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + other_key +
                                   " >/dev/null 2>&1";
    ASSERT_EQ(std::system(make_other.c_str()), 0);
    struct Case {
        std::string cert, key, must_mention;
    };
    const std::vector<Case> cases = {
        {(dir_ / "missing.pem").string(), key(), "missing.pem"},  // unreadable certificate
        {cert(), (dir_ / "nokey.pem").string(), "nokey.pem"},     // unreadable key
        {cert(), other_key, "other-key.pem"},                     // key of another certificate
        {cert(), "", "go together"},                              // half a pair
    };
    for (const Case& c : cases) {
        run([&](auto ex) -> asio::awaitable<void> {
            ConnectionConfig cfg;
            TlsConfig tls;
            tls.ca_file = cert();
            tls.cert_file = c.cert;
            tls.key_file = c.key;
            cfg.tls = tls;
            std::string what;
            try {
                co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
            } catch (const ConfigurationError& e) {
                what = e.what();
            }
            EXPECT_NE(what.find(c.must_mention), std::string::npos) << "got: '" << what << "'";
        });
    }
    // A matching pair is loaded and the (non-verifying) fake server accepts the connection.
    run([&](auto ex) -> asio::awaitable<void> {
        ConnectionConfig cfg;
        TlsConfig tls;
        tls.ca_file = cert();
        tls.cert_file = cert();
        tls.key_file = key();
        cfg.tls = tls;
        auto conn = co_await net::Connection::open(ex, "127.0.0.1", server.port(), cfg);
        EXPECT_TRUE(conn->is_open());
        conn->close();
    });
}

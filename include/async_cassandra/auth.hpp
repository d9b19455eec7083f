// Pluggable SASL authentication (native_protocol_v4.spec sections 4.1.2, 4.2.3, 4.2.7, 4.2.8).
//
// When a server answers STARTUP with AUTHENTICATE <class name>, the connection asks the
// configured AuthProvider for an Authenticator, sends its initial_response() in AUTH_RESPONSE,
// answers every AUTH_CHALLENGE with evaluate_challenge() and finishes on AUTH_SUCCESS (or fails
// on an ERROR). ConnectionConfig::auth (PlainTextAuth) is the default provider: SASL PLAIN.
//
//   struct MyProvider : ac::AuthProvider {
//       std::unique_ptr<ac::Authenticator> new_authenticator(std::string_view endpoint,
//                                                            std::string_view server_class) override;
//   };
//   config.connection.auth_provider = std::make_shared<MyProvider>();
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace async_cassandra {

using AuthToken = std::vector<std::uint8_t>;

/// One SASL exchange on one connection. Methods run on the connection's strand, one at a time;
/// throw (e.g. AuthenticationError) to abort the handshake.
class Authenticator {
public:
    virtual ~Authenticator() = default;
    /// The token of the first AUTH_RESPONSE (nullopt sends a null token).
    virtual std::optional<AuthToken> initial_response() = 0;
    /// The answer to an AUTH_CHALLENGE token.
    virtual std::optional<AuthToken> evaluate_challenge(const std::optional<AuthToken>& challenge) = 0;
    /// AUTH_SUCCESS arrived with this (optional) final token.
    virtual void on_success(const std::optional<AuthToken>& token) { (void)token; }
};

/// Makes one Authenticator per connection. Shared by every connection of a cluster: must be
/// thread-safe.
class AuthProvider {
public:
    virtual ~AuthProvider() = default;
    /// `endpoint` is "host:port"; `server_class` the authenticator class the server named in
    /// AUTHENTICATE (e.g. org.apache.cassandra.auth.PasswordAuthenticator).
    virtual std::unique_ptr<Authenticator> new_authenticator(std::string_view endpoint,
                                                             std::string_view server_class) = 0;
};

/// SASL PLAIN with a user name and password (token "\0user\0password"), for Cassandra's
/// PasswordAuthenticator, ScyllaDB's PasswordAuthenticator and
/// com.scylladb.auth.TransitionalAuthenticator, and any other class that takes PLAIN
/// credentials in the first response. For DataStax Enterprise's
/// com.datastax.bdp.cassandra.auth.DseAuthenticator it first names the mechanism ("PLAIN"),
/// then answers the server's "PLAIN-START" challenge with the credentials (two rounds).
class PlainTextAuthProvider : public AuthProvider {
public:
    PlainTextAuthProvider(std::string username, std::string password)
        : username_(std::move(username)), password_(std::move(password)) {}
    std::unique_ptr<Authenticator> new_authenticator(std::string_view endpoint,
                                                     std::string_view server_class) override;

private:
    std::string username_;
    std::string password_;
};

/// True for authenticator classes known to take SASL PLAIN credentials.
bool is_plain_text_authenticator(std::string_view server_class) noexcept;

}  // namespace async_cassandra

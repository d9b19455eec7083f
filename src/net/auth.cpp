// SASL PLAIN for the authenticator classes of Cassandra, ScyllaDB and DataStax Enterprise.
#include <async_cassandra/auth.hpp>
#include <async_cassandra/server_errors.hpp>

#include <array>

namespace async_cassandra {

namespace {

// DSE's DseAuthenticator multiplexes mechanisms: the client names one ("PLAIN") and the server
// asks for its credentials with the challenge "PLAIN-START" (what the DataStax drivers' DSE
// PLAIN provider does).
constexpr std::string_view kDseAuthenticator = "com.datastax.bdp.cassandra.auth.DseAuthenticator";
constexpr std::string_view kPlainMechanism = "PLAIN";
constexpr std::string_view kPlainStart = "PLAIN-START";

AuthToken token_of(std::string_view s) { return AuthToken(s.begin(), s.end()); }

class PlainTextAuthenticator : public Authenticator {
public:
    PlainTextAuthenticator(const std::string& user, const std::string& password, bool mechanism_first)
        : mechanism_first_(mechanism_first) {
        credentials_.push_back(0);
        credentials_.insert(credentials_.end(), user.begin(), user.end());
        credentials_.push_back(0);
        credentials_.insert(credentials_.end(), password.begin(), password.end());
    }

    std::optional<AuthToken> initial_response() override {
        if (mechanism_first_) return token_of(kPlainMechanism);
        sent_credentials_ = true;
        return credentials_;
    }

    std::optional<AuthToken> evaluate_challenge(const std::optional<AuthToken>& challenge) override {
        if (!sent_credentials_ && challenge && *challenge == token_of(kPlainStart)) {
            sent_credentials_ = true;
            return credentials_;
        }
        throw AuthenticationError("unexpected SASL challenge to PLAIN credentials");
    }

private:
    AuthToken credentials_;
    bool mechanism_first_;
    bool sent_credentials_ = false;
};

}  // namespace

std::unique_ptr<Authenticator> PlainTextAuthProvider::new_authenticator(std::string_view,
                                                                        std::string_view server_class) {
    return std::make_unique<PlainTextAuthenticator>(username_, password_, server_class == kDseAuthenticator);
}

bool is_plain_text_authenticator(std::string_view server_class) noexcept {
    static constexpr std::array<std::string_view, 5> known = {
        "org.apache.cassandra.auth.PasswordAuthenticator",
        "com.scylladb.auth.PasswordAuthenticator",
        "com.scylladb.auth.TransitionalAuthenticator",
        kDseAuthenticator,
        "com.datastax.bdp.cassandra.auth.PasswordAuthenticator",
    };
    for (auto k : known)
        if (k == server_class) return true;
    return false;
}

}  // namespace async_cassandra

// Helpers shared by the test_messages_*.cpp files: a tiny byte builder for golden bodies written
// from the spec notation (independent of the codec under test) and error-path checks.
#pragma once

#include "protocol/messages.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <string_view>

namespace acass_test {

using namespace async_cassandra;
using namespace async_cassandra::protocol;

/// Builds bytes in spec notation, big-endian, by hand (no use of ByteWriter).
class Golden {
public:
    Golden& u8(std::uint8_t v) {
        b_.push_back(v);
        return *this;
    }
    Golden& raw(std::initializer_list<std::uint8_t> bytes) {
        b_.insert(b_.end(), bytes);
        return *this;
    }
    Golden& raw(const Bytes& bytes) {
        b_.insert(b_.end(), bytes.begin(), bytes.end());
        return *this;
    }
    Golden& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(static_cast<std::uint8_t>(v)); }
    Golden& i32(std::int32_t v) {
        auto u = static_cast<std::uint32_t>(v);
        return u8(u >> 24).u8((u >> 16) & 0xFF).u8((u >> 8) & 0xFF).u8(u & 0xFF);
    }
    Golden& i64(std::int64_t v) {
        auto u = static_cast<std::uint64_t>(v);
        return i32(static_cast<std::int32_t>(u >> 32)).i32(static_cast<std::int32_t>(u & 0xFFFFFFFF));
    }
    Golden& chars(std::string_view s) {
        b_.insert(b_.end(), s.begin(), s.end());
        return *this;
    }
    /// [string]
    Golden& str(std::string_view s) { return u16(static_cast<std::uint16_t>(s.size())).chars(s); }
    /// [long string]
    Golden& lstr(std::string_view s) { return i32(static_cast<std::int32_t>(s.size())).chars(s); }
    /// [bytes] / [value]
    Golden& bytes(const Bytes& v) { return i32(static_cast<std::int32_t>(v.size())).raw(v); }
    /// [short bytes]
    Golden& sbytes(const Bytes& v) { return u16(static_cast<std::uint16_t>(v.size())).raw(v); }

    Bytes build() const { return b_; }
    operator Bytes() const { return b_; }  // NOLINT: convenience in expectations

private:
    Bytes b_;
};

inline Bytes encode(const Request& r, ProtocolVersion v) {
    Bytes out;
    ByteWriter w(out);
    encode_request(w, r, v);
    return out;
}
inline Bytes encode(const Response& r, ProtocolVersion v) {
    Bytes out;
    ByteWriter w(out);
    encode_response(w, r, v);
    return out;
}

/// Runs `f` and expects a ProtocolError with `code`.
inline void expect_protocol_error(ProtocolErrc code, const std::function<void()>& f, const char* context = "") {
    try {
        f();
        ADD_FAILURE() << "no ProtocolError (" << context << ")";
    } catch (const ProtocolError& e) {
        EXPECT_EQ(e.code(), code) << e.what() << " (" << context << ")";
    }
}

/// Every strict prefix of a valid body must fail with ProtocolError(truncated), never crash.
inline void expect_every_truncation_throws(const std::function<void(BytesView)>& decode, const Bytes& body) {
    for (std::size_t n = 0; n < body.size(); ++n) {
        // A fresh allocation of exactly n bytes, so that ASan sees any read past the end.
        Bytes cut(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(n));
        try {
            decode(cut);
            ADD_FAILURE() << "prefix of " << n << "/" << body.size() << " bytes decoded";
        } catch (const ProtocolError& e) {
            EXPECT_EQ(e.code(), ProtocolErrc::truncated) << "prefix " << n << ": " << e.what();
        }
    }
}

}  // namespace acass_test

// Small pieces shared by the request and response codecs (messages_requests.cpp,
// messages_responses.cpp).
#pragma once

#include "protocol/bytes.hpp"
#include "protocol/frame.hpp"

#include <async_cassandra/consistency.hpp>

#include <string>

namespace async_cassandra::protocol::codec_helpers {

[[noreturn]] inline void invalid(const std::string& what) {
    throw ProtocolError(ProtocolErrc::invalid_value, what);
}

/// True for v5, false for v4; any other version is unsupported.
inline bool is_v5(ProtocolVersion version) {
    if (version == ProtocolVersion::v5) return true;
    if (version == ProtocolVersion::v4) return false;
    throw ProtocolError(ProtocolErrc::unsupported_version,
                        "protocol version " + std::to_string(static_cast<int>(version)));
}

// [consistency] is a [short]; values outside the table of section 3 are rejected so that a
// decoded Consistency always names a real level.
inline Consistency read_consistency(ByteReader& in) {
    std::uint16_t v = in.read_u16();
    if (v > static_cast<std::uint16_t>(Consistency::local_one)) invalid("consistency " + std::to_string(v));
    return static_cast<Consistency>(v);
}
inline void write_consistency(ByteWriter& out, Consistency c) { out.write_u16(static_cast<std::uint16_t>(c)); }

}  // namespace async_cassandra::protocol::codec_helpers

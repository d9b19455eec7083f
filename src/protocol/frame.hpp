// The 9-byte frame header (v4 "frame", v5 "envelope"): native_protocol_v4.spec section 2,
// native_protocol_v5.spec section 2. Bodies are handled by messages.hpp; v5 segment framing
// around envelopes by segment.hpp.
#pragma once

#include "protocol/bytes.hpp"

#include <cstdint>

namespace async_cassandra::protocol {

enum class ProtocolVersion : std::uint8_t { v4 = 4, v5 = 5 };

inline constexpr std::size_t kFrameHeaderSize = 9;
/// Default limit on a frame body; larger bodies are a protocol error (configurable per peer).
inline constexpr std::uint32_t kDefaultMaxBodySize = 256u * 1024 * 1024;
inline constexpr std::int16_t kEventStreamId = -1;

enum class Opcode : std::uint8_t {
    error = 0x00,
    startup = 0x01,
    ready = 0x02,
    authenticate = 0x03,
    options = 0x05,
    supported = 0x06,
    query = 0x07,
    result = 0x08,
    prepare = 0x09,
    execute = 0x0A,
    register_ = 0x0B,
    event = 0x0C,
    batch = 0x0D,
    auth_challenge = 0x0E,
    auth_response = 0x0F,
    auth_success = 0x10,
};

bool is_known_opcode(std::uint8_t op) noexcept;
const char* to_string(Opcode op) noexcept;

namespace frame_flags {
inline constexpr std::uint8_t compression = 0x01;  // v4 only; v5 compresses segments instead
inline constexpr std::uint8_t tracing = 0x02;
inline constexpr std::uint8_t custom_payload = 0x04;
inline constexpr std::uint8_t warning = 0x08;
inline constexpr std::uint8_t use_beta = 0x10;
}  // namespace frame_flags

struct FrameHeader {
    std::uint8_t version = 4;  ///< protocol version without the direction bit
    bool is_response = false;  ///< direction bit 0x80 of the version byte
    std::uint8_t flags = 0;
    std::int16_t stream = 0;
    Opcode opcode = Opcode::error;
    std::uint32_t body_length = 0;
};

/// Appends the 9 header bytes.
void encode_frame_header(ByteWriter& out, const FrameHeader& header);

/// Decodes the 9 header bytes at the front of `bytes`. Throws ProtocolError (truncated,
/// unknown_opcode, frame_too_large). The version byte is returned as sent, not validated: the
/// caller decides what to do with a version it does not speak (see version negotiation in
/// PROTOCOL-NOTES.md: the server must still answer it).
FrameHeader decode_frame_header(BytesView bytes, std::uint32_t max_body_size = kDefaultMaxBodySize);

}  // namespace async_cassandra::protocol

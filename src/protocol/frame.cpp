#include "protocol/frame.hpp"

namespace async_cassandra {

const char* to_string(ProtocolErrc code) noexcept {
    switch (code) {
        case ProtocolErrc::truncated: return "truncated";
        case ProtocolErrc::invalid_length: return "invalid length";
        case ProtocolErrc::invalid_value: return "invalid value";
        case ProtocolErrc::unknown_opcode: return "unknown opcode";
        case ProtocolErrc::unsupported_version: return "unsupported protocol version";
        case ProtocolErrc::frame_too_large: return "frame too large";
        case ProtocolErrc::bad_checksum: return "bad checksum";
        case ProtocolErrc::compression: return "compression";
        case ProtocolErrc::trailing_bytes: return "trailing bytes";
    }
    return "protocol error";
}

}  // namespace async_cassandra

namespace async_cassandra::protocol {

bool is_known_opcode(std::uint8_t op) noexcept {
    return op <= 0x10 && op != 0x04;
}

const char* to_string(Opcode op) noexcept {
    switch (op) {
        case Opcode::error: return "ERROR";
        case Opcode::startup: return "STARTUP";
        case Opcode::ready: return "READY";
        case Opcode::authenticate: return "AUTHENTICATE";
        case Opcode::options: return "OPTIONS";
        case Opcode::supported: return "SUPPORTED";
        case Opcode::query: return "QUERY";
        case Opcode::result: return "RESULT";
        case Opcode::prepare: return "PREPARE";
        case Opcode::execute: return "EXECUTE";
        case Opcode::register_: return "REGISTER";
        case Opcode::event: return "EVENT";
        case Opcode::batch: return "BATCH";
        case Opcode::auth_challenge: return "AUTH_CHALLENGE";
        case Opcode::auth_response: return "AUTH_RESPONSE";
        case Opcode::auth_success: return "AUTH_SUCCESS";
    }
    return "UNKNOWN";
}

void encode_frame_header(ByteWriter& out, const FrameHeader& header) {
    out.write_u8(static_cast<std::uint8_t>(header.version | (header.is_response ? 0x80 : 0x00)));
    out.write_u8(header.flags);
    out.write_i16(header.stream);
    out.write_u8(static_cast<std::uint8_t>(header.opcode));
    out.write_u32(header.body_length);
}

FrameHeader decode_frame_header(BytesView bytes, std::uint32_t max_body_size) {
    ByteReader in(bytes);
    in.require(kFrameHeaderSize);
    FrameHeader h;
    std::uint8_t version = in.read_u8();
    h.is_response = (version & 0x80) != 0;
    h.version = version & 0x7F;
    h.flags = in.read_u8();
    h.stream = in.read_i16();
    std::uint8_t op = in.read_u8();
    if (!is_known_opcode(op))
        throw ProtocolError(ProtocolErrc::unknown_opcode, "opcode 0x" + std::to_string(op));
    h.opcode = static_cast<Opcode>(op);
    h.body_length = in.read_u32();
    if (h.body_length > max_body_size)
        throw ProtocolError(ProtocolErrc::frame_too_large,
                            "body of " + std::to_string(h.body_length) + " bytes exceeds the limit of " +
                                std::to_string(max_body_size));
    return h;
}

}  // namespace async_cassandra::protocol

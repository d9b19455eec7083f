#include "net/framing.hpp"

namespace async_cassandra::net {

std::size_t FrameWriter::append(std::int16_t stream, const protocol::Request& request, std::uint8_t flags) {
    protocol::FrameHeader header;
    header.version = static_cast<std::uint8_t>(version_);
    header.is_response = false;
    header.flags = flags;
    header.stream = stream;
    header.opcode = protocol::opcode_of(request);
    return encoder_.encode_in_place(pending_, header, [&](protocol::ByteWriter& w) {
        // Requests carry no body prefix here; the call keeps the flags' meaning identical to
        // encode_request_frame (a flag asking for a custom payload writes an empty one).
        protocol::encode_body_prefix(w, protocol::BodyPrefix{}, flags, false);
        protocol::encode_request(w, request, version_);
    });
}

void FrameWriter::take(protocol::Bytes& out) {
    out.clear();
    out.swap(pending_);  // envelopes sent before segments were switched on come first
    encoder_.flush(out);
}

}  // namespace async_cassandra::net

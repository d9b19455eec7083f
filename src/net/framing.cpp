#include "net/framing.hpp"

namespace async_cassandra::net {

std::size_t FrameWriter::append(std::int16_t stream, const protocol::Request& request, std::uint8_t flags) {
    protocol::FrameHeader header;
    header.version = static_cast<std::uint8_t>(version_);
    header.is_response = false;
    header.flags = flags;
    header.stream = stream;
    header.opcode = protocol::opcode_of(request);
    const std::size_t raw_before = pending_.size();
    protocol::Bytes& buffer = encoder_.begin_envelope(pending_, header);
    const std::size_t envelope_start = buffer.size() - protocol::kFrameHeaderSize;
    try {
        protocol::ByteWriter w(buffer);
        // Requests carry no body prefix here; the call keeps the flags' meaning identical to
        // encode_request_frame (a flag asking for a custom payload writes an empty one).
        protocol::encode_body_prefix(w, protocol::BodyPrefix{}, flags, false);
        protocol::encode_request(w, request, version_);
        encoder_.end_envelope();
    } catch (...) {
        encoder_.abort_envelope();
        throw;
    }
    return &buffer == &pending_ ? pending_.size() - raw_before : buffer.size() - envelope_start;
}

void FrameWriter::take(protocol::Bytes& out) {
    out.clear();
    out.swap(pending_);  // envelopes sent before segments were switched on come first
    encoder_.flush(out);
}

}  // namespace async_cassandra::net

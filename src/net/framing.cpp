#include "net/framing.hpp"

#include "protocol/segment.hpp"

namespace async_cassandra::net {

namespace {

/// Requests at least this large get a buffer reserved for them before they are encoded.
constexpr std::size_t kLargeRequest = 1u << 20;

/// At least the encoded size of `request`'s body (its text, values and parameters): with it a
/// large value is encoded into a buffer of the right size, instead of one that doubles while
/// it is written (which held the old and the new buffer at the moment it grew).
std::size_t encoded_size_bound(const protocol::Request& request) {
    std::size_t n = 64;  // consistency, flags, counts, page size, timestamps, body prefix
    const auto add_values = [&n](const std::vector<protocol::ValueView>& values) {
        for (const protocol::ValueView& v : values) n += 4 + v.bytes.size();
    };
    const auto add_params = [&](const protocol::QueryParameters& p) {
        add_values(p.values);
        for (std::string_view name : p.value_names) n += 2 + name.size();
        if (p.paging_state) n += 4 + p.paging_state->size();
        if (p.keyspace) n += 2 + p.keyspace->size();
    };
    if (const auto* q = std::get_if<protocol::QueryRequest>(&request)) {
        n += 4 + q->query.size();
        add_params(q->params);
    } else if (const auto* e = std::get_if<protocol::ExecuteRequest>(&request)) {
        n += 4 + e->id.size() + e->result_metadata_id.size();
        add_params(e->params);
    } else if (const auto* b = std::get_if<protocol::BatchRequest>(&request)) {
        for (const protocol::BatchStatement& st : b->statements) {
            n += 8 + st.query.size() + st.id.size();
            add_values(st.values);
        }
        if (b->keyspace) n += 2 + b->keyspace->size();
    }
    return n;
}

/// v5 headers and trailers FrameEncoder::flush adds around `bytes` of envelopes (at most two
/// segments per full segment's worth, plus the last ones), so that it frames them in place.
std::size_t segment_overhead(std::size_t bytes) {
    return (2 * (bytes / protocol::kMaxSegmentPayload) + 4) * (protocol::kLz4SegmentHeaderSize + protocol::kSegmentTrailerSize);
}

}  // namespace

std::size_t FrameWriter::append(std::int16_t stream, const protocol::Request& request, std::uint8_t flags) {
    protocol::FrameHeader header;
    header.version = static_cast<std::uint8_t>(version_);
    header.is_response = false;
    header.flags = flags;
    header.stream = stream;
    header.opcode = protocol::opcode_of(request);
    return encoder_.encode_in_place(pending_, header, [&](protocol::ByteWriter& w) {
        // Only when the request is large and at least as big as what is already buffered: the
        // copy a reserve makes is then bounded by the request itself (linear overall).
        protocol::Bytes& buffer = w.buffer();
        if (const std::size_t bound = encoded_size_bound(request); bound >= kLargeRequest && bound >= buffer.size()) {
            const std::size_t total = buffer.size() + bound;
            buffer.reserve(total + (encoder_.segments_enabled() ? segment_overhead(total) : 0));
        }
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

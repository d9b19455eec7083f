#include "protocol/segment.hpp"

#include "protocol/compression.hpp"
#include "protocol/crc.hpp"

#include <algorithm>
#include <string>

namespace async_cassandra::protocol {
namespace {

constexpr std::uint64_t kLengthMask = (1u << 17) - 1;

std::uint64_t load_le(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

void store_le(Bytes& out, std::uint64_t v, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void append_header(Bytes& out, std::uint64_t bits, std::size_t n) {
    const std::size_t at = out.size();
    store_le(out, bits, n);
    store_le(out, crc24(BytesView(out).subspan(at, n)), 3);
}

}  // namespace

SegmentHeader decode_segment_header(BytesView bytes, bool lz4) {
    const std::size_t n = lz4 ? 5 : 3;
    if (bytes.size() < n + 3) throw_truncated(n + 3, bytes.size());
    const std::uint64_t bits = load_le(bytes.data(), n);
    const auto sent_crc = static_cast<std::uint32_t>(load_le(bytes.data() + n, 3));
    const std::uint32_t computed = crc24(bytes.first(n));
    if (sent_crc != computed)
        throw ProtocolError(ProtocolErrc::bad_checksum, "segment header CRC24 " + std::to_string(sent_crc) +
                                                            ", computed " + std::to_string(computed));
    SegmentHeader h;
    h.payload_length = static_cast<std::uint32_t>(bits & kLengthMask);
    if (lz4) {
        h.uncompressed_length = static_cast<std::uint32_t>((bits >> 17) & kLengthMask);
        h.self_contained = ((bits >> 34) & 1) != 0;
    } else {
        h.self_contained = ((bits >> 17) & 1) != 0;
    }
    return h;
}

void encode_segment(Bytes& out, BytesView payload, bool self_contained, bool lz4) {
    if (payload.size() > kMaxSegmentPayload)
        throw ProtocolError(ProtocolErrc::invalid_length,
                            "segment payload of " + std::to_string(payload.size()) + " bytes");
    const std::uint64_t sc = self_contained ? 1 : 0;
    if (!lz4) {
        // No exact reserve here: a large envelope is cut into hundreds of segments appended to
        // one buffer, and growing it by exactly one segment each time copied the whole buffer
        // per segment (quadratic: a 50 MB value took minutes over v5). insert() grows it
        // geometrically; FrameEncoder::flush reserves the total once.
        append_header(out, payload.size() | (sc << 17), 3);
        out.insert(out.end(), payload.begin(), payload.end());
        store_le(out, segment_crc32(payload), 4);
        return;
    }
    // Compress straight into `out` after room for the header, then fill the header in.
    const std::size_t start = out.size();
    const std::size_t bound = lz4_max_compressed_size(payload.size());
    out.resize(start + kLz4SegmentHeaderSize + bound);
    std::size_t compressed = lz4_compress_block(payload, std::span<std::uint8_t>(out).subspan(start + kLz4SegmentHeaderSize));
    std::uint64_t uncompressed_field = payload.size();
    if (compressed >= payload.size()) {
        // Not worth it (spec 2.2: uncompressed length 0 = payload used as is).
        std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(start + kLz4SegmentHeaderSize));
        compressed = payload.size();
        uncompressed_field = 0;
    }
    out.resize(start + kLz4SegmentHeaderSize + compressed);
    Bytes header;
    append_header(header, compressed | (uncompressed_field << 17) | (sc << 34), 5);
    std::copy(header.begin(), header.end(), out.begin() + static_cast<std::ptrdiff_t>(start));
    store_le(out, segment_crc32(BytesView(out).subspan(start + kLz4SegmentHeaderSize, compressed)), 4);
}

void frame_segment_in_place(std::span<std::uint8_t> segment, std::size_t payload_size, bool self_contained) {
    if (payload_size > kMaxSegmentPayload || segment.size() != kSegmentHeaderSize + payload_size + kSegmentTrailerSize)
        throw ProtocolError(ProtocolErrc::invalid_length, "segment payload of " + std::to_string(payload_size) + " bytes");
    Bytes bits;  // header and trailer, built as encode_segment builds them
    append_header(bits, payload_size | (std::uint64_t{self_contained ? 1u : 0u} << 17), 3);
    store_le(bits, segment_crc32(segment.subspan(kSegmentHeaderSize, payload_size)), 4);
    std::copy(bits.begin(), bits.begin() + kSegmentHeaderSize, segment.begin());
    std::copy(bits.begin() + kSegmentHeaderSize, bits.end(), segment.end() - kSegmentTrailerSize);
}

std::optional<VerifiedSegment> verify_segment(BytesView in, bool lz4) {
    const std::size_t header_size = segment_header_size(lz4);
    if (in.size() < header_size) return std::nullopt;
    const SegmentHeader h = decode_segment_header(in, lz4);
    const std::size_t wire_size = header_size + h.payload_length + kSegmentTrailerSize;
    if (in.size() < wire_size) return std::nullopt;
    BytesView payload = in.subspan(header_size, h.payload_length);
    const auto sent_crc = static_cast<std::uint32_t>(load_le(in.data() + header_size + h.payload_length, 4));
    const std::uint32_t computed = segment_crc32(payload);
    if (sent_crc != computed)
        throw ProtocolError(ProtocolErrc::bad_checksum, "segment payload CRC32 " + std::to_string(sent_crc) +
                                                            ", computed " + std::to_string(computed));
    return VerifiedSegment{h, payload, wire_size};
}

std::optional<DecodedSegment> decode_segment(BytesView in, bool lz4, Bytes& scratch) {
    auto v = verify_segment(in, lz4);
    if (!v) return std::nullopt;
    DecodedSegment seg;
    seg.self_contained = v->header.self_contained;
    seg.wire_size = v->wire_size;
    if (v->header.uncompressed_length != 0) {
        scratch.resize(v->header.uncompressed_length);
        lz4_decompress_block(v->wire_payload, scratch);
        seg.payload = scratch;
    } else {
        seg.payload = v->wire_payload;
    }
    return seg;
}

}  // namespace async_cassandra::protocol

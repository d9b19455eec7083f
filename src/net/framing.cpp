#include "net/framing.hpp"

#include "protocol/segment.hpp"

#include <algorithm>

namespace async_cassandra::net {

using protocol::Bytes;
using protocol::BytesView;

void FrameReader::feed(BytesView data) {
    compact(in_, in_pos_);
    in_.insert(in_.end(), data.begin(), data.end());
}

void FrameReader::compact(Bytes& buf, std::size_t& pos) {
    if (pos == 0) return;
    if (pos == buf.size()) {
        buf.clear();
    } else if (pos > 65536 || pos * 2 > buf.size()) {
        buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(pos));
    } else {
        return;
    }
    pos = 0;
}

std::optional<Envelope> FrameReader::next_envelope(Bytes& buf, std::size_t& pos) {
    BytesView avail(buf.data() + pos, buf.size() - pos);
    if (avail.size() < protocol::kFrameHeaderSize) return std::nullopt;
    protocol::FrameHeader h = protocol::decode_frame_header(avail, max_body_);
    if (avail.size() < protocol::kFrameHeaderSize + h.body_length) return std::nullopt;
    BytesView body = avail.subspan(protocol::kFrameHeaderSize, h.body_length);
    auto out = std::make_shared<Bytes>();
    if ((h.flags & protocol::frame_flags::compression) && !framed_) {
        if (compression_ == protocol::Compression::none)
            throw ProtocolError(ProtocolErrc::compression, "compressed frame but no compression was negotiated");
        protocol::decompress_body(compression_, body, *out, max_body_);
    } else {
        out->assign(body.begin(), body.end());
    }
    h.flags &= static_cast<std::uint8_t>(~protocol::frame_flags::compression);
    h.body_length = static_cast<std::uint32_t>(out->size());
    pos += protocol::kFrameHeaderSize + body.size();
    return Envelope{h, std::move(out)};
}

std::optional<Envelope> FrameReader::next() {
    if (!framed_) return next_envelope(in_, in_pos_);
    for (;;) {
        if (auto e = next_envelope(env_, env_pos_)) {
            compact(env_, env_pos_);
            return e;
        }
        // Need more envelope bytes: decode the next segment.
        BytesView avail(in_.data() + in_pos_, in_.size() - in_pos_);
        auto seg = protocol::decode_segment(avail, lz4_, scratch_);
        if (!seg) return std::nullopt;
        compact(env_, env_pos_);
        env_.insert(env_.end(), seg->payload.begin(), seg->payload.end());
        in_pos_ += seg->wire_size;
        if (env_.size() - env_pos_ > std::size_t{max_body_} + protocol::kFrameHeaderSize)
            throw ProtocolError(ProtocolErrc::frame_too_large, "envelope spans too many segments");
    }
}

void FrameWriter::append(std::int16_t stream, const protocol::Request& request, std::uint8_t flags) {
    const std::size_t start = pending_.size();
    try {
        if (!framed_ && compression_ != protocol::Compression::none &&
            !std::holds_alternative<protocol::StartupRequest>(request) &&
            !std::holds_alternative<protocol::OptionsRequest>(request)) {
            scratch_.clear();
            protocol::encode_request_frame(scratch_, version_, stream, request, flags);
            BytesView body(scratch_.data() + protocol::kFrameHeaderSize,
                           scratch_.size() - protocol::kFrameHeaderSize);
            pending_.insert(pending_.end(), scratch_.begin(),
                            scratch_.begin() + static_cast<std::ptrdiff_t>(protocol::kFrameHeaderSize));
            protocol::compress_body(compression_, body, pending_);
            const std::size_t body_len = pending_.size() - start - protocol::kFrameHeaderSize;
            pending_[start + 1] |= protocol::frame_flags::compression;
            protocol::ByteWriter w(pending_);
            w.patch_i32(start + 5, static_cast<std::int32_t>(body_len));
        } else {
            protocol::encode_request_frame(pending_, version_, stream, request, flags);
        }
    } catch (...) {
        pending_.resize(start);
        throw;
    }
    ends_.push_back(pending_.size());
}

void FrameWriter::take(Bytes& out) {
    out.clear();
    if (!framed_) {
        out.swap(pending_);
        ends_.clear();
        return;
    }
    // Pack whole envelopes into self-contained segments; an envelope larger than one segment goes
    // alone into a run of non-self-contained segments.
    std::size_t begin = 0;  // first byte not yet emitted
    std::size_t i = 0;
    while (i < ends_.size()) {
        std::size_t end = begin;
        while (i < ends_.size() && ends_[i] - begin <= protocol::kMaxSegmentPayload) end = ends_[i++];
        if (end > begin) {
            protocol::encode_segment(out, BytesView(pending_.data() + begin, end - begin), true, lz4_);
            begin = end;
            continue;
        }
        // ends_[i] - begin > max: split one big envelope.
        end = ends_[i++];
        while (begin < end) {
            std::size_t n = std::min(protocol::kMaxSegmentPayload, end - begin);
            protocol::encode_segment(out, BytesView(pending_.data() + begin, n), false, lz4_);
            begin += n;
        }
    }
    pending_.clear();
    ends_.clear();
}

}  // namespace async_cassandra::net

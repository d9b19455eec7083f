#include "protocol/frame_codec.hpp"

#include "protocol/segment.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace async_cassandra::protocol {
namespace {

// Below this many missing body bytes, reading into the shared read buffer (which may also catch
// the following frames in the same read) beats a dedicated read into the body.
constexpr std::size_t kDirectReadThreshold = 16 * 1024;
// A direct read grows the body by at most this much (or by what is already there) at a time, so
// a peer announcing a huge body and then stalling does not make us commit the whole of it.
constexpr std::size_t kDirectReadStep = 1024 * 1024;
// A body decoded in place keeps the whole read buffer alive: only if the buffer is at most this
// many times the body's size.
constexpr std::size_t kMaxLentRatio = 8;

void check_segment_compression(Compression c) {
    if (c == Compression::snappy) throw UsageError("protocol v5 segments support only LZ4 compression");
}

}  // namespace

std::shared_ptr<Bytes> FrameDecoder::new_body(std::uint32_t length) {
    // Small bodies get a buffer of their own: a kept buffer would be pinned by a small Reply.
    if (length >= kDirectReadThreshold) return bodies_->take(length);
    auto body = std::make_shared<Bytes>();
    // Capacity only: pages are not touched until bytes arrive.
    body->reserve(length);
    return body;
}

// ---------------------------------------------------------------------------------------------
// FrameDecoder

FrameDecoder::FrameDecoder(std::uint32_t max_body_size)
    : max_body_size_(max_body_size), in_(std::make_shared<Bytes>()), bodies_(BufferPool::create()) {}

void FrameDecoder::set_compression(Compression c) { compression_ = c; }

void FrameDecoder::enable_segments(Compression c) {
    check_segment_compression(c);
    if (pending_header_) throw UsageError("enable_segments() while an unframed envelope is half received");
    segments_ = true;
    segment_lz4_ = c == Compression::lz4;
}

void FrameDecoder::ensure_free(std::size_t n) {
    Bytes& in = *in_;
    if (in.size() - wpos_ >= n) return;
    if (in_lent_) {
        // Envelopes view the bytes before rpos_: continue in another buffer, leave this one to them.
        const std::size_t unconsumed = wpos_ - rpos_;
        std::shared_ptr<Bytes> fresh = bodies_->take(std::max(in.size(), unconsumed + n));
        fresh->resize(std::max(in.size(), unconsumed + n));  // zero-fills only beyond a kept buffer's size
        if (unconsumed > 0) std::memcpy(fresh->data(), in.data() + rpos_, unconsumed);
        in_ = std::move(fresh);
        in_lent_ = false;
        rpos_ = 0;
        wpos_ = unconsumed;
        return;
    }
    // Move the unconsumed bytes to the front first; grow only if that is not enough.
    if (rpos_ > 0) {
        std::memmove(in.data(), in.data() + rpos_, wpos_ - rpos_);
        wpos_ -= rpos_;
        rpos_ = 0;
    }
    if (in.size() - wpos_ < n) in.resize(std::max(wpos_ + n, in.size() * 2));
}

std::span<std::uint8_t> FrameDecoder::prepare(std::size_t size_hint) {
    size_hint = std::max<std::size_t>(size_hint, 1);
    direct_ = false;
    if (!segments_ && pending_header_ && rpos_ == wpos_) {
        Bytes& body = *pending_body_;
        const std::size_t length = pending_header_->body_length;
        if (length - pending_filled_ >= kDirectReadThreshold) {
            // Within the reserved capacity: no reallocation. A reused buffer's stale bytes are
            // room already; it grows only when little of that is left.
            if (body.size() - pending_filled_ < kDirectReadThreshold)
                body.resize(std::min<std::size_t>(length, pending_filled_ + std::max(kDirectReadStep, pending_filled_)));
            direct_ = true;
            return std::span<std::uint8_t>(body).subspan(pending_filled_);
        }
    }
    if (rpos_ == wpos_ && !in_lent_) rpos_ = wpos_ = 0;  // cheap reset: no memmove needed later
    ensure_free(size_hint);
    return std::span<std::uint8_t>(*in_).subspan(wpos_);
}

void FrameDecoder::commit(std::size_t n) {
    if (direct_) {
        direct_ = false;
        if (n > pending_body_->size() - pending_filled_)
            throw UsageError("commit() of more bytes than prepare() offered");
        pending_filled_ += n;
        return;
    }
    if (n > in_->size() - wpos_) throw UsageError("commit() of more bytes than prepare() offered");
    wpos_ += n;
}

void FrameDecoder::feed(BytesView data) {
    while (!data.empty()) {
        auto span = prepare(data.size());
        const std::size_t n = std::min(span.size(), data.size());
        std::memcpy(span.data(), data.data(), n);
        commit(n);
        data = data.subspan(n);
    }
}

std::optional<Envelope> FrameDecoder::next() {
    if (direct_) commit(0);  // prepare() without commit(): nothing was read
    if (failed_) throw ProtocolError(ProtocolErrc::invalid_value, "the byte stream failed to decode earlier");
    try {
        return segments_ ? next_segmented() : next_raw();
    } catch (...) {
        failed_ = true;
        throw;
    }
}

bool FrameDecoder::worth_viewing_in_place(std::size_t body_size) const noexcept {
    return body_size >= kDirectReadThreshold && body_size * kMaxLentRatio >= in_->size();
}

Envelope FrameDecoder::finish(const FrameHeader& header, std::shared_ptr<Bytes> storage, BytesView body) {
    Envelope env{header, std::move(storage), body};
    if (env.header.flags & frame_flags::compression) {
        // v5 envelopes: the flag is deprecated and ignored (v5 spec 2.4.1.2); compression, if
        // any, happened at the segment level.
        // An empty body flagged as compressed holds nothing to decompress (servers flag even an
        // empty READY once compression is negotiated).
        if (env.header.version <= 4 && !segments_ && !env.body.empty()) {
            if (compression_ == Compression::none)
                throw ProtocolError(ProtocolErrc::compression, "compressed frame but no compression was negotiated");
            auto plain = std::make_shared<Bytes>();
            decompress_body(compression_, env.body, *plain, max_body_size_);
            env.body = *plain;
            env.storage = std::move(plain);
        }
        env.header.flags = static_cast<std::uint8_t>(env.header.flags & ~frame_flags::compression);
    }
    env.header.body_length = static_cast<std::uint32_t>(env.body.size());
    return env;
}

std::optional<Envelope> FrameDecoder::next_raw() {
    if (!pending_header_) {
        if (wpos_ - rpos_ < kFrameHeaderSize) return std::nullopt;
        FrameHeader h = decode_frame_header(BytesView(*in_).subspan(rpos_, kFrameHeaderSize), max_body_size_);
        rpos_ += kFrameHeaderSize;
        if (!(h.flags & frame_flags::compression) && wpos_ - rpos_ >= h.body_length && worth_viewing_in_place(h.body_length)) {
            // The whole body is already in the read buffer: view it there.
            const BytesView body(in_->data() + rpos_, h.body_length);
            rpos_ += h.body_length;
            in_lent_ = true;
            return finish(h, in_, body);
        }
        pending_body_ = new_body(h.body_length);
        pending_filled_ = 0;
        pending_header_ = h;
    }
    Bytes& body = *pending_body_;
    const std::size_t length = pending_header_->body_length;
    const std::size_t n = std::min(length - pending_filled_, wpos_ - rpos_);
    // Fill the room a direct read left unused first, then append.
    const std::uint8_t* src = in_->data() + rpos_;
    const std::size_t in_room = std::min(n, body.size() - pending_filled_);
    if (in_room > 0) std::memcpy(body.data() + pending_filled_, src, in_room);
    body.insert(body.end(), src + in_room, src + n);
    rpos_ += n;
    pending_filled_ += n;
    if (pending_filled_ < length) return std::nullopt;
    FrameHeader h = *pending_header_;
    pending_header_.reset();
    return finish(h, std::move(pending_body_), body);
}

std::optional<Envelope> FrameDecoder::next_segmented() {
    while (ready_.empty()) {
        auto seg = verify_segment(BytesView(*in_).subspan(rpos_, wpos_ - rpos_), segment_lz4_);
        if (!seg) return std::nullopt;
        rpos_ += seg->wire_size;
        const SegmentHeader& h = seg->header;
        if (h.uncompressed_length == 0) {
            take_segment_payload(seg->wire_payload, h.self_contained, true);
        } else if (!h.self_contained && pending_header_ &&
                   h.uncompressed_length <= pending_header_->body_length - pending_body_->size()) {
            // The middle or end of a split envelope: decompress straight into its body.
            Bytes& body = *pending_body_;
            const std::size_t at = body.size();
            body.resize(at + h.uncompressed_length);
            lz4_decompress_block(seg->wire_payload, std::span<std::uint8_t>(body).subspan(at));
            take_segment_payload({}, false, false);
        } else {
            scratch_.resize(h.uncompressed_length);
            lz4_decompress_block(seg->wire_payload, scratch_);
            take_segment_payload(scratch_, h.self_contained, false);
        }
    }
    Envelope env = std::move(ready_.front());
    ready_.pop_front();
    return env;
}

void FrameDecoder::take_segment_payload(BytesView payload, bool self_contained, bool in_read_buffer) {
    if (self_contained) {
        // v5 spec 2: a self-contained segment holds one or more complete envelopes.
        if (pending_header_ || split_header_filled_ > 0)
            throw ProtocolError(ProtocolErrc::invalid_value,
                                "self-contained segment in the middle of a split envelope");
        ByteReader in(payload);
        while (!in.empty()) {
            if (in.remaining() < kFrameHeaderSize)
                throw ProtocolError(ProtocolErrc::truncated, "envelope header cut by the end of a self-contained segment");
            FrameHeader h = decode_frame_header(in.take(kFrameHeaderSize), max_body_size_);
            if (in.remaining() < h.body_length)
                throw ProtocolError(ProtocolErrc::truncated, "envelope body cut by the end of a self-contained segment");
            BytesView body = in.take(h.body_length);
            if (in_read_buffer && worth_viewing_in_place(body.size())) {
                in_lent_ = true;
                ready_.push_back(finish(h, in_, body));
            } else {
                auto copy = std::make_shared<Bytes>(body.begin(), body.end());
                const BytesView view(*copy);
                ready_.push_back(finish(h, std::move(copy), view));
            }
        }
        return;
    }
    // A part of one large envelope: gather its header, then its body.
    if (!pending_header_) {
        const std::size_t n = std::min(kFrameHeaderSize - split_header_filled_, payload.size());
        if (n > 0) std::memcpy(split_header_ + split_header_filled_, payload.data(), n);
        split_header_filled_ += n;
        payload = payload.subspan(n);
        if (split_header_filled_ < kFrameHeaderSize) return;
        FrameHeader h = decode_frame_header(BytesView(split_header_, kFrameHeaderSize), max_body_size_);
        split_header_filled_ = 0;
        pending_body_ = new_body(h.body_length);
        pending_body_->clear();  // filled by appending: its size is what has arrived
        pending_header_ = h;
    }
    Bytes& body = *pending_body_;
    const std::size_t missing = pending_header_->body_length - body.size();
    if (payload.size() > missing)
        throw ProtocolError(ProtocolErrc::invalid_value,
                            "non-self-contained segment carries bytes past the end of its envelope");
    body.insert(body.end(), payload.begin(), payload.end());
    if (body.size() < pending_header_->body_length) return;
    FrameHeader h = *pending_header_;
    pending_header_.reset();
    ready_.push_back(finish(h, std::move(pending_body_), body));
}

// ---------------------------------------------------------------------------------------------
// FrameEncoder

FrameEncoder::FrameEncoder(std::uint32_t max_body_size) : max_body_size_(max_body_size) {}

void FrameEncoder::set_compression(Compression c) { compression_ = c; }

void FrameEncoder::enable_segments(Compression c) {
    check_segment_compression(c);
    if (current_) throw UsageError("enable_segments() with an envelope open");
    segments_ = true;
    segment_lz4_ = c == Compression::lz4;
}

Bytes& FrameEncoder::begin_envelope(Bytes& out, const FrameHeader& header) {
    if (current_) throw UsageError("begin_envelope() with an envelope already open");
    Bytes& target = segments_ ? pending_ : out;
    FrameHeader h = header;
    // The encoder owns the compression flag: set in end_envelope() when the body is compressed.
    h.flags = static_cast<std::uint8_t>(h.flags & ~frame_flags::compression);
    h.body_length = 0;
    current_start_ = target.size();
    ByteWriter w(target);
    encode_frame_header(w, h);
    // v4 spec 5: STARTUP is never compressed (it negotiates the compression); v5 compresses
    // segments, not envelopes.
    current_compress_ = !segments_ && compression_ != Compression::none && header.version <= 4 &&
                        header.opcode != Opcode::startup;
    current_ = &target;
    return target;
}

void FrameEncoder::end_envelope() {
    if (!current_) throw UsageError("end_envelope() without begin_envelope()");
    Bytes& target = *current_;
    const std::size_t body_start = current_start_ + kFrameHeaderSize;
    std::size_t body_size = target.size() - body_start;
    if (body_size > max_body_size_) {
        const std::size_t size = body_size;
        abort_envelope();
        throw ProtocolError(ProtocolErrc::frame_too_large,
                            "body of " + std::to_string(size) + " bytes exceeds the limit of " +
                                std::to_string(max_body_size_));
    }
    if (current_compress_ && body_size > 0) {
        scratch_.clear();
        compress_body(compression_, BytesView(target).subspan(body_start), scratch_);
        target.resize(body_start);
        target.insert(target.end(), scratch_.begin(), scratch_.end());
        target[current_start_ + 1] |= frame_flags::compression;
        body_size = scratch_.size();
    }
    const auto len = static_cast<std::uint32_t>(body_size);
    target[current_start_ + 5] = static_cast<std::uint8_t>(len >> 24);
    target[current_start_ + 6] = static_cast<std::uint8_t>(len >> 16);
    target[current_start_ + 7] = static_cast<std::uint8_t>(len >> 8);
    target[current_start_ + 8] = static_cast<std::uint8_t>(len);
    if (segments_) pending_ends_.push_back(target.size());
    current_ = nullptr;
}

void FrameEncoder::abort_envelope() noexcept {
    if (!current_) return;
    current_->resize(current_start_);
    current_ = nullptr;
}

void FrameEncoder::encode(Bytes& out, const FrameHeader& header, BytesView body) {
    Bytes& b = begin_envelope(out, header);
    b.insert(b.end(), body.begin(), body.end());
    end_envelope();
}

void FrameEncoder::flush(Bytes& out) {
    if (!segments_ || pending_ends_.empty()) return;
    if (current_ == &pending_) throw UsageError("flush() with an envelope open");
    // The segments' payloads, in order: whole small envelopes gathered into self-contained
    // segments, a large one cut into pieces.
    struct Piece {
        std::size_t start, size;
        bool self_contained;
    };
    std::vector<Piece> pieces;
    std::size_t seg_start = 0;  // start of the self-contained run being gathered
    std::size_t env_start = 0;
    for (std::size_t env_end : pending_ends_) {
        const std::size_t size = env_end - env_start;
        if (size > kMaxSegmentPayload) {
            // Too big for one segment: close the run, then cut this one into pieces.
            if (env_start > seg_start) pieces.push_back({seg_start, env_start - seg_start, true});
            for (std::size_t at = env_start; at < env_end; at += kMaxSegmentPayload)
                pieces.push_back({at, std::min(kMaxSegmentPayload, env_end - at), false});
            seg_start = env_end;
        } else if (env_end - seg_start > kMaxSegmentPayload) {
            pieces.push_back({seg_start, env_start - seg_start, true});
            seg_start = env_start;
        }
        env_start = env_end;
    }
    if (env_start > seg_start) pieces.push_back({seg_start, env_start - seg_start, true});
    pending_ends_.clear();

    constexpr std::size_t kPlainOverhead = kSegmentHeaderSize + kSegmentTrailerSize;
    if (!segment_lz4_ && out.empty()) {
        // Framed inside the envelopes' own buffer, last segment first (each payload moves
        // towards the end by the headers and trailers before it): a 50 MB request is then held
        // once, not once as envelopes and once as segments.
        out.swap(pending_);
        out.resize(out.size() + pieces.size() * kPlainOverhead);
        for (std::size_t i = pieces.size(); i-- > 0;) {
            const Piece& p = pieces[i];
            const std::size_t at = p.start + i * kPlainOverhead;
            std::memmove(out.data() + at + kSegmentHeaderSize, out.data() + p.start, p.size);
            frame_segment_in_place(std::span<std::uint8_t>(out).subspan(at, p.size + kPlainOverhead), p.size,
                                   p.self_contained);
        }
        return;
    }
    const BytesView all(pending_);
    // Room for every segment at once (payload + header and trailer per segment, LZ4 aside).
    out.reserve(out.size() + pending_.size() + pieces.size() * (kLz4SegmentHeaderSize + kSegmentTrailerSize));
    for (const Piece& p : pieces) encode_segment(out, all.subspan(p.start, p.size), p.self_contained, segment_lz4_);
    pending_.clear();
}

}  // namespace async_cassandra::protocol

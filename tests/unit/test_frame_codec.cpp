// The sans-I/O frame codec: v4 frames (native_protocol_v4.spec sections 2 and 5) and v5 segment
// framing around envelopes (native_protocol_v5.spec sections 2.1-2.4).
#include "protocol/buffer_pool.hpp"
#include "protocol/crc.hpp"
#include "protocol/frame_codec.hpp"
#include "protocol/segment.hpp"
#include "support/protocol_errc.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace async_cassandra;
using namespace async_cassandra::protocol;

namespace {

enum class Mode { v4_raw, v4_lz4, v4_snappy, v5_plain, v5_lz4 };

const char* name(Mode m) {
    switch (m) {
        case Mode::v4_raw: return "v4_raw";
        case Mode::v4_lz4: return "v4_lz4";
        case Mode::v4_snappy: return "v4_snappy";
        case Mode::v5_plain: return "v5_plain";
        case Mode::v5_lz4: return "v5_lz4";
    }
    return "?";
}

constexpr Mode kAllModes[] = {Mode::v4_raw, Mode::v4_lz4, Mode::v4_snappy, Mode::v5_plain, Mode::v5_lz4};

Bytes bytes_of(const Envelope& e) { return Bytes(e.body.begin(), e.body.end()); }

bool is_v5(Mode m) { return m == Mode::v5_plain || m == Mode::v5_lz4; }

void configure(Mode m, FrameEncoder& enc, FrameDecoder& dec) {
    switch (m) {
        case Mode::v4_raw: break;
        case Mode::v4_lz4: enc.set_compression(Compression::lz4); dec.set_compression(Compression::lz4); break;
        case Mode::v4_snappy: enc.set_compression(Compression::snappy); dec.set_compression(Compression::snappy); break;
        case Mode::v5_plain: enc.enable_segments(Compression::none); dec.enable_segments(Compression::none); break;
        case Mode::v5_lz4: enc.enable_segments(Compression::lz4); dec.enable_segments(Compression::lz4); break;
    }
}

Bytes body_of(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    Bytes b(n);
    // Half random, half repetitive: compressible, but not trivially.
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i / 64) % 2 ? rng() : i % 13);
    return b;
}

struct Expected {
    FrameHeader header;
    Bytes body;
};

FrameHeader header_for(Mode m, std::int16_t stream, Opcode op = Opcode::result, std::uint8_t flags = 0) {
    FrameHeader h;
    h.version = is_v5(m) ? 5 : 4;
    h.is_response = true;
    h.flags = flags;
    h.stream = stream;
    h.opcode = op;
    return h;
}

std::vector<Expected> make_envelopes(Mode m, const std::vector<std::size_t>& sizes) {
    std::vector<Expected> out;
    std::int16_t stream = 0;
    for (std::size_t n : sizes) {
        Expected e{header_for(m, stream, Opcode::result, stream % 3 == 0 ? frame_flags::warning : 0),
                   body_of(n, static_cast<unsigned>(n + static_cast<std::size_t>(stream)))};
        e.header.body_length = static_cast<std::uint32_t>(n);
        out.push_back(std::move(e));
        ++stream;
    }
    return out;
}

Bytes encode_all(Mode m, const std::vector<Expected>& envs) {
    FrameEncoder enc;
    FrameDecoder unused;
    configure(m, enc, unused);
    Bytes wire;
    for (const auto& e : envs) enc.encode(wire, e.header, e.body);
    enc.flush(wire);
    return wire;
}

void expect_same(const std::vector<Envelope>& got, const std::vector<Expected>& want, const std::string& ctx) {
    ASSERT_EQ(got.size(), want.size()) << ctx;
    for (std::size_t i = 0; i < got.size(); ++i) {
        const FrameHeader& g = got[i].header;
        const FrameHeader& w = want[i].header;
        EXPECT_EQ(g.version, w.version) << ctx << " #" << i;
        EXPECT_EQ(g.is_response, w.is_response) << ctx << " #" << i;
        EXPECT_EQ(g.flags, w.flags) << ctx << " #" << i;  // compression flag cleared
        EXPECT_EQ(g.stream, w.stream) << ctx << " #" << i;
        EXPECT_EQ(g.opcode, w.opcode) << ctx << " #" << i;
        EXPECT_EQ(g.body_length, want[i].body.size()) << ctx << " #" << i;
        ASSERT_TRUE(got[i].storage) << ctx << " #" << i;
        EXPECT_TRUE(std::ranges::equal(got[i].body, want[i].body)) << ctx << " #" << i << " body differs";
    }
}

// Feeds `wire` in chunks of the sizes produced by `chunk` (via feed or via prepare/commit), draining
// envelopes after each chunk, as a socket read loop does.
template <class Chunk>
std::vector<Envelope> decode_chunked(Mode m, BytesView wire, Chunk chunk, bool use_prepare, std::uint32_t max = kDefaultMaxBodySize) {
    FrameEncoder unused;
    FrameDecoder dec(max);
    configure(m, unused, dec);
    std::vector<Envelope> out;
    while (!wire.empty()) {
        std::size_t n = std::min<std::size_t>(std::max<std::size_t>(chunk(), 1), wire.size());
        if (use_prepare) {
            auto span = dec.prepare(n);
            EXPECT_FALSE(span.empty());
            n = std::min(n, span.size());
            std::memcpy(span.data(), wire.data(), n);
            dec.commit(n);
        } else {
            dec.feed(wire.first(n));
        }
        wire = wire.subspan(n);
        while (auto e = dec.next()) out.push_back(std::move(*e));
    }
    EXPECT_EQ(dec.buffered(), 0u);
    return out;
}

std::vector<Envelope> decode_all(Mode m, BytesView wire) {
    return decode_chunked(m, wire, [&] { return wire.size(); }, false);
}

using acass_test::error_of;

std::uint64_t load_le(BytesView b, std::size_t at, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = (v << 8) | b[at + i];
    return v;
}

struct SegmentInfo {
    bool self_contained;
    std::size_t payload_size;  // uncompressed
};

std::vector<SegmentInfo> segments_of(BytesView wire, bool lz4) {
    std::vector<SegmentInfo> out;
    Bytes scratch;
    while (!wire.empty()) {
        auto seg = decode_segment(wire, lz4, scratch);
        if (!seg) {
            ADD_FAILURE() << "incomplete segment";
            break;
        }
        out.push_back({seg->self_contained, seg->payload.size()});
        wire = wire.subspan(seg->wire_size);
    }
    return out;
}

// 9 = envelope header; 131062 + 9 = exactly one full segment payload.
const std::vector<std::size_t> kMixedSizes{0, 1, 100, 5000, 131062, 131063, 12, 300000, 7, 1000000, 3};

}  // namespace

TEST(FrameCodecRoundTrip, EveryModeInOneRead) {
    for (Mode m : kAllModes) {
        auto envs = make_envelopes(m, kMixedSizes);
        Bytes wire = encode_all(m, envs);
        expect_same(decode_all(m, wire), envs, name(m));
    }
}

TEST(FrameCodecRoundTrip, EveryModeRandomChunksViaPrepareCommit) {
    std::mt19937 rng(7);
    for (Mode m : kAllModes) {
        auto envs = make_envelopes(m, kMixedSizes);
        Bytes wire = encode_all(m, envs);
        for (std::size_t max_chunk : {std::size_t{3}, std::size_t{1000}, std::size_t{70000}}) {
            auto got = decode_chunked(m, wire, [&] { return rng() % max_chunk + 1; }, true);
            expect_same(got, envs, std::string(name(m)) + " chunk<=" + std::to_string(max_chunk));
        }
    }
}

TEST(FrameCodecRoundTrip, OneByteAtATime) {
    for (Mode m : kAllModes) {
        auto envs = make_envelopes(m, {0, 20, 131063, 4, 140000, 1});
        Bytes wire = encode_all(m, envs);
        expect_same(decode_chunked(m, wire, [] { return 1; }, false), envs, std::string(name(m)) + " feed");
        expect_same(decode_chunked(m, wire, [] { return 1; }, true), envs, std::string(name(m)) + " prepare");
    }
}

// A stream cut in two at every byte boundary.
TEST(FrameCodecRoundTrip, SplitAtEveryBoundary) {
    for (Mode m : kAllModes) {
        auto envs = make_envelopes(m, {0, 30, 2, 77, 0, 150});
        Bytes wire = encode_all(m, envs);
        for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
            std::size_t calls = 0;
            auto got = decode_chunked(m, wire, [&] { return calls++ == 0 ? cut : wire.size(); }, (cut % 2) == 0);
            expect_same(got, envs, std::string(name(m)) + " cut " + std::to_string(cut));
            if (HasFailure()) return;
        }
    }
}

// v5 spec 2: several small envelopes travel together in one self-contained segment.
TEST(FrameCodecSegments, SmallEnvelopesShareOneSelfContainedSegment) {
    for (Mode m : {Mode::v5_plain, Mode::v5_lz4}) {
        auto envs = make_envelopes(m, {10, 0, 200, 3000});
        Bytes wire = encode_all(m, envs);
        auto segs = segments_of(wire, m == Mode::v5_lz4);
        ASSERT_EQ(segs.size(), 1u) << name(m);
        EXPECT_TRUE(segs[0].self_contained);
        EXPECT_EQ(segs[0].payload_size, 4 * 9 + 10 + 200 + 3000u);
        expect_same(decode_all(m, wire), envs, name(m));
    }
}

// v5 spec 2: a large envelope is split across non-self-contained segments; whole envelopes
// before and after it stay in self-contained ones; a run that would overflow starts a new segment.
TEST(FrameCodecSegments, LargeEnvelopeIsSplitAndNeighboursPacked) {
    auto envs = make_envelopes(Mode::v5_plain, {10, 20, 300000, 100000, 100000});
    Bytes wire = encode_all(Mode::v5_plain, envs);
    auto segs = segments_of(wire, false);
    ASSERT_EQ(segs.size(), 6u);
    EXPECT_TRUE(segs[0].self_contained);
    EXPECT_EQ(segs[0].payload_size, 2 * 9 + 30u);
    EXPECT_FALSE(segs[1].self_contained);
    EXPECT_EQ(segs[1].payload_size, kMaxSegmentPayload);
    EXPECT_FALSE(segs[2].self_contained);
    EXPECT_EQ(segs[2].payload_size, kMaxSegmentPayload);
    EXPECT_FALSE(segs[3].self_contained);
    EXPECT_EQ(segs[3].payload_size, 300009 - 2 * kMaxSegmentPayload);
    EXPECT_TRUE(segs[4].self_contained);
    EXPECT_EQ(segs[4].payload_size, 100009u);
    EXPECT_TRUE(segs[5].self_contained);
    EXPECT_EQ(segs[5].payload_size, 100009u);
    expect_same(decode_all(Mode::v5_plain, wire), envs, "split");
}

// flush() frames plain segments inside the envelopes' buffer when the output is empty (a large
// request is held once) and appends them when it is not: both give the same bytes.
TEST(FrameCodecSegments, InPlaceFramingMatchesAppendedFraming) {
    auto envs = make_envelopes(Mode::v5_plain, {10, 20, 300000, 100000, 0, 131062, 5});
    const Bytes in_place = encode_all(Mode::v5_plain, envs);
    FrameEncoder enc;
    enc.enable_segments(Compression::none);
    Bytes appended{1, 2, 3};
    for (const auto& e : envs) enc.encode(appended, e.header, e.body);
    enc.flush(appended);
    ASSERT_EQ(appended.size(), in_place.size() + 3);
    EXPECT_TRUE(std::equal(in_place.begin(), in_place.end(), appended.begin() + 3));
    expect_same(decode_all(Mode::v5_plain, in_place), envs, "in place");
    // The encoder is reusable after an in-place flush.
    Bytes again;
    for (const auto& e : envs) enc.encode(again, e.header, e.body);
    enc.flush(again);
    EXPECT_EQ(again, in_place);
}

TEST(FrameCodecSegments, EnvelopeFillingExactlyOneSegmentIsSelfContained) {
    auto envs = make_envelopes(Mode::v5_plain, {kMaxSegmentPayload - 9});
    auto segs = segments_of(encode_all(Mode::v5_plain, envs), false);
    ASSERT_EQ(segs.size(), 1u);
    EXPECT_TRUE(segs[0].self_contained);
    auto envs2 = make_envelopes(Mode::v5_plain, {kMaxSegmentPayload - 8});
    auto segs2 = segments_of(encode_all(Mode::v5_plain, envs2), false);
    ASSERT_EQ(segs2.size(), 2u);
    EXPECT_FALSE(segs2[0].self_contained);
    EXPECT_EQ(segs2[1].payload_size, 1u);
}

// v5 spec 2.3.1: the handshake is unframed, framing starts right after READY. Bytes of the first
// framed envelopes may arrive in the same read as READY.
TEST(FrameCodecSegments, HandshakeThenFramedInSameRead) {
    for (Compression c : {Compression::none, Compression::lz4}) {
        FrameEncoder server;
        Bytes wire;
        FrameHeader supported = header_for(Mode::v5_plain, 0, Opcode::supported);
        const Bytes supported_body = body_of(50, 1);
        server.encode(wire, supported, supported_body);
        server.encode(wire, header_for(Mode::v5_plain, 1, Opcode::ready), {});
        server.enable_segments(c);
        const Bytes rows = body_of(400000, 2);
        server.encode(wire, header_for(Mode::v5_plain, 2, Opcode::result), rows);
        server.encode(wire, header_for(Mode::v5_plain, -1, Opcode::event), Bytes{1, 2, 3});
        server.flush(wire);
        // The unframed part really is unframed: the wire starts with an envelope header.
        EXPECT_EQ(wire[0], 0x85);
        EXPECT_EQ(wire[4], static_cast<std::uint8_t>(Opcode::supported));

        FrameDecoder client;
        client.feed(wire);
        auto e1 = client.next();
        ASSERT_TRUE(e1);
        EXPECT_EQ(e1->header.opcode, Opcode::supported);
        EXPECT_EQ(bytes_of(*e1), supported_body);
        auto e2 = client.next();
        ASSERT_TRUE(e2);
        EXPECT_EQ(e2->header.opcode, Opcode::ready);
        client.enable_segments(c);
        auto e3 = client.next();
        ASSERT_TRUE(e3);
        EXPECT_EQ(e3->header.opcode, Opcode::result);
        EXPECT_EQ(bytes_of(*e3), rows);
        auto e4 = client.next();
        ASSERT_TRUE(e4);
        EXPECT_EQ(e4->header.stream, -1);
        EXPECT_FALSE(client.next());
    }
}

// Spec 5 (v4): flag 0x01 marks a compressed body; the decoder hands out the plain body with the
// flag cleared and body_length = plain size. STARTUP and empty bodies are never compressed.
TEST(FrameCodecV4Compression, FlagAndExemptions) {
    FrameEncoder enc;
    enc.set_compression(Compression::lz4);
    Bytes wire;
    FrameHeader startup = header_for(Mode::v4_raw, 0, Opcode::startup);
    startup.is_response = false;
    const Bytes big(10000, 'x');
    enc.encode(wire, startup, big);
    EXPECT_EQ(wire[1] & frame_flags::compression, 0);
    EXPECT_EQ(wire.size(), 9 + big.size());
    const std::size_t second = wire.size();
    enc.encode(wire, header_for(Mode::v4_raw, 1, Opcode::ready), {});
    EXPECT_EQ(wire[second + 1] & frame_flags::compression, 0);
    const std::size_t third = wire.size();
    enc.encode(wire, header_for(Mode::v4_raw, 2, Opcode::result, frame_flags::tracing), big);
    EXPECT_EQ(wire[third + 1], frame_flags::compression | frame_flags::tracing);
    EXPECT_LT(wire.size() - third, 9 + big.size());

    FrameDecoder dec;
    dec.set_compression(Compression::lz4);
    dec.feed(wire);
    auto a = dec.next();
    auto b = dec.next();
    auto c = dec.next();
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(bytes_of(*a), big);
    EXPECT_TRUE(b->body.empty());
    EXPECT_EQ(c->header.flags, frame_flags::tracing);
    EXPECT_EQ(c->header.body_length, big.size());
    EXPECT_EQ(bytes_of(*c), big);
}

TEST(FrameCodecV4Compression, CompressedFrameWithoutNegotiationIsAnError) {
    FrameEncoder enc;
    enc.set_compression(Compression::snappy);
    Bytes wire;
    enc.encode(wire, header_for(Mode::v4_raw, 1), Bytes(100, 'y'));
    FrameDecoder dec;
    dec.feed(wire);
    EXPECT_EQ(error_of([&] { dec.next(); }), ProtocolErrc::compression);
}

// v5 spec 2.4.1.2: in v5 the envelope compression flag is deprecated and ignored.
TEST(FrameCodecSegments, V5CompressionFlagIsIgnored) {
    Bytes payload;
    ByteWriter w(payload);
    encode_frame_header(w, FrameHeader{5, true, frame_flags::compression, 3, Opcode::result, 2});
    w.write_u8(0xAB);
    w.write_u8(0xCD);
    Bytes wire;
    encode_segment(wire, payload, true, false);
    FrameDecoder dec;
    dec.enable_segments(Compression::none);
    dec.feed(wire);
    auto e = dec.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->header.flags, 0);
    EXPECT_EQ(bytes_of(*e), (Bytes{0xAB, 0xCD}));
}

// Zero copy: a large uncompressed v4 body is read by the "socket" straight into the envelope's
// buffer: the pointer prepare() hands out lies inside the body the envelope finally carries.
TEST(FrameCodecZeroCopy, LargeV4BodyIsReadInPlace) {
    const Bytes body = body_of(3 * 1024 * 1024, 9);
    FrameEncoder enc;
    Bytes wire;
    enc.encode(wire, header_for(Mode::v4_raw, 5), body);
    FrameDecoder dec;
    BytesView rest(wire);
    std::vector<const std::uint8_t*> spans;
    std::optional<Envelope> env;
    while (!rest.empty() && !env) {
        auto span = dec.prepare(4096);
        spans.push_back(span.data());
        std::size_t n = std::min({span.size(), rest.size(), std::size_t{100000}});
        std::memcpy(span.data(), rest.data(), n);
        dec.commit(n);
        rest = rest.subspan(n);
        env = dec.next();
    }
    ASSERT_TRUE(env);
    EXPECT_EQ(bytes_of(*env), body);
    const std::uint8_t* begin = env->body.data();
    const std::uint8_t* end = begin + env->body.size();
    std::size_t in_place = 0;
    for (const auto* p : spans) in_place += (p >= begin && p < end) ? 1 : 0;
    EXPECT_GT(in_place, spans.size() / 2) << "body was not read in place";
}

namespace {
/// Decodes the one v4 envelope of `wire` through prepare/commit, 100,000 bytes per read at most.
Envelope decode_one_v4(FrameDecoder& dec, BytesView wire) {
    std::optional<Envelope> env;
    while (!wire.empty() && !env) {
        auto span = dec.prepare();
        const std::size_t n = std::min({span.size(), wire.size(), std::size_t{100000}});
        std::memcpy(span.data(), wire.data(), n);
        dec.commit(n);
        wire = wire.subspan(n);
        env = dec.next();
    }
    EXPECT_TRUE(env && wire.empty());
    return env ? std::move(*env) : Envelope{};
}

Bytes v4_wire(const Bytes& body) {
    FrameEncoder enc;
    Bytes wire;
    enc.encode(wire, header_for(Mode::v4_raw, 5), body);
    return wire;
}
}  // namespace

// A large body's buffer is reused once nothing shares it (no zero-fill of a new buffer), never
// while a page still holds it, and a shorter body in a reused buffer shows none of its stale bytes.
TEST(FrameCodecZeroCopy, ReleasedBodyBufferIsReusedHeldOneIsNot) {
    const Bytes a = body_of(300000, 1), b = body_of(300000, 2), c = body_of(300000, 3), d = body_of(250000, 4);
    FrameDecoder dec;
    Envelope held = decode_one_v4(dec, v4_wire(a));
    Envelope second = decode_one_v4(dec, v4_wire(b));
    EXPECT_NE(second.body.data(), held.body.data());
    EXPECT_EQ(bytes_of(held), a);
    EXPECT_EQ(bytes_of(second), b);
    const std::uint8_t* released = second.body.data();
    second = Envelope{};
    Envelope third = decode_one_v4(dec, v4_wire(c));
    EXPECT_EQ(third.body.data(), released) << "the released buffer was not reused";
    EXPECT_EQ(bytes_of(third), c);
    EXPECT_EQ(bytes_of(held), a) << "a held body was overwritten";
    third = Envelope{};
    Envelope shorter = decode_one_v4(dec, v4_wire(d));
    EXPECT_EQ(shorter.body.data(), released);
    EXPECT_EQ(shorter.header.body_length, d.size());
    EXPECT_EQ(bytes_of(shorter), d);
}

// A large envelope that arrived whole in the read buffer (v4, or v5 in one self-contained segment)
// is viewed there (no copy), and the decoder never writes over it while it is held: it continues
// in another buffer. A small envelope is copied (it must not pin the read buffer).
TEST(FrameCodecZeroCopy, LargeEnvelopeWholeInTheReadBufferIsViewedInPlaceAndKeptIntact) {
    for (const Mode mode : {Mode::v5_plain, Mode::v4_raw}) {
        // v4 in 64 KiB reads takes the direct-read path instead (LargeV4BodyIsReadInPlace).
        for (const bool one_read : {false, true}) {
            if (mode == Mode::v4_raw && !one_read) continue;
            const std::string ctx = std::string(name(mode)) + (one_read ? ", one read" : ", 64 KiB reads");
            const auto want = make_envelopes(mode, {60000, 60000, 100, 60000, 100, 70000, 60000});
            const Bytes wire = encode_all(mode, want);
            const auto got = one_read ? decode_all(mode, wire) : decode_chunked(mode, wire, [] { return 65536; }, true);
            expect_same(got, want, ctx);  // all held until now
            ASSERT_EQ(got.size(), want.size());
            for (std::size_t i = 0; i < got.size(); ++i) {
                const Bytes& storage = *got[i].storage;
                const bool inside = got[i].body.data() >= storage.data() &&
                                    got[i].body.data() + got[i].body.size() <= storage.data() + storage.size();
                EXPECT_TRUE(inside) << ctx << " #" << i;
                if (want[i].body.size() >= 60000)
                    EXPECT_GT(storage.size(), got[i].body.size()) << ctx << " #" << i << ": copied, not in place";
                else
                    EXPECT_EQ(storage.size(), got[i].body.size()) << ctx << " #" << i << ": a small envelope pins the read buffer";
            }
        }
    }
}

TEST(BufferPoolTest, KeepsBoundedIdleBuffersAndNeverPinsALargeOneForASmallBody) {
    auto pool = BufferPool::create(2, 1u << 20);
    {
        auto small = pool->take(20000);
        small->resize(20000);
        auto third = pool->take(20000);
        auto big = pool->take(600000);
        big->resize(600000);
    }  // released big first, then third, then small (one too many: freed)
    EXPECT_EQ(pool->idle(), 2u) << "at most max_kept idle buffers";
    auto small = pool->take(20000);
    EXPECT_LT(small->capacity(), 600000u) << "a 20 kB body must not take the 600 kB buffer";
    EXPECT_LE(small->size(), 20000u);
    auto big = pool->take(500000);
    EXPECT_GE(big->capacity(), 600000u) << "the kept large buffer serves a body of about its size";
    EXPECT_EQ(big->size(), 500000u) << "shrunk to the body, stale bytes to overwrite";
    // A buffer released after its pool is gone is simply freed (checked under ASan).
    pool.reset();
    big.reset();
}

// ----- bad input -----

TEST(FrameCodecErrors, CorruptedSegmentCrcAndPoisonedDecoder) {
    for (Mode m : {Mode::v5_plain, Mode::v5_lz4}) {
        auto envs = make_envelopes(m, {100, 200});
        Bytes wire = encode_all(m, envs);
        for (std::size_t at : {std::size_t{0}, std::size_t{6}, std::size_t{20}, wire.size() - 1}) {
            Bytes bad = wire;
            bad[at] ^= 0x40;
            FrameDecoder dec;
            dec.enable_segments(m == Mode::v5_lz4 ? Compression::lz4 : Compression::none);
            dec.feed(bad);
            EXPECT_EQ(error_of([&] { dec.next(); }), ProtocolErrc::bad_checksum) << name(m) << " byte " << at;
            // The stream is not trustworthy anymore: every later call fails too.
            EXPECT_THROW(dec.next(), ProtocolError);
        }
    }
}

TEST(FrameCodecErrors, SelfContainedSegmentWithCutEnvelope) {
    Bytes payload;
    ByteWriter w(payload);
    encode_frame_header(w, FrameHeader{5, true, 0, 1, Opcode::result, 10});  // says 10 bytes
    w.write_u32(0);                                                          // only 4
    for (std::size_t cut : {payload.size(), std::size_t{5}}) {
        Bytes wire;
        encode_segment(wire, BytesView(payload).first(cut), true, false);
        FrameDecoder dec;
        dec.enable_segments(Compression::none);
        dec.feed(wire);
        EXPECT_EQ(error_of([&] { dec.next(); }), ProtocolErrc::truncated) << cut;
    }
}

TEST(FrameCodecErrors, SplitEnvelopeWithExtraBytesOrInterruptedBySelfContained) {
    Bytes env;
    ByteWriter w(env);
    encode_frame_header(w, FrameHeader{5, true, 0, 1, Opcode::result, 4});
    w.write_u32(7);
    {
        Bytes with_extra = env;
        with_extra.push_back(0x99);
        Bytes wire;
        encode_segment(wire, with_extra, false, false);
        FrameDecoder dec;
        dec.enable_segments(Compression::none);
        dec.feed(wire);
        EXPECT_EQ(error_of([&] { dec.next(); }), ProtocolErrc::invalid_value);
    }
    {
        Bytes wire;
        encode_segment(wire, BytesView(env).first(5), false, false);
        encode_segment(wire, env, true, false);
        FrameDecoder dec;
        dec.enable_segments(Compression::none);
        dec.feed(wire);
        EXPECT_EQ(error_of([&] { dec.next(); }), ProtocolErrc::invalid_value);
    }
    {
        // The same first half followed by the right second half is fine.
        Bytes wire;
        encode_segment(wire, BytesView(env).first(5), false, false);
        encode_segment(wire, BytesView(env).subspan(5), false, false);
        FrameDecoder dec;
        dec.enable_segments(Compression::none);
        dec.feed(wire);
        auto e = dec.next();
        ASSERT_TRUE(e);
        EXPECT_EQ(bytes_of(*e), (Bytes{0, 0, 0, 7}));
    }
}

// Oversized bodies are refused from the header alone, before the body arrives.
TEST(FrameCodecErrors, OversizedBodyRejectedFromHeader) {
    for (Mode m : kAllModes) {
        auto envs = make_envelopes(m, {1001});
        Bytes wire = encode_all(m, envs);
        FrameEncoder unused;
        FrameDecoder dec(1000);
        configure(m, unused, dec);
        // v4 raw: the 9-byte header alone is enough. v4 compressed: the header gives the compressed
        // size, so the check happens on the declared plain size. v5: the segment must be verified.
        std::size_t prefix = m == Mode::v4_raw ? 9 : wire.size();
        dec.feed(BytesView(wire).first(prefix));
        EXPECT_EQ(error_of([&] { dec.next(); }), ProtocolErrc::frame_too_large) << name(m);
    }
}

// A compression bomb: a small compressed v4 body expanding past the limit.
TEST(FrameCodecErrors, CompressionBombRefused) {
    for (Compression c : {Compression::lz4, Compression::snappy}) {
        FrameEncoder enc;
        enc.set_compression(c);
        Bytes wire;
        enc.encode(wire, header_for(Mode::v4_raw, 1), Bytes(8 * 1024 * 1024, 0));
        ASSERT_LT(wire.size(), 1024u * 1024);
        FrameDecoder dec(1024 * 1024);
        dec.set_compression(c);
        dec.feed(wire);
        EXPECT_EQ(error_of([&] { dec.next(); }), ProtocolErrc::frame_too_large) << to_string(c);
    }
}

TEST(FrameCodecErrors, UnknownOpcodeInRawAndSegmentedModes) {
    Bytes env{0x85, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00};
    FrameDecoder raw;
    raw.feed(env);
    EXPECT_EQ(error_of([&] { raw.next(); }), ProtocolErrc::unknown_opcode);
    Bytes wire;
    encode_segment(wire, env, true, false);
    FrameDecoder seg;
    seg.enable_segments(Compression::none);
    seg.feed(wire);
    EXPECT_EQ(error_of([&] { seg.next(); }), ProtocolErrc::unknown_opcode);
}

TEST(FrameEncoderLimits, OversizedBodyThrowsAndLeavesBufferIntact) {
    for (Mode m : {Mode::v4_raw, Mode::v5_plain}) {
        FrameEncoder enc(100);
        FrameDecoder unused;
        configure(m, enc, unused);
        Bytes wire;
        enc.encode(wire, header_for(m, 1), Bytes(100, 1));
        const Bytes before = wire;
        EXPECT_EQ(error_of([&] { enc.encode(wire, header_for(m, 2), Bytes(101, 2)); }), ProtocolErrc::frame_too_large);
        EXPECT_EQ(wire, before);
        enc.flush(wire);
        auto got = decode_all(m, wire);
        ASSERT_EQ(got.size(), 1u) << name(m);
        EXPECT_EQ(got[0].header.stream, 1);
    }
}

TEST(FrameEncoderUsage, MisuseIsUsageError) {
    FrameEncoder enc;
    EXPECT_THROW(enc.end_envelope(), UsageError);
    EXPECT_THROW(enc.enable_segments(Compression::snappy), UsageError);
    Bytes out;
    enc.begin_envelope(out, header_for(Mode::v4_raw, 1));
    EXPECT_THROW(enc.begin_envelope(out, header_for(Mode::v4_raw, 2)), UsageError);
    enc.abort_envelope();
    EXPECT_TRUE(out.empty());
    FrameDecoder dec;
    EXPECT_THROW(dec.enable_segments(Compression::snappy), UsageError);
    dec.feed(Bytes{0x84, 0, 0, 1, 0x08, 0, 0, 0, 5, 1});
    EXPECT_FALSE(dec.next());
    EXPECT_THROW(dec.enable_segments(Compression::none), UsageError);  // half an envelope in
}

// In-place body encoding: the body is written straight after the header in the caller's buffer.
TEST(FrameEncoderInPlace, BodyWrittenIntoOutputBuffer) {
    FrameEncoder enc;
    Bytes out{0xAA};
    Bytes& b = enc.begin_envelope(out, header_for(Mode::v4_raw, 7, Opcode::query));
    EXPECT_EQ(&b, &out);
    ByteWriter w(b);
    w.write_long_string("SELECT 1");
    enc.end_envelope();
    EXPECT_EQ(out.size(), 1 + 9 + 4 + 8u);
    EXPECT_EQ(out[1], 0x84);
    EXPECT_EQ(load_le(Bytes{out[9], out[8], out[7], out[6]}, 0, 4), 12u);  // big-endian length 12
}

// Golden bytes, written out by hand: the PROTOCOL-NOTES segment header for a 50-byte
// self-contained payload (32 00 02 a5 ff ee), one 50-byte RESULT envelope (9 + 41), and the
// seeded CRC32 of the payload, little-endian (computed independently with Python's zlib).
TEST(FrameCodecGolden, NotesSegmentVectorDecodes) {
    Bytes wire{0x32, 0x00, 0x02, 0xA5, 0xFF, 0xEE, 0x85, 0x00, 0x00, 0x07, 0x08, 0x00, 0x00, 0x00, 0x29};
    Bytes body;
    for (std::uint8_t i = 0; i < 41; ++i) body.push_back(i);
    wire.insert(wire.end(), body.begin(), body.end());
    for (std::uint8_t b : {0x1F, 0x15, 0xE2, 0x5B}) wire.push_back(b);

    FrameDecoder dec;
    dec.enable_segments(Compression::none);
    dec.feed(wire);
    auto e = dec.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(e->header.version, 5);
    EXPECT_TRUE(e->header.is_response);
    EXPECT_EQ(e->header.stream, 7);
    EXPECT_EQ(e->header.opcode, Opcode::result);
    EXPECT_EQ(bytes_of(*e), body);
    EXPECT_FALSE(dec.next());

    // And the encoder produces exactly these bytes.
    FrameEncoder enc;
    enc.enable_segments(Compression::none);
    Bytes out;
    enc.encode(out, FrameHeader{5, true, 0, 7, Opcode::result, 0}, body);
    enc.flush(out);
    EXPECT_EQ(out, wire);
}

// prepare() without commit() (a read that failed or was cancelled) loses nothing.
TEST(FrameDecoderUsage, PrepareWithoutCommitIsHarmless) {
    const Bytes body(100000, 0x5A);
    FrameEncoder enc;
    Bytes wire;
    enc.encode(wire, header_for(Mode::v4_raw, 3), body);
    FrameDecoder dec;
    dec.feed(BytesView(wire).first(20));
    EXPECT_FALSE(dec.next());
    (void)dec.prepare();  // direct span into the body, abandoned
    EXPECT_FALSE(dec.next());
    (void)dec.prepare();
    dec.feed(BytesView(wire).subspan(20));
    auto e = dec.next();
    ASSERT_TRUE(e);
    EXPECT_EQ(bytes_of(*e), body);
}

// Fuzz target for the frame codec (FrameDecoder): raw v4 frames, v4 body compression, v5
// segments (native_protocol_v5.spec section 2). Input: byte 0 picks the mode, byte 1 the read
// chunk size, the rest is the byte stream. Every envelope that decodes is re-encoded in the same
// mode and decoded again; a difference is a bug (trap), a typed async_cassandra::Error is not.
#include "protocol/frame_codec.hpp"

#include <async_cassandra/error.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

using namespace async_cassandra;
using namespace async_cassandra::protocol;

namespace {

constexpr std::uint32_t kMaxBody = 1024 * 1024;  // keeps memory bounded under the fuzzer

struct Mode {
    Compression v4 = Compression::none;
    bool segments = false;
    Compression v5 = Compression::none;
    bool handshake_first = false;  // one unframed envelope before segments, as after STARTUP
};

Mode mode_of(std::uint8_t b) {
    switch (b % 7) {
        case 0: return {};
        case 1: return {Compression::lz4, false, Compression::none, false};
        case 2: return {Compression::snappy, false, Compression::none, false};
        case 3: return {Compression::none, true, Compression::none, false};
        case 4: return {Compression::none, true, Compression::lz4, false};
        case 5: return {Compression::none, true, Compression::none, true};
        default: return {Compression::none, true, Compression::lz4, true};
    }
}

void round_trip(const Mode& m, const Envelope& env) {
    FrameEncoder enc(kMaxBody);
    FrameDecoder dec(kMaxBody);
    if (m.segments) {
        enc.enable_segments(m.v5);
        dec.enable_segments(m.v5);
    } else {
        enc.set_compression(m.v4);
        dec.set_compression(m.v4);
    }
    Bytes wire;
    enc.encode(wire, env.header, env.body_view());
    enc.flush(wire);
    dec.feed(wire);
    auto again = dec.next();
    if (!again || dec.next() || again->header.stream != env.header.stream ||
        again->header.opcode != env.header.opcode || again->header.flags != env.header.flags ||
        again->header.version != env.header.version || !std::ranges::equal(again->body, env.body))
        __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const Mode m = mode_of(data[0]);
    const std::size_t chunk = data[1] == 0 ? size : data[1];
    data += 2;
    size -= 2;

    FrameDecoder dec(kMaxBody);
    dec.set_compression(m.v4);
    bool framed = false;
    if (m.segments && !m.handshake_first) {
        dec.enable_segments(m.v5);
        framed = true;
    }
    try {
        while (size > 0) {
            auto span = dec.prepare(chunk);
            const std::size_t n = std::min({span.size(), size, chunk});
            std::memcpy(span.data(), data, n);
            dec.commit(n);
            data += n;
            size -= n;
            while (auto env = dec.next()) {
                if (env->header.body_length != env->body.size()) __builtin_trap();
                if (env->header.flags & frame_flags::compression) __builtin_trap();
                if (!m.segments || framed) round_trip(m, *env);
                if (m.segments && !framed) {
                    dec.enable_segments(m.v5);
                    framed = true;
                }
            }
        }
    } catch (const Error&) {
        // Typed rejection of bad input: expected.
    }
    return 0;
}

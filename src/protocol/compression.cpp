#include "protocol/compression.hpp"

#include <lz4.h>
#include <snappy.h>

#include <limits>
#include <string>

namespace async_cassandra::protocol {
namespace {

// An LZ4 sequence expands at most ~255x (one length byte of 255 per 255 output bytes); Snappy's
// best case is a 3-byte copy op producing 64 bytes (~21x). A declared size above these bounds is a
// lie, rejected before any allocation.
constexpr std::size_t kLz4MaxRatio = 255;
constexpr std::size_t kSnappyMaxRatio = 32;

[[noreturn]] void fail(const std::string& what) { throw ProtocolError(ProtocolErrc::compression, what); }

void check_declared(std::size_t declared, std::size_t compressed_size, std::size_t ratio,
                    std::size_t max_size, const char* format) {
    if (declared > max_size)
        throw ProtocolError(ProtocolErrc::frame_too_large,
                            std::string(format) + " body declares " + std::to_string(declared) +
                                " uncompressed bytes, above the limit of " + std::to_string(max_size));
    if (declared > compressed_size * ratio + 16)
        fail(std::string(format) + " body declares " + std::to_string(declared) + " bytes from only " +
             std::to_string(compressed_size) + " compressed bytes");
}

}  // namespace

std::string_view to_string(Compression c) noexcept {
    switch (c) {
        case Compression::none: return "";
        case Compression::lz4: return "lz4";
        case Compression::snappy: return "snappy";
    }
    return "";
}

std::optional<Compression> compression_from_name(std::string_view name) noexcept {
    if (name == "lz4") return Compression::lz4;
    if (name == "snappy") return Compression::snappy;
    return std::nullopt;
}

std::size_t lz4_max_compressed_size(std::size_t n) noexcept {
    if (n > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) return 0;
    return static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(n)));
}

std::size_t lz4_compress_block(BytesView src, std::span<std::uint8_t> dst) {
    if (src.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE))
        throw ProtocolError(ProtocolErrc::frame_too_large, "LZ4 input of " + std::to_string(src.size()) + " bytes");
    const int cap = static_cast<int>(std::min<std::size_t>(dst.size(), std::numeric_limits<int>::max()));
    const int n = LZ4_compress_default(reinterpret_cast<const char*>(src.data()),
                                       reinterpret_cast<char*>(dst.data()), static_cast<int>(src.size()), cap);
    if (n <= 0) fail("LZ4 compression failed (output buffer too small)");
    return static_cast<std::size_t>(n);
}

void lz4_decompress_block(BytesView src, std::span<std::uint8_t> dst) {
    if (src.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
        dst.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        fail("LZ4 block too large");
    // LZ4 wants valid pointers even for empty buffers.
    std::uint8_t dummy = 0;
    const char* in = src.empty() ? reinterpret_cast<const char*>(&dummy) : reinterpret_cast<const char*>(src.data());
    char* out = dst.empty() ? reinterpret_cast<char*>(&dummy) : reinterpret_cast<char*>(dst.data());
    const int n = LZ4_decompress_safe(in, out, static_cast<int>(src.size()), static_cast<int>(dst.size()));
    if (n < 0) fail("malformed LZ4 block");
    if (static_cast<std::size_t>(n) != dst.size())
        fail("LZ4 block produced " + std::to_string(n) + " bytes, " + std::to_string(dst.size()) + " declared");
}

void compress_body(Compression c, BytesView body, Bytes& out) {
    switch (c) {
        case Compression::none: out.insert(out.end(), body.begin(), body.end()); return;
        case Compression::lz4: {
            if (body.size() > 0xFFFFFFFFu) throw ProtocolError(ProtocolErrc::frame_too_large, "LZ4 body too large");
            const std::size_t at = out.size();
            out.resize(at + 4 + lz4_max_compressed_size(body.size()));
            const auto len = static_cast<std::uint32_t>(body.size());
            out[at] = static_cast<std::uint8_t>(len >> 24);
            out[at + 1] = static_cast<std::uint8_t>(len >> 16);
            out[at + 2] = static_cast<std::uint8_t>(len >> 8);
            out[at + 3] = static_cast<std::uint8_t>(len);
            const std::size_t n = lz4_compress_block(body, std::span<std::uint8_t>(out).subspan(at + 4));
            out.resize(at + 4 + n);
            return;
        }
        case Compression::snappy: {
            const std::size_t at = out.size();
            out.resize(at + snappy::MaxCompressedLength(body.size()));
            std::size_t n = 0;
            snappy::RawCompress(reinterpret_cast<const char*>(body.data()), body.size(),
                                reinterpret_cast<char*>(out.data() + at), &n);
            out.resize(at + n);
            return;
        }
    }
}

void decompress_body(Compression c, BytesView compressed, Bytes& out, std::size_t max_size) {
    switch (c) {
        case Compression::none:
            if (compressed.size() > max_size)
                throw ProtocolError(ProtocolErrc::frame_too_large, "body above the limit");
            out.assign(compressed.begin(), compressed.end());
            return;
        case Compression::lz4: {
            if (compressed.size() < 4) fail("LZ4 body shorter than its 4-byte length prefix");
            const std::size_t declared = static_cast<std::size_t>(compressed[0]) << 24 |
                                         static_cast<std::size_t>(compressed[1]) << 16 |
                                         static_cast<std::size_t>(compressed[2]) << 8 | compressed[3];
            BytesView block = compressed.subspan(4);
            check_declared(declared, block.size(), kLz4MaxRatio, max_size, "LZ4");
            out.resize(declared);
            lz4_decompress_block(block, out);
            return;
        }
        case Compression::snappy: {
            const char* in = reinterpret_cast<const char*>(compressed.data());
            std::size_t declared = 0;
            if (!snappy::GetUncompressedLength(in, compressed.size(), &declared))
                fail("malformed Snappy length header");
            check_declared(declared, compressed.size(), kSnappyMaxRatio, max_size, "Snappy");
            out.resize(declared);
            std::uint8_t dummy = 0;
            char* dst = declared == 0 ? reinterpret_cast<char*>(&dummy) : reinterpret_cast<char*>(out.data());
            // RawUncompress writes at most `declared` bytes and fails unless it produces exactly that.
            if (!snappy::RawUncompress(in, compressed.size(), dst)) fail("malformed Snappy body");
            return;
        }
    }
    fail("unknown compression");
}

}  // namespace async_cassandra::protocol

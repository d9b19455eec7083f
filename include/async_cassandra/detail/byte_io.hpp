// detail/ is NOT part of the API: its contents may change in any release without notice. The
// public headers need these definitions inline (the value codecs of codec.hpp write and read
// through them); user code should not name them except inside a ValueCodec specialization.
//
// Bounds-checked big-endian readers and writers for the notation of the native protocol spec
// (section 3 of native_protocol_v4.spec): [int], [long], [short], [string], [long string],
// [bytes], [value], [short bytes], [string list], [string map], [string multimap], [inet], ...
// Every read checks the remaining length first and throws ProtocolError instead of reading past
// the buffer; views returned by the reader point into the reader's buffer. The protocol layer
// (src/protocol/bytes.hpp) uses them under its own names.
#pragma once

#include <async_cassandra/bytes.hpp>
#include <async_cassandra/error.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace async_cassandra::detail {

/// Result of reading a [value]: a view, a null (length -1) or "not set" (length -2, v4+).
struct ValueView {
    enum class Kind : std::uint8_t { value, null, unset };
    Kind kind = Kind::null;
    BytesView bytes;
    bool is_null() const noexcept { return kind == Kind::null; }
    bool is_unset() const noexcept { return kind == Kind::unset; }
};

[[noreturn]] inline void throw_truncated(std::size_t wanted, std::size_t left) {
    throw ProtocolError(ProtocolErrc::truncated, "need " + std::to_string(wanted) + " bytes, " +
                                                     std::to_string(left) + " left");
}

/// Cursor over a byte buffer. Cheap to copy; never owns the bytes.
class ByteReader {
public:
    ByteReader() = default;
    explicit ByteReader(BytesView data) noexcept : data_(data) {}

    std::size_t remaining() const noexcept { return data_.size() - pos_; }
    std::size_t position() const noexcept { return pos_; }
    bool empty() const noexcept { return remaining() == 0; }
    BytesView rest() const noexcept { return data_.subspan(pos_); }
    BytesView buffer() const noexcept { return data_; }

    void require(std::size_t n) const {
        if (remaining() < n) throw_truncated(n, remaining());
    }
    void skip(std::size_t n) {
        require(n);
        pos_ += n;
    }
    BytesView take(std::size_t n) {
        require(n);
        BytesView v = data_.subspan(pos_, n);
        pos_ += n;
        return v;
    }

    std::uint8_t read_u8() {
        require(1);
        return data_[pos_++];
    }
    std::int8_t read_i8() { return static_cast<std::int8_t>(read_u8()); }
    std::uint16_t read_u16() { return load_be<std::uint16_t>(); }
    std::int16_t read_i16() { return static_cast<std::int16_t>(load_be<std::uint16_t>()); }
    std::uint32_t read_u32() { return load_be<std::uint32_t>(); }
    std::int32_t read_i32() { return static_cast<std::int32_t>(load_be<std::uint32_t>()); }
    std::uint64_t read_u64() { return load_be<std::uint64_t>(); }
    std::int64_t read_i64() { return static_cast<std::int64_t>(load_be<std::uint64_t>()); }

    /// [string]: [short] n, then n bytes of UTF-8.
    std::string_view read_string() { return as_chars(take(read_u16())); }
    /// [long string]: [int] n (must be >= 0), then n bytes.
    std::string_view read_long_string() { return as_chars(take(read_length("long string"))); }
    /// [short bytes]: [short] n, then n bytes.
    BytesView read_short_bytes() { return take(read_u16()); }
    /// [bytes]: [int] n; n < 0 means null (std::nullopt).
    std::optional<BytesView> read_bytes() {
        std::int32_t n = read_i32();
        if (n < 0) return std::nullopt;
        return take(static_cast<std::size_t>(n));
    }
    /// [value]: like [bytes], plus -2 = "not set". Other negative lengths are invalid.
    ValueView read_value() {
        std::int32_t n = read_i32();
        if (n >= 0) return {ValueView::Kind::value, take(static_cast<std::size_t>(n))};
        if (n == -1) return {ValueView::Kind::null, {}};
        if (n == -2) return {ValueView::Kind::unset, {}};
        throw ProtocolError(ProtocolErrc::invalid_length, "[value] length " + std::to_string(n));
    }
    /// [string list]: [short] n, then n [string].
    std::vector<std::string> read_string_list() {
        std::uint16_t n = read_u16();
        std::vector<std::string> out;
        out.reserve(std::min<std::size_t>(n, remaining() / 2));
        for (std::uint16_t i = 0; i < n; ++i) out.emplace_back(read_string());
        return out;
    }
    /// [string map]: [short] n, then n pairs of [string] key, [string] value.
    std::map<std::string, std::string> read_string_map() {
        std::uint16_t n = read_u16();
        std::map<std::string, std::string> out;
        for (std::uint16_t i = 0; i < n; ++i) {
            std::string key(read_string());
            out[std::move(key)] = std::string(read_string());
        }
        return out;
    }
    /// [string multimap]: [short] n, then n pairs of [string] key, [string list] value.
    std::map<std::string, std::vector<std::string>> read_string_multimap() {
        std::uint16_t n = read_u16();
        std::map<std::string, std::vector<std::string>> out;
        for (std::uint16_t i = 0; i < n; ++i) {
            std::string key(read_string());
            out[std::move(key)] = read_string_list();
        }
        return out;
    }
    /// [bytes map]: [short] n, then n pairs of [string] key, [bytes] value (custom payload).
    std::map<std::string, std::optional<Bytes>> read_bytes_map() {
        std::uint16_t n = read_u16();
        std::map<std::string, std::optional<Bytes>> out;
        for (std::uint16_t i = 0; i < n; ++i) {
            std::string key(read_string());
            auto v = read_bytes();
            out[std::move(key)] = v ? std::optional<Bytes>(Bytes(v->begin(), v->end())) : std::nullopt;
        }
        return out;
    }
    /// [inetaddr]: [byte] size (4 or 16), then the address bytes.
    BytesView read_inetaddr() {
        std::uint8_t n = read_u8();
        if (n != 4 && n != 16)
            throw ProtocolError(ProtocolErrc::invalid_length, "inet address size " + std::to_string(n));
        return take(n);
    }
    /// [uuid]: 16 bytes.
    std::array<std::uint8_t, 16> read_uuid() {
        std::array<std::uint8_t, 16> out{};
        std::memcpy(out.data(), take(16).data(), 16);
        return out;
    }
    /// A non-negative [int] used as a length or count.
    std::size_t read_length(const char* what) {
        std::int32_t n = read_i32();
        if (n < 0)
            throw ProtocolError(ProtocolErrc::invalid_length,
                                std::string(what) + " length " + std::to_string(n));
        return static_cast<std::size_t>(n);
    }

    /// Throws trailing_bytes unless every byte was consumed.
    void expect_end(const char* what) const {
        if (!empty())
            throw ProtocolError(ProtocolErrc::trailing_bytes,
                                std::string(what) + ": " + std::to_string(remaining()) + " unread bytes");
    }

private:
    template <class T>
    T load_be() {
        require(sizeof(T));
        T v;
        std::memcpy(&v, data_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        if constexpr (std::endian::native == std::endian::little) v = byteswap(v);
        return v;
    }
    template <class T>
    static T byteswap(T v) noexcept {
        if constexpr (sizeof(T) == 2) return static_cast<T>(__builtin_bswap16(v));
        else if constexpr (sizeof(T) == 4) return static_cast<T>(__builtin_bswap32(v));
        else return static_cast<T>(__builtin_bswap64(v));
    }
    static std::string_view as_chars(BytesView v) noexcept {
        return {reinterpret_cast<const char*>(v.data()), v.size()};
    }

    BytesView data_;
    std::size_t pos_ = 0;
};

/// Appends protocol notation to a growable buffer. Encoders write into a caller-owned buffer so
/// that a connection can reuse one write buffer for many frames.
class ByteWriter {
public:
    explicit ByteWriter(Bytes& out) noexcept : out_(out) {}

    Bytes& buffer() noexcept { return out_; }
    std::size_t size() const noexcept { return out_.size(); }

    void write_u8(std::uint8_t v) { out_.push_back(v); }
    void write_i8(std::int8_t v) { out_.push_back(static_cast<std::uint8_t>(v)); }
    void write_u16(std::uint16_t v) { store_be(v); }
    void write_i16(std::int16_t v) { store_be(static_cast<std::uint16_t>(v)); }
    void write_u32(std::uint32_t v) { store_be(v); }
    void write_i32(std::int32_t v) { store_be(static_cast<std::uint32_t>(v)); }
    void write_u64(std::uint64_t v) { store_be(v); }
    void write_i64(std::int64_t v) { store_be(static_cast<std::uint64_t>(v)); }
    void write_raw(BytesView v) { out_.insert(out_.end(), v.begin(), v.end()); }
    void write_raw(std::string_view v) { out_.insert(out_.end(), v.begin(), v.end()); }

    void write_string(std::string_view s) {
        check_short(s.size(), "[string]");
        write_u16(static_cast<std::uint16_t>(s.size()));
        write_raw(s);
    }
    void write_long_string(std::string_view s) {
        check_int(s.size(), "[long string]");
        write_i32(static_cast<std::int32_t>(s.size()));
        write_raw(s);
    }
    void write_short_bytes(BytesView b) {
        check_short(b.size(), "[short bytes]");
        write_u16(static_cast<std::uint16_t>(b.size()));
        write_raw(b);
    }
    void write_bytes(BytesView b) {
        check_int(b.size(), "[bytes]");
        write_i32(static_cast<std::int32_t>(b.size()));
        write_raw(b);
    }
    void write_null_bytes() { write_i32(-1); }
    void write_unset_value() { write_i32(-2); }
    void write_optional_bytes(const std::optional<BytesView>& b) {
        if (b) write_bytes(*b);
        else write_null_bytes();
    }
    void write_value(const ValueView& v) {
        switch (v.kind) {
            case ValueView::Kind::value: write_bytes(v.bytes); break;
            case ValueView::Kind::null: write_null_bytes(); break;
            case ValueView::Kind::unset: write_unset_value(); break;
        }
    }
    void write_string_list(const std::vector<std::string>& list) {
        check_short(list.size(), "[string list]");
        write_u16(static_cast<std::uint16_t>(list.size()));
        for (const auto& s : list) write_string(s);
    }
    void write_string_map(const std::map<std::string, std::string>& map) {
        check_short(map.size(), "[string map]");
        write_u16(static_cast<std::uint16_t>(map.size()));
        for (const auto& [k, v] : map) {
            write_string(k);
            write_string(v);
        }
    }
    void write_string_multimap(const std::map<std::string, std::vector<std::string>>& map) {
        check_short(map.size(), "[string multimap]");
        write_u16(static_cast<std::uint16_t>(map.size()));
        for (const auto& [k, v] : map) {
            write_string(k);
            write_string_list(v);
        }
    }
    void write_bytes_map(const std::map<std::string, std::optional<Bytes>>& map) {
        check_short(map.size(), "[bytes map]");
        write_u16(static_cast<std::uint16_t>(map.size()));
        for (const auto& [k, v] : map) {
            write_string(k);
            if (v) write_bytes(*v);
            else write_null_bytes();
        }
    }
    void write_inetaddr(BytesView addr) {
        if (addr.size() != 4 && addr.size() != 16)
            throw ProtocolError(ProtocolErrc::invalid_length, "inet address size " + std::to_string(addr.size()));
        write_u8(static_cast<std::uint8_t>(addr.size()));
        write_raw(addr);
    }
    void write_uuid(const std::array<std::uint8_t, 16>& id) { write_raw(BytesView(id)); }

    /// Reserves an [int] length slot and returns its offset; fill it with patch_i32 later.
    std::size_t reserve_i32() {
        std::size_t at = out_.size();
        out_.resize(at + 4);
        return at;
    }
    void patch_i32(std::size_t at, std::int32_t v) {
        auto u = static_cast<std::uint32_t>(v);
        out_[at] = static_cast<std::uint8_t>(u >> 24);
        out_[at + 1] = static_cast<std::uint8_t>(u >> 16);
        out_[at + 2] = static_cast<std::uint8_t>(u >> 8);
        out_[at + 3] = static_cast<std::uint8_t>(u);
    }

private:
    template <class T>
    void store_be(T v) {
        std::uint8_t tmp[sizeof(T)];
        for (std::size_t i = 0; i < sizeof(T); ++i)
            tmp[i] = static_cast<std::uint8_t>(v >> (8 * (sizeof(T) - 1 - i)));
        out_.insert(out_.end(), tmp, tmp + sizeof(T));
    }
    static void check_short(std::size_t n, const char* what) {
        if (n > 0xFFFF)
            throw ProtocolError(ProtocolErrc::invalid_length, std::string(what) + " too long: " + std::to_string(n));
    }
    static void check_int(std::size_t n, const char* what) {
        if (n > 0x7FFFFFFF)
            throw ProtocolError(ProtocolErrc::invalid_length, std::string(what) + " too long: " + std::to_string(n));
    }

    Bytes& out_;
};

}  // namespace async_cassandra::detail

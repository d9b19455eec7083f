// Encoding of C++ values into CQL [value]s and decoding of CQL values into C++ types
// (native_protocol_v5.spec section 6 "Data Type Serialization Formats", section 7 for UDTs).
//
// The customization point is `ValueCodec<T>`; a specialization provides
//   static bool accepts(const DataType& type);          // may T be read from / written as `type`?
//   static void encode(const DataType& type, const T&, detail::ByteWriter& out);
//                                                       // writes the [value] WITH its [int] length
//                                                       // (-1 for null, -2 for "not set")
//   static T decode(const DataType& type, BytesView bytes);
//                                                       // bytes of a non-null value, no length
//   static DataTypePtr natural_type();                  // the CQL type used when none is known
// `decode` and `encode` assume accepts(type) was checked (pages check once per page); they still
// bounds-check every byte and throw ProtocolError on malformed input, never read out of bounds.
// A type needs only the halves it uses (std::string_view has no owning encode issue, Unset has no
// decode). detail::ByteWriter / detail::ByteReader (detail/byte_io.hpp) write and read the
// spec notation ([int], [bytes], [value], ...) with bounds checks; a specialization may use
// them, but detail/ is not a stable API: prefer composing the ValueCodecs of existing types.
//
// Views: std::string_view and std::span<const std::byte>/BytesView decode as views into
// the buffer the bytes came from (the Page's body): they live as long as that buffer.
//
// Empty values: Cassandra allows a zero-length value for every type. For types whose encoding
// cannot be empty (numbers, uuid, inet, date/time, collections, ...) an empty value is read as
// null (std::nullopt, or NullValueError for a non-optional T). Text and blobs read it as empty.
#pragma once

#include <async_cassandra/bytes.hpp>
#include <async_cassandra/data_type.hpp>
#include <async_cassandra/detail/byte_io.hpp>
#include <async_cassandra/error.hpp>
#include <async_cassandra/values.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace async_cassandra {

/// Specialize for your own types (see the contract at the top of this file).
template <class T>
struct ValueCodec;

template <class T>
concept Decodable = requires(const DataType& type, BytesView bytes) {
    { ValueCodec<T>::accepts(type) } -> std::same_as<bool>;
    { ValueCodec<T>::decode(type, bytes) } -> std::same_as<T>;
};
template <class T>
concept Encodable = requires(const DataType& type, const T& value, detail::ByteWriter& out) {
    { ValueCodec<T>::accepts(type) } -> std::same_as<bool>;
    ValueCodec<T>::encode(type, value, out);
};

// ---------------------------------------------------------------- helpers

namespace detail {

template <class T>
constexpr std::string_view cpp_type_name() noexcept {
    // GCC and Clang spell the template argument inside __PRETTY_FUNCTION__ as "[with T = X]" /
    // "[T = X]": good enough for error messages.
    std::string_view p = __PRETTY_FUNCTION__;
    auto start = p.find("T = ");
    if (start == std::string_view::npos) return "?";
    start += 4;
    auto end = p.find_first_of(";]", start);
    return p.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

[[noreturn]] void throw_bad_size(const DataType& type, std::size_t expected, std::size_t got);
[[noreturn]] void throw_invalid(const DataType& type, const std::string& why);
[[noreturn]] void throw_type_mismatch(std::string_view what, const DataType& type, std::string_view cpp_type);
[[noreturn]] void throw_null(std::string_view what, const DataType& type, std::string_view cpp_type);
/// Patches the [int] length slot at `at` (reserved with reserve_i32) to cover what follows.
void finish_value(detail::ByteWriter& out, std::size_t at);

/// True when a zero-length value of this type is a real (empty) value rather than "empty".
bool empty_is_value(TypeKind kind) noexcept;
/// Byte size of a fixed-size type's values inside a vector, or 0 for variable-size types.
std::size_t vector_element_size(const DataType& type) noexcept;
/// Byte size of every value of a fixed-size simple type, 0 when variable.
std::size_t fixed_value_size(TypeKind kind) noexcept;

std::uint64_t read_unsigned_vint(detail::ByteReader& in);
void write_unsigned_vint(detail::ByteWriter& out, std::uint64_t v);

template <class T>
T load_be(const std::uint8_t* p) noexcept {
    std::make_unsigned_t<T> u;
    std::memcpy(&u, p, sizeof u);
    if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) {
        if constexpr (sizeof(T) == 2) u = __builtin_bswap16(u);
        else if constexpr (sizeof(T) == 4) u = __builtin_bswap32(u);
        else u = __builtin_bswap64(u);
    }
    return static_cast<T>(u);
}

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

inline const DataTypePtr& cached_simple(TypeKind kind) {
    // One shared instance per simple kind: natural_type() is called per bound value.
    static const std::array<DataTypePtr, 0x16> table = [] {
        std::array<DataTypePtr, 0x16> t{};
        for (std::uint16_t k = 0; k < 0x16; ++k) t[k] = DataType::simple(static_cast<TypeKind>(k));
        return t;
    }();
    return table.at(static_cast<std::size_t>(kind));
}

/// Decodes one value whose [bytes] may be null; `what` names it in error messages (a name or
/// a role such as "element"; the message is only built when thrown).
template <class T>
T decode_nullable(const DataType& type, std::optional<BytesView> raw, std::string_view what) {
    if (!raw || (raw->empty() && !empty_is_value(type.kind))) {
        if constexpr (IsOptional<T>::value) return T{};
        else throw_null(what, type, cpp_type_name<T>());
    }
    return ValueCodec<T>::decode(type, *raw);
}

/// The null / empty-value path of decode_cell, kept out of the hot loop.
template <class T>
[[gnu::noinline]] T decode_cell_slow(const DataType& type, std::int32_t n, const std::uint8_t* p,
                                     std::string_view what) {
    if (n == 0 && empty_is_value(type.kind)) return ValueCodec<T>::decode(type, BytesView(p, 0));
    return decode_nullable<T>(type, std::nullopt, what);
}

/// Codecs of fixed-size values declare `static constexpr std::size_t wire_size`.
template <class T>
constexpr std::size_t wire_size_of() noexcept {
    if constexpr (requires { ValueCodec<T>::wire_size; }) return ValueCodec<T>::wire_size;
    else return 0;
}

/// Decodes the [bytes] cell at `p`, whose framing was already validated (page_from_rows), and
/// moves `p` past it. Same result as decode_nullable on the cell.
template <class T>
inline T decode_cell(const DataType& type, const std::uint8_t*& p, std::string_view what) {
    const auto n = load_be<std::int32_t>(p);
    p += 4;
    if constexpr (constexpr std::size_t size = wire_size_of<T>(); size != 0) {
        // Advance by a constant when the length is as expected: the next cell's address then
        // does not depend on this load (see page_from_rows).
        if (static_cast<std::size_t>(n) == size) [[likely]] {
            const BytesView b(p, size);
            p += size;
            return ValueCodec<T>::decode(type, b);
        }
    }
    if (n > 0) [[likely]] {
        const BytesView b(p, static_cast<std::size_t>(n));
        p += n;
        return ValueCodec<T>::decode(type, b);
    }
    return decode_cell_slow<T>(type, n, p, what);
}

/// Reads one [bytes] element of a collection/tuple/UDT body.
inline std::optional<BytesView> read_element(detail::ByteReader& in) {
    const detail::ValueView v = in.read_value();
    if (v.kind == detail::ValueView::Kind::value) return v.bytes;
    if (v.kind == detail::ValueView::Kind::unset)
        throw ProtocolError(ProtocolErrc::invalid_length, "'not set' inside a collection, tuple or UDT value");
    return std::nullopt;
}

std::size_t read_count(detail::ByteReader& in, const DataType& type);

/// Fixed-width integers and floating point, big-endian (v5 spec 6.2, 6.7, 6.9, 6.11, 6.15, 6.20).
template <class T, TypeKind Natural, TypeKind... Others>
struct FixedCodec {
    static constexpr std::size_t wire_size = sizeof(T);
    static bool accepts(const DataType& t) noexcept { return t.kind == Natural || ((t.kind == Others) || ...); }
    static DataTypePtr natural_type() { return cached_simple(Natural); }
    static void encode(const DataType&, const T& v, detail::ByteWriter& out) {
        out.write_i32(static_cast<std::int32_t>(sizeof(T)));
        if constexpr (std::is_floating_point_v<T>) {
            using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
            const U u = std::bit_cast<U>(v);
            if constexpr (sizeof(T) == 4) out.write_u32(u);
            else out.write_u64(u);
        } else if constexpr (sizeof(T) == 1) {
            out.write_u8(static_cast<std::uint8_t>(v));
        } else if constexpr (sizeof(T) == 2) {
            out.write_u16(static_cast<std::uint16_t>(v));
        } else if constexpr (sizeof(T) == 4) {
            out.write_u32(static_cast<std::uint32_t>(v));
        } else {
            out.write_u64(static_cast<std::uint64_t>(v));
        }
    }
    static T decode(const DataType& t, BytesView b) {
        if (b.size() != sizeof(T)) throw_bad_size(t, sizeof(T), b.size());
        if constexpr (std::is_floating_point_v<T>) {
            using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
            return std::bit_cast<T>(load_be<U>(b.data()));
        } else {
            return load_be<T>(b.data());
        }
    }
};

}  // namespace detail

// ---------------------------------------------------------------- simple types

template <>
struct ValueCodec<bool> {
    static constexpr std::size_t wire_size = 1;
    static bool accepts(const DataType& t) noexcept { return t.kind == TypeKind::boolean; }
    static DataTypePtr natural_type() { return detail::cached_simple(TypeKind::boolean); }
    static void encode(const DataType&, bool v, detail::ByteWriter& out) {
        out.write_i32(1);
        out.write_u8(v ? 1 : 0);
    }
    /// v5 spec 6.4: 0 is false, anything else true.
    static bool decode(const DataType& t, BytesView b) {
        if (b.size() != 1) detail::throw_bad_size(t, 1, b.size());
        return b[0] != 0;
    }
};

template <>
struct ValueCodec<std::int8_t> : detail::FixedCodec<std::int8_t, TypeKind::tinyint> {};
template <>
struct ValueCodec<std::int16_t> : detail::FixedCodec<std::int16_t, TypeKind::smallint> {};
template <>
struct ValueCodec<std::int32_t> : detail::FixedCodec<std::int32_t, TypeKind::int_> {};
template <>
struct ValueCodec<std::int64_t> : detail::FixedCodec<std::int64_t, TypeKind::bigint, TypeKind::counter> {};
template <>
struct ValueCodec<float> : detail::FixedCodec<float, TypeKind::float_> {};
template <>
struct ValueCodec<double> : detail::FixedCodec<double, TypeKind::double_> {};

namespace detail {
struct TextCodecBase {
    static bool accepts(const DataType& t) noexcept {
        return t.kind == TypeKind::varchar || t.kind == TypeKind::ascii;
    }
    static DataTypePtr natural_type() { return cached_simple(TypeKind::varchar); }
    /// Checks the ascii range for ascii columns (v5 spec 6.1); text is sent as given (UTF-8).
    static void encode_text(const DataType& t, std::string_view v, detail::ByteWriter& out);
};
struct BlobCodecBase {
    static bool accepts(const DataType& t) noexcept {
        return t.kind == TypeKind::blob || t.kind == TypeKind::custom;
    }
    static DataTypePtr natural_type() { return cached_simple(TypeKind::blob); }
    static void encode_raw(const void* data, std::size_t size, detail::ByteWriter& out) {
        out.write_bytes(BytesView(static_cast<const std::uint8_t*>(data), size));
    }
};
}  // namespace detail

template <>
struct ValueCodec<std::string> : detail::TextCodecBase {
    static void encode(const DataType& t, const std::string& v, detail::ByteWriter& out) { encode_text(t, v, out); }
    static std::string decode(const DataType&, BytesView b) {
        return std::string(reinterpret_cast<const char*>(b.data()), b.size());
    }
};
/// Zero-copy: the view points into the decoded buffer (UTF-8 is not validated).
template <>
struct ValueCodec<std::string_view> : detail::TextCodecBase {
    static void encode(const DataType& t, std::string_view v, detail::ByteWriter& out) { encode_text(t, v, out); }
    static std::string_view decode(const DataType&, BytesView b) {
        return {reinterpret_cast<const char*>(b.data()), b.size()};
    }
};
/// Encode only; a null pointer encodes a null value.
template <>
struct ValueCodec<const char*> : detail::TextCodecBase {
    static void encode(const DataType& t, const char* v, detail::ByteWriter& out) {
        if (!v) out.write_null_bytes();
        else encode_text(t, v, out);
    }
};

template <>
struct ValueCodec<Blob> : detail::BlobCodecBase {
    static void encode(const DataType&, const Blob& v, detail::ByteWriter& out) { encode_raw(v.data(), v.size(), out); }
    static Blob decode(const DataType&, BytesView b) {
        const auto* p = reinterpret_cast<const std::byte*>(b.data());
        return Blob(p, p + b.size());
    }
};
template <>
struct ValueCodec<Bytes> : detail::BlobCodecBase {
    static void encode(const DataType&, const Bytes& v, detail::ByteWriter& out) {
        encode_raw(v.data(), v.size(), out);
    }
    static Bytes decode(const DataType&, BytesView b) { return Bytes(b.begin(), b.end()); }
};
/// Zero-copy blob view.
template <>
struct ValueCodec<std::span<const std::byte>> : detail::BlobCodecBase {
    static void encode(const DataType&, std::span<const std::byte> v, detail::ByteWriter& out) {
        encode_raw(v.data(), v.size(), out);
    }
    static std::span<const std::byte> decode(const DataType&, BytesView b) {
        return {reinterpret_cast<const std::byte*>(b.data()), b.size()};
    }
};
/// Zero-copy blob view as unsigned bytes.
template <>
struct ValueCodec<BytesView> : detail::BlobCodecBase {
    static void encode(const DataType&, BytesView v, detail::ByteWriter& out) {
        encode_raw(v.data(), v.size(), out);
    }
    static BytesView decode(const DataType&, BytesView b) { return b; }
};

template <>
struct ValueCodec<Uuid> {
    static constexpr std::size_t wire_size = 16;
    static bool accepts(const DataType& t) noexcept { return t.kind == TypeKind::uuid || t.kind == TypeKind::timeuuid; }
    static DataTypePtr natural_type() { return detail::cached_simple(TypeKind::uuid); }
    /// Throws TypeError when writing a non-version-1 UUID as a timeuuid.
    static void encode(const DataType& t, const Uuid& v, detail::ByteWriter& out);
    static Uuid decode(const DataType& t, BytesView b);
};
template <>
struct ValueCodec<Inet> {
    static bool accepts(const DataType& t) noexcept { return t.kind == TypeKind::inet; }
    static DataTypePtr natural_type() { return detail::cached_simple(TypeKind::inet); }
    static void encode(const DataType& t, const Inet& v, detail::ByteWriter& out);
    static Inet decode(const DataType& t, BytesView b);
};
template <>
struct ValueCodec<Date> {
    static constexpr std::size_t wire_size = 4;
    static bool accepts(const DataType& t) noexcept { return t.kind == TypeKind::date; }
    static DataTypePtr natural_type() { return detail::cached_simple(TypeKind::date); }
    static void encode(const DataType&, const Date& v, detail::ByteWriter& out) {
        out.write_i32(4);
        out.write_u32(v.to_wire());
    }
    static Date decode(const DataType& t, BytesView b) {
        if (b.size() != 4) detail::throw_bad_size(t, 4, b.size());
        return Date::from_wire(detail::load_be<std::uint32_t>(b.data()));
    }
};
template <>
struct ValueCodec<Time> {
    static constexpr std::size_t wire_size = 8;
    static bool accepts(const DataType& t) noexcept { return t.kind == TypeKind::time; }
    static DataTypePtr natural_type() { return detail::cached_simple(TypeKind::time); }
    static void encode(const DataType&, const Time& v, detail::ByteWriter& out) {
        out.write_i32(8);
        out.write_i64(v.nanoseconds());
    }
    /// ProtocolError (invalid_value) outside 0 ..= 86399999999999.
    static Time decode(const DataType& t, BytesView b);
};
template <>
struct ValueCodec<Timestamp> {
    static constexpr std::size_t wire_size = 8;
    static bool accepts(const DataType& t) noexcept { return t.kind == TypeKind::timestamp; }
    static DataTypePtr natural_type() { return detail::cached_simple(TypeKind::timestamp); }
    static void encode(const DataType&, const Timestamp& v, detail::ByteWriter& out) {
        out.write_i32(8);
        out.write_i64(v.milliseconds);
    }
    static Timestamp decode(const DataType& t, BytesView b) {
        if (b.size() != 8) detail::throw_bad_size(t, 8, b.size());
        return {detail::load_be<std::int64_t>(b.data())};
    }
};
/// system_clock::time_point as a timestamp (truncated to milliseconds on encode).
template <>
struct ValueCodec<std::chrono::system_clock::time_point> {
    using TP = std::chrono::system_clock::time_point;
    static bool accepts(const DataType& t) noexcept { return t.kind == TypeKind::timestamp; }
    static DataTypePtr natural_type() { return detail::cached_simple(TypeKind::timestamp); }
    static void encode(const DataType& t, const TP& v, detail::ByteWriter& out) {
        ValueCodec<Timestamp>::encode(t, Timestamp::from_time_point(v), out);
    }
    /// UsageError when the timestamp is outside system_clock's range.
    static TP decode(const DataType& t, BytesView b) {
        return ValueCodec<Timestamp>::decode(t, b).to_time_point();
    }
};
template <>
struct ValueCodec<Duration> {
    static bool accepts(const DataType& t) noexcept { return t.kind == TypeKind::duration; }
    static DataTypePtr natural_type() { return detail::cached_simple(TypeKind::duration); }
    /// UsageError when the parts have different signs (v5 spec 6.8).
    static void encode(const DataType& t, const Duration& v, detail::ByteWriter& out);
    static Duration decode(const DataType& t, BytesView b);
};
template <>
struct ValueCodec<Varint> {
    static bool accepts(const DataType& t) noexcept { return t.kind == TypeKind::varint; }
    static DataTypePtr natural_type() { return detail::cached_simple(TypeKind::varint); }
    static void encode(const DataType&, const Varint& v, detail::ByteWriter& out) {
        out.write_bytes(BytesView(v.bytes()));
    }
    static Varint decode(const DataType& t, BytesView b);
};
template <>
struct ValueCodec<Decimal> {
    static bool accepts(const DataType& t) noexcept { return t.kind == TypeKind::decimal; }
    static DataTypePtr natural_type() { return detail::cached_simple(TypeKind::decimal); }
    static void encode(const DataType&, const Decimal& v, detail::ByteWriter& out) {
        out.write_i32(static_cast<std::int32_t>(4 + v.unscaled.bytes().size()));
        out.write_i32(v.scale);
        out.write_raw(BytesView(v.unscaled.bytes()));
    }
    static Decimal decode(const DataType& t, BytesView b);
};
/// Encode only: writes "not set" (length -2, v4+).
template <>
struct ValueCodec<Unset> {
    static bool accepts(const DataType&) noexcept { return true; }
    static DataTypePtr natural_type() { return detail::cached_simple(TypeKind::blob); }
    static void encode(const DataType&, Unset, detail::ByteWriter& out) { out.write_unset_value(); }
};

/// null <-> std::nullopt. (Decoding null is handled by detail::decode_nullable.)
template <class T>
struct ValueCodec<std::optional<T>> {
    static constexpr std::size_t wire_size = detail::wire_size_of<T>();
    static bool accepts(const DataType& t) { return ValueCodec<T>::accepts(t); }
    static DataTypePtr natural_type() { return ValueCodec<T>::natural_type(); }
    static void encode(const DataType& t, const std::optional<T>& v, detail::ByteWriter& out) {
        if (v) ValueCodec<T>::encode(t, *v, out);
        else out.write_null_bytes();
    }
    static std::optional<T> decode(const DataType& t, BytesView b) { return ValueCodec<T>::decode(t, b); }
};

// ---------------------------------------------------------------- collections and vectors

namespace detail {

template <class T>
bool accepts_param(const DataType& t, std::size_t i) {
    return t.params.size() > i && t.params[i] && ValueCodec<T>::accepts(*t.params[i]);
}

/// Encodes one vector element: fixed-size ones bare, variable-size ones with an unsigned vint
/// length (Cassandra 5 VectorType format).
template <class T>
void encode_vector_element(const DataType& element_type, const T& v, detail::ByteWriter& out) {
    const std::size_t at = out.size();
    ValueCodec<T>::encode(element_type, v, out);
    Bytes& buf = out.buffer();
    const auto len = detail::load_be<std::int32_t>(buf.data() + at);
    if (len < 0) throw TypeError("a vector element cannot be null or unset");
    const auto ulen = static_cast<std::size_t>(len);
    const std::size_t fixed = vector_element_size(element_type);
    if (fixed != 0 && ulen != fixed) throw_bad_size(element_type, fixed, ulen);
    // Move the payload over the 4-byte [int] length, then re-insert a vint prefix if variable.
    buf.erase(buf.begin() + static_cast<std::ptrdiff_t>(at), buf.begin() + static_cast<std::ptrdiff_t>(at + 4));
    if (fixed == 0) {
        Bytes prefix;
        detail::ByteWriter pw(prefix);
        write_unsigned_vint(pw, ulen);
        buf.insert(buf.begin() + static_cast<std::ptrdiff_t>(at), prefix.begin(), prefix.end());
    }
}

/// Calls `f(std::optional<BytesView>)` for each element of a list/set (v5 spec 6.12/6.14) or a
/// vector body; returns the count. Throws ProtocolError on malformed input or trailing bytes.
template <class F>
void for_each_element(const DataType& type, BytesView bytes, F&& f) {
    detail::ByteReader in(bytes);
    if (type.kind == TypeKind::vector) {
        const DataType& et = *type.params.at(0);
        const std::size_t fixed = vector_element_size(et);
        if (type.vector_dimension < 0) throw_invalid(type, "negative dimension");
        for (std::int32_t i = 0; i < type.vector_dimension; ++i) {
            std::size_t n = fixed;
            if (n == 0) {
                const std::uint64_t len = read_unsigned_vint(in);
                if (len > in.remaining()) detail::throw_truncated(in.remaining() + 1, in.remaining());
                n = static_cast<std::size_t>(len);
            }
            f(std::optional<BytesView>(in.take(n)));
        }
    } else {
        const std::size_t n = read_count(in, type);
        for (std::size_t i = 0; i < n; ++i) f(read_element(in));
    }
    if (!in.empty())
        throw ProtocolError(ProtocolErrc::trailing_bytes, type.cql_name() + " value has " +
                                                              std::to_string(in.remaining()) + " extra bytes");
}

/// list/set/vector encoder shared by the sequence codecs.
template <class Elem, class Range>
void encode_sequence(const DataType& type, const Range& r, std::size_t count, detail::ByteWriter& out) {
    const DataType& et = *type.params.at(0);
    const std::size_t at = out.reserve_i32();
    if (type.kind == TypeKind::vector) {
        if (count != static_cast<std::size_t>(type.vector_dimension))
            throw TypeError("vector of " + std::to_string(count) + " elements for " + type.cql_name());
        for (const auto& e : r) encode_vector_element<Elem>(et, e, out);
    } else {
        if (count > 0x7FFFFFFF) throw TypeError("collection too large");
        out.write_i32(static_cast<std::int32_t>(count));
        for (const auto& e : r) ValueCodec<Elem>::encode(et, e, out);
    }
    finish_value(out, at);
}

template <class Elem>
bool accepts_sequence(const DataType& t, bool allow_vector) {
    const bool kind_ok = t.kind == TypeKind::list || t.kind == TypeKind::set || (allow_vector && t.kind == TypeKind::vector);
    return kind_ok && accepts_param<Elem>(t, 0);
}

}  // namespace detail

/// list<T>, set<T> (in server order) and vector<T, n>.
template <class T, class A>
struct ValueCodec<std::vector<T, A>> {
    static bool accepts(const DataType& t) { return detail::accepts_sequence<T>(t, true); }
    static DataTypePtr natural_type() { return DataType::list_of(ValueCodec<T>::natural_type()); }
    static void encode(const DataType& t, const std::vector<T, A>& v, detail::ByteWriter& out) {
        detail::encode_sequence<T>(t, v, v.size(), out);
    }
    static std::vector<T, A> decode(const DataType& t, BytesView b) {
        std::vector<T, A> out;
        const DataType& et = *t.params.at(0);
        if (t.kind == TypeKind::vector && t.vector_dimension > 0)
            out.reserve(std::min<std::size_t>(static_cast<std::size_t>(t.vector_dimension), b.size()));
        detail::for_each_element(t, b, [&](std::optional<BytesView> e) {
            out.push_back(detail::decode_nullable<T>(et, e, "element"));
        });
        return out;
    }
};

/// set<T> (also accepts a list column).
template <class T, class C, class A>
struct ValueCodec<std::set<T, C, A>> {
    static bool accepts(const DataType& t) { return detail::accepts_sequence<T>(t, false); }
    static DataTypePtr natural_type() { return DataType::set_of(ValueCodec<T>::natural_type()); }
    static void encode(const DataType& t, const std::set<T, C, A>& v, detail::ByteWriter& out) {
        detail::encode_sequence<T>(t, v, v.size(), out);
    }
    static std::set<T, C, A> decode(const DataType& t, BytesView b) {
        std::set<T, C, A> out;
        const DataType& et = *t.params.at(0);
        detail::for_each_element(t, b, [&](std::optional<BytesView> e) {
            out.insert(out.end(), detail::decode_nullable<T>(et, e, "element"));
        });
        return out;
    }
};

/// vector<T, N> (exact dimension) or a list of exactly N elements.
template <class T, std::size_t N>
struct ValueCodec<std::array<T, N>> {
    static bool accepts(const DataType& t) {
        if (t.kind == TypeKind::vector && static_cast<std::size_t>(t.vector_dimension) != N) return false;
        return detail::accepts_sequence<T>(t, true);
    }
    static DataTypePtr natural_type() {
        return DataType::vector_of(ValueCodec<T>::natural_type(), static_cast<std::int32_t>(N));
    }
    static void encode(const DataType& t, const std::array<T, N>& v, detail::ByteWriter& out) {
        detail::encode_sequence<T>(t, v, N, out);
    }
    static std::array<T, N> decode(const DataType& t, BytesView b) {
        std::array<T, N> out{};
        std::size_t i = 0;
        const DataType& et = *t.params.at(0);
        detail::for_each_element(t, b, [&](std::optional<BytesView> e) {
            if (i >= N) throw ProtocolError(ProtocolErrc::invalid_length, "more than " + std::to_string(N) + " elements");
            out[i++] = detail::decode_nullable<T>(et, e, "element");
        });
        if (i != N)
            throw ProtocolError(ProtocolErrc::invalid_length,
                                std::to_string(i) + " elements where " + std::to_string(N) + " were expected");
        return out;
    }
};

namespace detail {
template <class K, class V, class M>
struct MapCodec {
    static bool accepts(const DataType& t) {
        return t.kind == TypeKind::map && accepts_param<K>(t, 0) && accepts_param<V>(t, 1);
    }
    static DataTypePtr natural_type() {
        return DataType::map_of(ValueCodec<K>::natural_type(), ValueCodec<V>::natural_type());
    }
    /// v5 spec 6.13: [int] n, then n (key [bytes], value [bytes]).
    static void encode(const DataType& t, const M& m, detail::ByteWriter& out) {
        const std::size_t at = out.reserve_i32();
        if (m.size() > 0x7FFFFFFF) throw TypeError("map too large");
        out.write_i32(static_cast<std::int32_t>(m.size()));
        for (const auto& [k, v] : m) {
            ValueCodec<K>::encode(*t.params[0], k, out);
            ValueCodec<V>::encode(*t.params[1], v, out);
        }
        finish_value(out, at);
    }
    static M decode(const DataType& t, BytesView b) {
        detail::ByteReader in(b);
        const std::size_t n = read_count(in, t);
        M out;
        for (std::size_t i = 0; i < n; ++i) {
            K k = decode_nullable<K>(*t.params[0], read_element(in), "map key");
            V v = decode_nullable<V>(*t.params[1], read_element(in), "map value");
            out.emplace(std::move(k), std::move(v));
        }
        if (!in.empty()) throw ProtocolError(ProtocolErrc::trailing_bytes, "map value has extra bytes");
        return out;
    }
};
}  // namespace detail

template <class K, class V, class C, class A>
struct ValueCodec<std::map<K, V, C, A>> : detail::MapCodec<K, V, std::map<K, V, C, A>> {};
template <class K, class V, class H, class E, class A>
struct ValueCodec<std::unordered_map<K, V, H, E, A>> : detail::MapCodec<K, V, std::unordered_map<K, V, H, E, A>> {};
/// A map as (key, value) pairs in server order.
template <class K, class V, class A>
struct ValueCodec<std::vector<std::pair<K, V>, A>> : detail::MapCodec<K, V, std::vector<std::pair<K, V>, A>> {
    using Base = detail::MapCodec<K, V, std::vector<std::pair<K, V>, A>>;
    static std::vector<std::pair<K, V>, A> decode(const DataType& t, BytesView b) {
        detail::ByteReader in(b);
        const std::size_t n = detail::read_count(in, t);
        std::vector<std::pair<K, V>, A> out;
        out.reserve(std::min(n, in.remaining() / 8));
        for (std::size_t i = 0; i < n; ++i) {
            K k = detail::decode_nullable<K>(*t.params[0], detail::read_element(in), "map key");
            V v = detail::decode_nullable<V>(*t.params[1], detail::read_element(in), "map value");
            out.emplace_back(std::move(k), std::move(v));
        }
        if (!in.empty()) throw ProtocolError(ProtocolErrc::trailing_bytes, "map value has extra bytes");
        return out;
    }
};

/// tuple<...> (v5 spec 6.21): one [bytes] per element; missing trailing elements read as null.
template <class... Ts>
struct ValueCodec<std::tuple<Ts...>> {
    static bool accepts(const DataType& t) {
        return t.kind == TypeKind::tuple && t.params.size() == sizeof...(Ts) && accepts_all(std::index_sequence_for<Ts...>{}, t);
    }
    static DataTypePtr natural_type() { return DataType::tuple_of({ValueCodec<Ts>::natural_type()...}); }
    static void encode(const DataType& t, const std::tuple<Ts...>& v, detail::ByteWriter& out) {
        const std::size_t at = out.reserve_i32();
        encode_all(std::index_sequence_for<Ts...>{}, t, v, out);
        detail::finish_value(out, at);
    }
    static std::tuple<Ts...> decode(const DataType& t, BytesView b) {
        detail::ByteReader in(b);
        return decode_all(std::index_sequence_for<Ts...>{}, t, in);
    }

private:
    template <std::size_t... I>
    static bool accepts_all(std::index_sequence<I...>, const DataType& t) {
        return (detail::accepts_param<Ts>(t, I) && ...);
    }
    template <std::size_t... I>
    static void encode_all(std::index_sequence<I...>, const DataType& t, const std::tuple<Ts...>& v,
                           detail::ByteWriter& out) {
        (ValueCodec<Ts>::encode(*t.params[I], std::get<I>(v), out), ...);
    }
    template <std::size_t... I>
    static std::tuple<Ts...> decode_all(std::index_sequence<I...>, const DataType& t, detail::ByteReader& in) {
        // Braced initialization evaluates left to right, matching the wire order.
        std::tuple<Ts...> out{decode_one<Ts>(*t.params[I], in)...};
        if (!in.empty()) throw ProtocolError(ProtocolErrc::trailing_bytes, "tuple value has extra bytes");
        return out;
    }
    template <class T>
    static T decode_one(const DataType& et, detail::ByteReader& in) {
        if (in.empty()) return detail::decode_nullable<T>(et, std::nullopt, "tuple element");
        return detail::decode_nullable<T>(et, detail::read_element(in), "tuple element");
    }
};

// ---------------------------------------------------------------- user structs (UDT / rows)

namespace detail {
template <class S, class M>
struct FieldDesc {
    std::string_view name;
    M S::*member;
};
template <class... F>
constexpr auto make_fields(std::nullptr_t, F... f) {
    return std::make_tuple(f...);
}
}  // namespace detail

/// A struct opted in with ASYNC_CASSANDRA_UDT.
template <class S>
concept MappedStruct = requires(const S* p) { async_cassandra_fields(p); };

template <class S>
auto fields_of() {
    return async_cassandra_fields(static_cast<const S*>(nullptr));
}

/// UDT (v5 spec 7): struct fields map to UDT fields by name. Decoding needs every struct field
/// to exist in the UDT type; UDT fields without a struct field are skipped (decode) or written
/// as null (encode). Missing trailing values read as null.
template <MappedStruct S>
struct ValueCodec<S> {
    static bool accepts(const DataType& t) {
        if (t.kind != TypeKind::udt) return false;
        bool ok = true;
        std::apply([&](const auto&... f) { ((ok = ok && accepts_field(t, f)), ...); }, fields_of<S>());
        return ok;
    }
    static DataTypePtr natural_type() {
        auto t = std::make_shared<DataType>();
        t->kind = TypeKind::udt;
        std::apply(
            [&](const auto&... f) {
                ((t->field_names.emplace_back(f.name),
                  t->params.push_back(ValueCodec<member_t<decltype(f)>>::natural_type())),
                 ...);
            },
            fields_of<S>());
        return t;
    }
    static void encode(const DataType& t, const S& s, detail::ByteWriter& out) {
        const std::size_t at = out.reserve_i32();
        const auto fields = fields_of<S>();
        for (std::size_t i = 0; i < t.field_names.size() && i < t.params.size(); ++i) {
            bool written = false;
            std::apply(
                [&](const auto&... f) {
                    ((!written && f.name == t.field_names[i]
                          ? (ValueCodec<member_t<decltype(f)>>::encode(*t.params[i], s.*(f.member), out), written = true)
                          : false),
                     ...);
                },
                fields);
            if (!written) out.write_null_bytes();
        }
        detail::finish_value(out, at);
    }
    static S decode(const DataType& t, BytesView b) {
        S s{};
        detail::ByteReader in(b);
        const auto fields = fields_of<S>();
        for (std::size_t i = 0; i < t.field_names.size() && i < t.params.size(); ++i) {
            const auto raw = in.empty() ? std::optional<BytesView>() : detail::read_element(in);
            std::apply(
                [&](const auto&... f) {
                    ((f.name == t.field_names[i]
                          ? (void)(s.*(f.member) =
                                       detail::decode_nullable<member_t<decltype(f)>>(*t.params[i], raw, f.name))
                          : (void)0),
                     ...);
                },
                fields);
        }
        if (!in.empty()) throw ProtocolError(ProtocolErrc::trailing_bytes, "UDT value has extra bytes");
        return s;
    }

    template <class F>
    using member_t = std::remove_cvref_t<decltype(std::declval<const S&>().*(std::declval<F>().member))>;

private:
    template <class F>
    static bool accepts_field(const DataType& t, const F& f) {
        for (std::size_t i = 0; i < t.field_names.size() && i < t.params.size(); ++i)
            if (t.field_names[i] == f.name) return ValueCodec<member_t<const F&>>::accepts(*t.params[i]);
        return false;
    }
};

// ---------------------------------------------------------------- entry points

namespace detail {
/// The codec type for an argument type: string literals and char arrays are `const char*`.
template <class T>
using codec_type_t = std::conditional_t<std::is_array_v<std::remove_cvref_t<T>> &&
                                            std::is_same_v<std::remove_extent_t<std::remove_cvref_t<T>>, char>,
                                        const char*, std::remove_cvref_t<T>>;
}  // namespace detail

/// Checks the type, then appends the [value] (with length) of `value` as `type`.
/// Throws TypeError when T cannot be written as `type`.
template <class T>
void encode_value(detail::ByteWriter& out, const DataType& type, const T& value) {
    using U = detail::codec_type_t<T>;
    if (!ValueCodec<U>::accepts(type)) detail::throw_type_mismatch("value", type, detail::cpp_type_name<U>());
    ValueCodec<U>::encode(type, value, out);
}
/// Appends the [value] of `value` as its natural CQL type (for statements without metadata).
template <class T>
void encode_value(detail::ByteWriter& out, const T& value) {
    using U = detail::codec_type_t<T>;
    ValueCodec<U>::encode(*ValueCodec<U>::natural_type(), value, out);
}
/// Checks the type and decodes a possibly-null value. TypeError, NullValueError, ProtocolError.
template <class T>
T decode_value(const DataType& type, std::optional<BytesView> bytes) {
    if (!ValueCodec<T>::accepts(type)) detail::throw_type_mismatch("value", type, detail::cpp_type_name<T>());
    return detail::decode_nullable<T>(type, bytes, "value");
}

// ---------------------------------------------------------------- dynamic (type-driven) text

/// Lossless CQL literal of any value, e.g. 'it''s', 0x0a0b, [1, 2], {'k': 3}, (1, 'a'),
/// {f: 1}, '2024-01-02T03:04:05.678Z', 1y2mo, NaN; null as "null". Throws ProtocolError on
/// malformed bytes.
std::string to_cql_literal(const DataType& type, std::optional<BytesView> bytes);
/// JSON text of any value: numbers and booleans bare (NaN/Infinity as strings), everything else
/// as strings, lists/sets/tuples/vectors as arrays, maps and UDTs as objects (non-text map keys
/// as their JSON text in a string); null as null.
std::string to_json(const DataType& type, std::optional<BytesView> bytes);

}  // namespace async_cassandra

// Opts a struct into UDT and row mapping by field name:
//   struct Address { std::string street; std::int32_t zip; };
//   ASYNC_CASSANDRA_UDT(Address, street, zip)
// Use it at namespace scope in the struct's own namespace (found by argument-dependent lookup).
#define ACASS_DETAIL_PARENS ()
#define ACASS_DETAIL_EXPAND(...) ACASS_DETAIL_EXPAND3(ACASS_DETAIL_EXPAND3(ACASS_DETAIL_EXPAND3(__VA_ARGS__)))
#define ACASS_DETAIL_EXPAND3(...) ACASS_DETAIL_EXPAND2(ACASS_DETAIL_EXPAND2(ACASS_DETAIL_EXPAND2(__VA_ARGS__)))
#define ACASS_DETAIL_EXPAND2(...) ACASS_DETAIL_EXPAND1(ACASS_DETAIL_EXPAND1(ACASS_DETAIL_EXPAND1(__VA_ARGS__)))
#define ACASS_DETAIL_EXPAND1(...) __VA_ARGS__
#define ACASS_DETAIL_FOR_EACH(macro, S, ...) \
    __VA_OPT__(ACASS_DETAIL_EXPAND(ACASS_DETAIL_FOR_EACH_STEP(macro, S, __VA_ARGS__)))
#define ACASS_DETAIL_FOR_EACH_STEP(macro, S, first, ...) \
    macro(S, first) __VA_OPT__(ACASS_DETAIL_FOR_EACH_AGAIN ACASS_DETAIL_PARENS(macro, S, __VA_ARGS__))
#define ACASS_DETAIL_FOR_EACH_AGAIN() ACASS_DETAIL_FOR_EACH_STEP
#define ACASS_DETAIL_FIELD(S, f) \
    , ::async_cassandra::detail::FieldDesc<S, decltype(S::f)> { #f, &S::f }

#define ASYNC_CASSANDRA_UDT(S, ...)                                                          \
    [[maybe_unused]] inline auto async_cassandra_fields(const S*) {                          \
        return ::async_cassandra::detail::make_fields(nullptr ACASS_DETAIL_FOR_EACH(ACASS_DETAIL_FIELD, S, __VA_ARGS__)); \
    }
/// Same mapping, used by Page::decode_into to map struct fields to columns by name.
#define ASYNC_CASSANDRA_ROW(S, ...) ASYNC_CASSANDRA_UDT(S, __VA_ARGS__)

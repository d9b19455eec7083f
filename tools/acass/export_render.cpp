#include "export_render.hpp"
#include "uuid_text.hpp"

#include <async_cassandra/codec.hpp>
#include <async_cassandra/text_codec.hpp>
#include <async_cassandra/value_text.hpp>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace acass_cli {

namespace ac = async_cassandra;

// ---------------------------------------------------------------- TextBuffer

void TextBuffer::grow(std::size_t n) {
    // What is asked for plus a little when that is more than doubling: a large value is not
    // held twice over by a buffer that doubled past it, and the delimiter, quote or newline
    // written after it still fit (with exactly the value's room, that one byte doubled the
    // buffer and copied the value: 3x the value at the peak with the response, not 2x).
    const std::size_t wanted = size_ + n;
    const std::size_t capacity = std::max({wanted + wanted / 64 + 4096, capacity_ * 2, std::size_t{4096}});
    auto data = std::unique_ptr<char[]>(new char[capacity]);
    if (size_) std::memcpy(data.get(), data_.get(), size_);
    data_ = std::move(data);
    capacity_ = capacity;
}

namespace {

// memcpy for the short texts of most cells, without a call: two overlapping loads and stores.
[[gnu::always_inline]] inline void copy_bytes(char* to, const char* from, std::size_t n) noexcept {
    if (n >= 8 && n <= 16) {
        std::uint64_t a, b;
        std::memcpy(&a, from, 8);
        std::memcpy(&b, from + n - 8, 8);
        std::memcpy(to, &a, 8);
        std::memcpy(to + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        std::uint32_t a, b;
        std::memcpy(&a, from, 4);
        std::memcpy(&b, from + n - 4, 4);
        std::memcpy(to, &a, 4);
        std::memcpy(to + n - 4, &b, 4);
    } else if (n < 4) {
        for (std::size_t i = 0; i < n; ++i) to[i] = from[i];
    } else {
        std::memcpy(to, from, n);
    }
}

}  // namespace

void TextBuffer::append(std::string_view text) {
    char* p = room(text.size());
    copy_bytes(p, text.data(), text.size());
    size_ += text.size();
}

// ---------------------------------------------------------------- numbers and dates by hand

namespace {

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

inline char* put2(char* p, unsigned v) noexcept {
    std::memcpy(p, kDigitPairs + 2 * v, 2);
    return p + 2;
}

inline char* put4(char* p, unsigned v) noexcept {
    put2(p, v / 100);
    return put2(p + 2, v % 100);
}

constexpr std::uint64_t kPow5[] = {1ull,
                                   5ull,
                                   25ull,
                                   125ull,
                                   625ull,
                                   3125ull,
                                   15625ull,
                                   78125ull,
                                   390625ull,
                                   1953125ull,
                                   9765625ull,
                                   48828125ull,
                                   244140625ull,
                                   1220703125ull,
                                   6103515625ull,
                                   30517578125ull,
                                   152587890625ull,
                                   762939453125ull,
                                   3814697265625ull,
                                   19073486328125ull,
                                   95367431640625ull,
                                   476837158203125ull};
constexpr std::uint64_t kPow10[] = {1ull,
                                    10ull,
                                    100ull,
                                    1000ull,
                                    10000ull,
                                    100000ull,
                                    1000000ull,
                                    10000000ull,
                                    100000000ull,
                                    1000000000ull,
                                    10000000000ull,
                                    100000000000ull,
                                    1000000000000ull,
                                    10000000000000ull,
                                    100000000000000ull,
                                    1000000000000000ull,
                                    10000000000000000ull,
                                    100000000000000000ull,
                                    1000000000000000000ull,
                                    10000000000000000000ull};
constexpr std::uint64_t kMaxExactDigits = 999'999'999'999'999;  // 15 significant digits

// Decimal digits of v (v > 0): its bit width times log10(2), corrected by one comparison.
inline int digit_count(std::uint64_t v) noexcept {
    const int guess = (std::bit_width(v) * 1233) >> 12;
    return guess + (v >= kPow10[guess] ? 1 : 0) + (v == 0 ? 1 : 0);
}

// The decimal digits of v, two at a time from the end (std::to_chars' text, without its
// length loop).
[[gnu::always_inline]] inline char* write_u64(char* p, std::uint64_t v) noexcept {
    char* const end = p + digit_count(v);
    char* q = end;
    while (v >= 100) {
        q -= 2;
        put2(q, static_cast<unsigned>(v % 100));
        v /= 100;
    }
    if (v >= 10) put2(q - 2, static_cast<unsigned>(v));
    else q[-1] = static_cast<char>('0' + v);
    return end;
}

[[gnu::always_inline]] inline char* write_i64(char* p, std::int64_t v) noexcept {
    if (v < 0) {
        *p++ = '-';
        return write_u64(p, 0 - static_cast<std::uint64_t>(v));
    }
    return write_u64(p, static_cast<std::uint64_t>(v));
}

}  // namespace

// A double whose exact decimal value has at most 15 significant digits (prices, counters, n/2^k)
// is formatted from those digits: no other string of at most that many digits lies within half
// an ulp of it, so they are the shortest round trip std::to_chars finds. std::to_chars then
// prints fixed or scientific notation, whichever is shorter (fixed on a tie), as printf's %f /
// %e would, and so does this. Everything else (more digits, zero, subnormals, NaN) is
// std::to_chars' own work; tests compare the two on millions of values.
char* write_shortest_double(char* out, double value) noexcept {
    const auto bits = std::bit_cast<std::uint64_t>(value);
    const auto biased = static_cast<int>((bits >> 52) & 0x7FF);
    if (biased == 0 || biased == 0x7FF) return std::to_chars(out, out + 32, value).ptr;
    std::uint64_t mantissa = (bits & ((std::uint64_t{1} << 52) - 1)) | (std::uint64_t{1} << 52);
    int exponent = biased - 1075;  // value = mantissa * 2^exponent
    const int zeros = std::countr_zero(mantissa);
    mantissa >>= zeros;
    exponent += zeros;
    char* p = out;
    if (bits >> 63) *p++ = '-';
    std::uint64_t digits = 0;
    int decimal_exponent = 0;  // |value| = digits * 10^decimal_exponent
    if (exponent >= 0) {
        if (exponent >= 50 || (mantissa << exponent) >> exponent != mantissa ||
            (mantissa << exponent) > kMaxExactDigits)
            return std::to_chars(out, out + 32, value).ptr;
        const std::uint64_t whole = mantissa << exponent;
        digits = whole;
        while (digits % 10 == 0) digits /= 10, ++decimal_exponent;
        // An integer: fixed is its digits; scientific is the significant ones, "e+XX" and a
        // point when there are several (fewer than 100 as the value is below 10^15).
        const int significant = digit_count(digits);
        if (significant + decimal_exponent <= significant + (significant > 1 ? 1 : 0) + 4) return write_u64(p, whole);
    } else {
        const int halvings = -exponent;  // m / 2^j = m * 5^j / 10^j; odd * odd has no trailing 0
        if (halvings >= static_cast<int>(std::size(kPow5)) || mantissa > kMaxExactDigits / kPow5[halvings])
            return std::to_chars(out, out + 32, value).ptr;
        digits = mantissa * kPow5[halvings];
        decimal_exponent = -halvings;
    }
    const int n = digit_count(digits);
    const int scientific_exponent = n - 1 + decimal_exponent;
    const int abs_exponent = scientific_exponent < 0 ? -scientific_exponent : scientific_exponent;
    const int scientific_size = n + (n > 1 ? 1 : 0) + 2 + (abs_exponent >= 100 ? 3 : 2);
    const int fixed_size = decimal_exponent >= 0 ? n + decimal_exponent
                           : scientific_exponent >= 0 ? n + 1
                                                      : 2 - decimal_exponent;
    if (fixed_size <= scientific_size && decimal_exponent < 0) {
        // Integer part (or 0), point, then the fraction's digits with their leading zeros.
        const int fraction_digits = -decimal_exponent;
        p = write_u64(p, digits / kPow10[fraction_digits]);
        *p++ = '.';
        std::uint64_t fraction = digits % kPow10[fraction_digits];
        char* end = p + fraction_digits;
        char* q = end;
        for (; q - p >= 2; q -= 2, fraction /= 100) put2(q - 2, static_cast<unsigned>(fraction % 100));
        if (q > p) *p = static_cast<char>('0' + fraction);
        return end;
    }
    char text[20] = {};
    std::to_chars(text, text + sizeof text, digits);
    *p++ = text[0];
    if (n > 1) {
        *p++ = '.';
        std::memcpy(p, text + 1, static_cast<std::size_t>(n - 1));
        p += n - 1;
    }
    *p++ = 'e';
    *p++ = scientific_exponent < 0 ? '-' : '+';
    if (abs_exponent >= 100) *p++ = static_cast<char>('0' + abs_exponent / 100);
    return put2(p, static_cast<unsigned>(abs_exponent % 100));
}

// ---------------------------------------------------------------- the per-column plan

namespace {

enum class CellKind : std::uint8_t { text, int8, int16, int32, int64, float32, float64, boolean, timestamp, date, uuid, blob, generic };

// The characters a fast-path kind's text can hold (CSV: if the dialect makes one of them
// special, the text is scanned and quoted like any other).
std::string_view alphabet(CellKind kind) {
    switch (kind) {
        case CellKind::int8:
        case CellKind::int16:
        case CellKind::int32:
        case CellKind::int64: return "-0123456789";
        case CellKind::float32:
        case CellKind::float64: return "-+.0123456789e";  // NaN and Infinity take the generic path
        case CellKind::boolean: return "truefals";
        case CellKind::timestamp: return "0123456789-:.TZ";
        case CellKind::date: return "0123456789-";
        case CellKind::uuid: return "0123456789abcdef-";
        case CellKind::blob: return "0123456789abcdefx";
        case CellKind::text:
        case CellKind::generic: break;
    }
    return {};
}

CellKind kind_of(ac::TypeKind type) {
    using K = ac::TypeKind;
    switch (type) {
        case K::ascii:
        case K::varchar: return CellKind::text;
        case K::tinyint: return CellKind::int8;
        case K::smallint: return CellKind::int16;
        case K::int_: return CellKind::int32;
        case K::bigint:
        case K::counter: return CellKind::int64;
        case K::float_: return CellKind::float32;
        case K::double_: return CellKind::float64;
        case K::boolean: return CellKind::boolean;
        case K::timestamp: return CellKind::timestamp;
        case K::date: return CellKind::date;
        case K::uuid:
        case K::timeuuid: return CellKind::uuid;
        case K::blob: return CellKind::blob;
        default: return CellKind::generic;
    }
}

// The wire size a fast path reads; a cell of another size (an empty value) takes the generic
// path, which renders it as the library does ("null" for an empty int).
std::int32_t fast_size(CellKind kind) {
    switch (kind) {
        case CellKind::int8:
        case CellKind::boolean: return 1;
        case CellKind::int16: return 2;
        case CellKind::int32:
        case CellKind::float32:
        case CellKind::date: return 4;
        case CellKind::int64:
        case CellKind::float64:
        case CellKind::timestamp: return 8;
        case CellKind::uuid: return 16;
        case CellKind::text:
        case CellKind::blob:
        case CellKind::generic: break;
    }
    return -1;  // any size
}

// Whether a byte of a 64-bit word equals the byte replicated in `pattern` (exact as a yes/no).
inline std::uint64_t zero_byte_bits(std::uint64_t word) noexcept {
    return (word - 0x0101010101010101ull) & ~word & 0x8080808080808080ull;
}

inline std::uint64_t load_word(const char* p) noexcept {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}

// Runs `hit(word)` over `text` 8 bytes at a time. The last word overlaps the one before (or
// repeats bytes of a short text), so it holds only the text's own bytes.
template <class Hit>
[[gnu::always_inline]] inline bool any_word(std::string_view text, Hit hit) noexcept {
    const char* s = text.data();
    const std::size_t n = text.size();
    if (n >= 8) {
        for (std::size_t i = 0; i + 8 <= n; i += 8)
            if (hit(load_word(s + i))) return true;
        return n % 8 != 0 && hit(load_word(s + n - 8));
    }
    if (n >= 4) {
        std::uint32_t a, b;
        std::memcpy(&a, s, 4);
        std::memcpy(&b, s + n - 4, 4);
        return hit(a | std::uint64_t{b} << 32);
    }
    if (n == 0) return false;
    const auto byte = [s](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(s[i])}; };
    return hit((0x0101010101010101ull * byte(0) & ~0xFFFF00ull) | byte(n / 2) << 8 | byte(n - 1) << 16);
}

/// Whether `text` holds one of the five bytes replicated in `words`.
[[gnu::always_inline]] inline bool any_special(std::string_view text, const std::uint64_t (&words)[5]) noexcept {
    return any_word(text, [&words](std::uint64_t w) {
        return (zero_byte_bits(w ^ words[0]) | zero_byte_bits(w ^ words[1]) | zero_byte_bits(w ^ words[2]) |
                zero_byte_bits(w ^ words[3]) | zero_byte_bits(w ^ words[4])) != 0;
    });
}

/// Whether JSON must escape a byte of `text` (a quote, a backslash, a control character).
[[gnu::always_inline]] inline bool json_needs_escapes(std::string_view text) noexcept {
    return any_word(text, [](std::uint64_t w) {
        const std::uint64_t below_space = (w - 0x2020202020202020ull) & ~w & 0x8080808080808080ull;
        return (below_space | zero_byte_bits(w ^ 0x2222222222222222ull) | zero_byte_bits(w ^ 0x5C5C5C5C5C5C5C5Cull)) != 0;
    });
}


// The quoted field: quote, text with each quote and escape character escaped, quote.
void append_quoted_field(TextBuffer& out, std::string_view text, const CsvDialect& dialect) {
    const char quote = dialect.quote, escape = dialect.escape_char();
    const std::size_t escaped =
        static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [&](char c) { return c == quote || c == escape; }));
    char* p = out.room(text.size() + escaped + 2);
    *p++ = quote;
    for (char c : text) {
        if (c == quote || c == escape) *p++ = escape;
        *p++ = c;
    }
    *p++ = quote;
    out.set_end(p);
}

char* write_date(char* p, const ac::Date::Ymd& ymd) noexcept {
    p = put4(p, static_cast<unsigned>(ymd.year));
    *p++ = '-';
    p = put2(p, ymd.month);
    *p++ = '-';
    return put2(p, ymd.day);
}

template <class Int>
[[gnu::always_inline]] inline char* write_int(char* p, const std::uint8_t* b) noexcept {
    return write_i64(p, ac::detail::load_be<Int>(b));
}

}  // namespace

struct RowRenderer::ColumnPlan {
    CellKind kind = CellKind::generic;
    std::int32_t size = -1;  ///< the wire size of the fast path (-1: any)
    bool csv_check = false;  ///< CSV: the fast text may need quotes in this dialect
    const ac::DataType* type = nullptr;
    std::string json_key;  ///< JSON lines: `{"name": ` for the first column, `, "name": ` after
};

RowRenderer::RowRenderer(TextStyle style, CsvDialect dialect) : style_(style), dialect_(std::move(dialect)) {
    const char specials[5] = {dialect_.delimiter, dialect_.quote, dialect_.escape_char(), '\r', '\n'};
    for (int k = 0; k < 5; ++k) csv_specials_[k] = 0x0101010101010101ull * static_cast<unsigned char>(specials[k]);
}
RowRenderer::~RowRenderer() = default;

void RowRenderer::plan_for(const ac::Columns& columns) {
    columns_ = columns;
    plans_.clear();
    std::string specials{dialect_.delimiter, dialect_.quote, dialect_.escape_char(), '\r', '\n'};
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        ColumnPlan plan;
        plan.type = columns_[i].type.get();
        plan.kind = kind_of(plan.type->kind);
        plan.size = fast_size(plan.kind);
        const std::string_view chars = alphabet(plan.kind);
        plan.csv_check = !dialect_.null_string.empty() ||
                         std::any_of(chars.begin(), chars.end(), [&](char c) { return specials.find(c) != std::string::npos; });
        plan.json_key = i == 0 ? "{" : ", ";
        ac::append_json_string(plan.json_key, columns_[i].name);
        plan.json_key += ": ";
        plans_.push_back(std::move(plan));
    }
}

// The write position of a TextBuffer, held in locals while rows are rendered: a store through a
// char* may alias anything, so writing through the buffer's own members would reload them
// after every byte. A slow path takes buffer() (brought up to date) and then calls reload().
class TextCursor {
public:
    explicit TextCursor(TextBuffer& buffer) : buffer_(buffer) { reload(); }
    char* need(std::size_t n) {
        if (static_cast<std::size_t>(limit_ - at_) < n) [[unlikely]] grow(n);
        return at_;
    }
    void done(char* end) noexcept { at_ = end; }
    char* at() const noexcept { return at_; }
    void put(char c) {
        *need(1) = c;
        ++at_;
    }
    void write(std::string_view text) {
        char* p = need(text.size());
        copy_bytes(p, text.data(), text.size());
        at_ = p + text.size();
    }
    std::size_t size() const noexcept { return static_cast<std::size_t>(at_ - start_); }
    TextBuffer& buffer() noexcept {
        buffer_.set_end(at_);
        return buffer_;
    }
    void reload() noexcept {
        start_ = buffer_.data();
        at_ = start_ + buffer_.size();
        limit_ = start_ + buffer_.capacity();
    }

private:
    [[gnu::noinline]] void grow(std::size_t n) {
        buffer_.set_end(at_);
        buffer_.room(n);
        reload();
    }
    TextBuffer& buffer_;
    char* start_ = nullptr;
    char* at_ = nullptr;
    char* limit_ = nullptr;
};

void RowRenderer::append_csv_text(TextBuffer& out, std::string_view text) {
    const std::string& null_string = dialect_.null_string;
    if (!text.empty() && !(text.size() == null_string.size() && text == null_string) &&
        !any_special(text, csv_specials_)) {
        out.append(text);
        return;
    }
    append_quoted_field(out, text, dialect_);
}

void RowRenderer::append_generic(TextBuffer& out, const ColumnPlan& column, const std::uint8_t* data, std::int32_t size) {
    const std::optional<ac::BytesView> raw =
        size < 0 ? std::nullopt : std::optional<ac::BytesView>(ac::BytesView(data, static_cast<std::size_t>(size)));
    scratch_.clear();
    if (style_ == TextStyle::jsonl) {
        ac::append_json(scratch_, *column.type, raw);
        out.append(scratch_);
        return;
    }
    // value_text: the CQL literal, without its quotes when it is one quoted string.
    ac::append_cql_literal(scratch_, *column.type, raw);
    std::string_view text = scratch_;
    if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
        const std::string_view inner = text.substr(1, text.size() - 2);
        if (inner.find('\'') != std::string_view::npos) {
            if (auto unquoted = value_text(*column.type, raw)) append_csv_text(out, *unquoted);
            return;
        }
        text = inner;
    }
    append_csv_text(out, text);
}

void RowRenderer::append_json_escaped(TextBuffer& out, std::string_view text) {
    scratch_.clear();
    ac::append_json_string(scratch_, text);
    out.append(scratch_);
}

bool RowRenderer::cache_day(std::int64_t days) {
    if (days < std::numeric_limits<std::int32_t>::min() || days > std::numeric_limits<std::int32_t>::max()) return false;
    const ac::Date::Ymd ymd = ac::Date{static_cast<std::int32_t>(days)}.to_ymd();
    if (ymd.year < 0 || ymd.year > 9999) return false;  // "+10000-...", "-0001-...": the library's text
    write_date(cached_date_, ymd);
    cached_day_ = days;
    return true;
}

void RowRenderer::requote_csv(TextCursor& out, char* start) {
    // The fast text of a cell, in a dialect where it may need quotes: the general rule on a copy.
    const std::string text(start, out.at());
    out.done(start);
    append_csv_text(out.buffer(), text);
    out.reload();
}

void RowRenderer::pass_large_text(TextCursor& out, std::string_view text, bool json_quotes) {
    TextBuffer& buffer = out.buffer();
    if (json_quotes) buffer.push_back('"');
    large_sink_(buffer.view());
    buffer.clear();
    large_sink_(text);
    if (json_quotes) buffer.push_back('"');
    out.reload();
}

template <bool Json>
[[gnu::always_inline]] inline void RowRenderer::render_cell(TextCursor& out, const ColumnPlan& column, const std::uint8_t* data, std::int32_t size) {
    if (size < 0) {  // NULL
        out.write(Json ? std::string_view("null") : std::string_view(dialect_.null_string));
        return;
    }
    const auto slow = [&] {
        append_generic(out.buffer(), column, data, size);
        out.reload();
    };
    if (column.kind == CellKind::text) {
        const std::string_view text(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
        if constexpr (Json) {
            if (json_needs_escapes(text)) [[unlikely]] {
                append_json_escaped(out.buffer(), text);
                out.reload();
                return;
            }
            if (text.size() >= large_threshold_) [[unlikely]] {
                pass_large_text(out, text, true);
                return;
            }
            char* p = out.need(text.size() + 2);
            *p++ = '"';
            copy_bytes(p, text.data(), text.size());
            p += text.size();
            *p++ = '"';
            out.done(p);
        } else {
            const std::string& null_string = dialect_.null_string;
            if (size == 0 || (text.size() == null_string.size() && text == null_string) ||
                any_special(text, csv_specials_)) [[unlikely]] {
                append_quoted_field(out.buffer(), text, dialect_);
                out.reload();
                return;
            }
            if (text.size() >= large_threshold_) [[unlikely]] {
                pass_large_text(out, text, false);
                return;
            }
            out.write(text);
        }
        return;
    }
    if (size != column.size && column.size >= 0) [[unlikely]] {  // an empty value ("null")
        slow();
        return;
    }
    char* const start = out.need(column.kind == CellKind::blob ? 2 * static_cast<std::size_t>(size) + 4 : 64);
    char* p = start;
    switch (column.kind) {
        case CellKind::int8: p = write_int<std::int8_t>(p, data); break;
        case CellKind::int16: p = write_int<std::int16_t>(p, data); break;
        case CellKind::int32: p = write_int<std::int32_t>(p, data); break;
        case CellKind::int64: p = write_int<std::int64_t>(p, data); break;
        case CellKind::float32: {
            const float v = std::bit_cast<float>(ac::detail::load_be<std::uint32_t>(data));
            if (!std::isfinite(v)) [[unlikely]] {  // NaN, Infinity: the library's words
                slow();
                return;
            }
            p = std::to_chars(p, p + 32, v).ptr;
            break;
        }
        case CellKind::float64: {
            const double v = std::bit_cast<double>(ac::detail::load_be<std::uint64_t>(data));
            if (!std::isfinite(v)) [[unlikely]] {
                slow();
                return;
            }
            p = write_shortest_double(p, v);
            break;
        }
        case CellKind::boolean: {
            const std::string_view word = data[0] != 0 ? "true" : "false";
            std::memcpy(p, word.data(), 5);  // room for 64
            p += word.size();
            break;
        }
        case CellKind::timestamp: {
            const auto ms = ac::detail::load_be<std::int64_t>(data);
            std::int64_t days = ms / 86'400'000;
            std::int64_t ms_of_day = ms % 86'400'000;
            if (ms_of_day < 0) ms_of_day += 86'400'000, --days;
            if (days != cached_day_ && !cache_day(days)) [[unlikely]] {
                slow();
                return;
            }
            if constexpr (Json) *p++ = '"';
            const auto secs = static_cast<unsigned>(ms_of_day / 1000);
            std::memcpy(p, cached_date_, 10);
            p[10] = 'T';
            put2(p + 11, secs / 3600);
            p[13] = ':';
            put2(p + 14, secs / 60 % 60);
            p[16] = ':';
            put2(p + 17, secs % 60);
            p[19] = '.';
            const auto millis = static_cast<unsigned>(ms_of_day % 1000);
            p[20] = static_cast<char>('0' + millis / 100);
            put2(p + 21, millis % 100);
            p[23] = 'Z';
            p += 24;
            if constexpr (Json) *p++ = '"';
            break;
        }
        case CellKind::date: {
            const ac::Date::Ymd ymd = ac::Date::from_wire(ac::detail::load_be<std::uint32_t>(data)).to_ymd();
            if (ymd.year < 0 || ymd.year > 9999) [[unlikely]] {
                slow();
                return;
            }
            if constexpr (Json) *p++ = '"';
            p = write_date(p, ymd);
            if constexpr (Json) *p++ = '"';
            break;
        }
        case CellKind::uuid:
            if constexpr (Json) *p++ = '"';
            p = write_uuid_text(p, data);
            if constexpr (Json) *p++ = '"';
            break;
        case CellKind::blob: {
            static constexpr char kHex[] = "0123456789abcdef";
            if constexpr (Json) *p++ = '"';
            *p++ = '0';
            *p++ = 'x';
            for (std::int32_t i = 0; i < size; ++i) {
                *p++ = kHex[data[i] >> 4];
                *p++ = kHex[data[i] & 0xF];
            }
            if constexpr (Json) *p++ = '"';
            break;
        }
        case CellKind::text:
        case CellKind::generic:
            slow();
            return;
    }
    out.done(p);
    if constexpr (!Json)
        if (column.csv_check) [[unlikely]] requote_csv(out, start);
}

template <bool Json>
std::size_t RowRenderer::render_rows(TextBuffer& buffer, const ac::Page& page, std::size_t first, std::size_t last,
                                     std::size_t stop_at_bytes) {
    const ac::detail::PageState& state = *page.state();
    const ColumnPlan* const plans = plans_.data();
    const std::size_t n = plans_.size();
    const char delimiter = dialect_.delimiter;
    TextCursor out(buffer);
    for (std::size_t r = first; r < last; ++r) {
        const std::uint8_t* p = state.base + state.row_offsets[r];
        for (std::size_t c = 0; c < n; ++c) {
            const ColumnPlan& column = plans[c];
            if constexpr (Json) out.write(column.json_key);
            else if (c) out.put(delimiter);
            const auto size = ac::detail::load_be<std::int32_t>(p);
            p += 4;
            render_cell<Json>(out, column, p, size);
            if (size > 0) p += size;
        }
        if constexpr (Json) out.write(n ? "}\n" : "{}\n");
        else out.put('\n');
        if (out.size() >= stop_at_bytes) {
            out.buffer();
            return r + 1;
        }
    }
    out.buffer();
    return last;
}

std::size_t RowRenderer::append_rows(TextBuffer& out, const ac::Page& page, std::size_t first, std::size_t last,
                                     std::size_t stop_at_bytes) {
    if (first >= last) return last;
    if (page.columns_ptr() != planned_page_columns_) {
        if (!(page.columns() == columns_)) plan_for(page.columns());
        planned_page_columns_ = page.columns_ptr();
    }
    return style_ == TextStyle::jsonl ? render_rows<true>(out, page, first, last, stop_at_bytes)
                                      : render_rows<false>(out, page, first, last, stop_at_bytes);
}

void RowRenderer::append_row(TextBuffer& buffer, const ac::Row& row) {
    if (!(row.columns() == columns_)) {
        plan_for(row.columns());
        planned_page_columns_.reset();
    }
    const bool json = style_ == TextStyle::jsonl;
    TextCursor out(buffer);
    for (std::size_t c = 0; c < plans_.size(); ++c) {
        const std::optional<ac::BytesView> raw = row.raw(c);
        const std::uint8_t* data = raw ? raw->data() : nullptr;
        const std::int32_t size = raw ? static_cast<std::int32_t>(raw->size()) : -1;
        if (json) {
            out.write(plans_[c].json_key);
            render_cell<true>(out, plans_[c], data, size);
        } else {
            if (c) out.put(dialect_.delimiter);
            render_cell<false>(out, plans_[c], data, size);
        }
    }
    if (json) out.write(plans_.empty() ? "{}\n" : "}\n");
    else out.put('\n');
    out.buffer();
}

}  // namespace acass_cli

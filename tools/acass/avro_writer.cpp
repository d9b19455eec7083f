// Avro object container files through avro-c (Debian's libavro-dev, 1.11).
//
// avro-c rewrites a schema from its parsed form when it writes a file header, and that form has
// no room for docs, logical types or extra attributes. So this writer writes the header itself
// (magic, avro.codec, avro.schema with the full JSON, sync marker) and then opens the file with
// avro_file_writer_open_bs, which reads that header and appends data blocks with its codec and
// sync marker. Resuming is the same open on an existing file, after cutting off a block a
// crashed run may have left half-written.
//
// Type mapping (every column and nested value is a union ["null", T]; lossless first):
//   int, smallint, tinyint -> int          bigint, counter -> long
//   float -> float, double -> double        boolean -> boolean
//   text, ascii -> string                   blob, custom -> bytes
//   timestamp -> long (timestamp-millis)    date -> int (date: days since 1970-01-01)
//   time -> long, nanoseconds since midnight (no Avro logical type keeps nanoseconds)
//   uuid, timeuuid -> string (uuid)         inet -> string (address text)
//   varint -> string (decimal digits)
//   decimal -> bytes (decimal, precision 38, scale 18: Spark's Cassandra connector's choice); a
//             value that needs more fractional digits or more than 38 digits is an error, never
//             rounded (export it as CSV or JSON lines, which keep the exact text)
//   duration -> record {months: int, days: int, nanoseconds: long}
//   list, set -> array                      map<text|ascii, V> -> map
//   other maps -> array of record {key, value}
//   tuple -> record {f0, f1, ...}           UDT -> record (one field per UDT field)
//   vector<T, n> -> array of T (T itself for fixed-size elements, ["null", T] otherwise)
// Names that are not valid Avro names are rewritten (invalid characters to '_', a leading
// digit prefixed); fields keep the CQL name in a "cql_name" attribute and their CQL type in
// "cql_type".
#include "avro_writer.hpp"

#include "errors.hpp"
#include "uuid_text.hpp"

#include <async_cassandra/text_codec.hpp>

#include <async_cassandra/codec.hpp>

#include <avro.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace acass_cli {

namespace ac = async_cassandra;

namespace {

// Snappy by default: with avro-c's deflate the writer managed about 150k rows/s against about
// 1.9M rows/s with snappy (5 narrow columns), and Avro readers of note read snappy. The
// environment variable ACASS_AVRO_CODEC picks null or deflate instead for new files (avro-c's
// "lzma" is left out: its header name is not the standard "xz", so other readers refuse it); an
// appended file keeps the codec its header names.
constexpr const char* kDefaultCodec = "snappy";

std::string codec_name() {
    const char* env = std::getenv("ACASS_AVRO_CODEC");
    return env && *env ? env : kDefaultCodec;
}
constexpr std::size_t kInitialBlockSize = 256 * 1024;  // avro-c's block buffer: the largest row it can hold

// avro-c's message, and the OS reason when the failure was a system call's (avro-c's file
// writer says "Cannot write file block: " and leaves the reason in errno). Callers clear errno
// before the avro-c call, so a stale value is not reported.
std::string avro_error_text() {
    const int os_error = errno;
    const char* why = avro_strerror();
    std::string text = why && *why ? why : "unknown avro-c error";
    while (!text.empty() && (text.back() == ' ' || text.back() == ':')) text.pop_back();
    if (os_error != 0) text += std::string(": ") + std::strerror(os_error);
    return text;
}

[[noreturn]] void fail(const std::string& path, const std::string& what) {
    throw std::runtime_error("avro file " + path + ": " + what);
}


std::string json_quoted(std::string_view s) {
    std::string out;
    async_cassandra::append_json_string(out, s);
    return out;
}

/// An Avro name ([A-Za-z_][A-Za-z0-9_]*) for `raw`.
std::string sanitize(std::string_view raw, std::string_view fallback) {
    std::string out;
    for (char c : raw) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        out += ok ? c : '_';
    }
    if (out.empty()) out = fallback;
    if (out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
    return out;
}

/// Hands out names not used yet in one scope (Avro names must be unique per record, and named
/// types unique per schema; `for_type` keeps named types clear of the primitive type names).
class NameScope {
public:
    std::string claim(std::string base, bool for_type = false) {
        static const std::set<std::string> kReserved = {"null",   "boolean", "int",  "long",  "float", "double", "bytes",
                                                        "string", "record",  "enum", "array", "map",   "fixed"};
        if (for_type && kReserved.count(base)) base += "_";
        std::string name = base;
        for (int n = 2; !used_.insert(name).second; ++n) name = base + "_" + std::to_string(n);
        return name;
    }

private:
    std::set<std::string> used_;
};

bool is_text(ac::TypeKind k) { return k == ac::TypeKind::varchar || k == ac::TypeKind::ascii; }

const ac::DataType& param(const ac::DataType& t, std::size_t i) {
    if (t.params.size() <= i || !t.params[i])
        throw DataError("CQL type " + t.cql_name() + " without its parameters cannot be written as Avro");
    return *t.params[i];
}

// ---------------------------------------------------------------- decimals

__extension__ using Int128 = __int128;  // GCC/Clang: 10^38 fits, so does every decimal(38, s)

constexpr int kAvroDecimalPrecision = 38;
constexpr int kAvroDecimalScale = 18;

/// `d` as the two's-complement big-endian unscaled value of an Avro decimal of scale
/// kAvroDecimalScale: exact, or ac::TypeError (more fractional digits, or more than 38 digits).
std::vector<std::uint8_t> avro_decimal_bytes(const ac::Decimal& d) {
    const auto refuse = [&](const char* why) {
        return ac::TypeError("decimal " + d.to_string() + " " + why + " (Avro decimal(" +
                             std::to_string(kAvroDecimalPrecision) + ", " + std::to_string(kAvroDecimalScale) +
                             ")); export it as CSV or JSON lines, which keep the exact value");
    };
    const std::vector<std::uint8_t>& bytes = d.unscaled.bytes();
    if (bytes.size() > 16) throw refuse("has more than 38 digits");
    Int128 v = (bytes[0] & 0x80) ? -1 : 0;  // sign extension
    for (std::uint8_t byte : bytes) v = v * 256 + byte;
    constexpr Int128 limit = [] {
        Int128 p = 1;
        for (int i = 0; i < kAvroDecimalPrecision; ++i) p *= 10;
        return p;
    }();
    for (std::int64_t scale = d.scale; scale < kAvroDecimalScale && v != 0; ++scale) {
        if (v >= limit / 10 || v <= -limit / 10) throw refuse("has more than 38 digits");
        v *= 10;
    }
    for (std::int64_t scale = d.scale; scale > kAvroDecimalScale && v != 0; --scale) {
        if (v % 10 != 0) throw refuse("has more than 18 fractional digits");
        v /= 10;
    }
    if (v >= limit || v <= -limit) throw refuse("has more than 38 digits");
    std::vector<std::uint8_t> out(16);
    for (int i = 15; i >= 0; --i, v >>= 8) out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v & 0xFF);
    // Minimal form: drop leading bytes that only repeat the sign.
    std::size_t skip = 0;
    while (skip + 1 < out.size() && ((out[skip] == 0x00 && !(out[skip + 1] & 0x80)) ||
                                     (out[skip] == 0xFF && (out[skip + 1] & 0x80))))
        ++skip;
    return {out.begin() + static_cast<std::ptrdiff_t>(skip), out.end()};
}

// ---------------------------------------------------------------- schema

class SchemaBuilder {
public:
    /// The Avro type of a non-null value of `t`.
    std::string type_of(const ac::DataType& t, std::string_view hint) {
        using K = ac::TypeKind;
        switch (t.kind) {
            case K::int_:
            case K::smallint:
            case K::tinyint: return "\"int\"";
            case K::bigint:
            case K::counter: return "\"long\"";
            case K::float_: return "\"float\"";
            case K::double_: return "\"double\"";
            case K::boolean: return "\"boolean\"";
            case K::ascii:
            case K::varchar: return "\"string\"";
            case K::blob:
            case K::custom: return "\"bytes\"";
            case K::timestamp: return R"({"type": "long", "logicalType": "timestamp-millis"})";
            case K::date: return R"({"type": "int", "logicalType": "date"})";
            case K::time: return R"({"type": "long", "cql_type": "time", "unit": "nanoseconds since midnight"})";
            case K::uuid:
            case K::timeuuid: return R"({"type": "string", "logicalType": "uuid"})";
            case K::inet: return R"({"type": "string", "cql_type": "inet"})";
            case K::varint: return R"({"type": "string", "cql_type": "varint"})";
            case K::decimal:
                return R"({"type": "bytes", "logicalType": "decimal", "precision": )" +
                       std::to_string(kAvroDecimalPrecision) + R"(, "scale": )" + std::to_string(kAvroDecimalScale) +
                       R"(, "cql_type": "decimal"})";
            case K::duration:
                return R"({"type": "record", "name": )" + json_quoted(names_.claim("duration", true)) +
                       R"(, "cql_type": "duration", "fields": [{"name": "months", "type": "int"}, )"
                       R"({"name": "days", "type": "int"}, {"name": "nanoseconds", "type": "long"}]})";
            case K::list:
            case K::set: return R"({"type": "array", "items": )" + nullable(param(t, 0), hint) + "}";
            case K::vector: {
                const ac::DataType& et = param(t, 0);
                if (t.vector_dimension <= 0) throw DataError("CQL type " + t.cql_name() + " has no valid dimension");
                const bool fixed = ac::detail::vector_element_size(et) != 0;
                return R"({"type": "array", "items": )" + (fixed ? type_of(et, hint) : nullable(et, hint)) + "}";
            }
            case K::map: {
                const ac::DataType& kt = param(t, 0);
                const ac::DataType& vt = param(t, 1);
                if (is_text(kt.kind)) return R"({"type": "map", "values": )" + nullable(vt, hint) + "}";
                return R"({"type": "array", "items": {"type": "record", "name": )" +
                       json_quoted(names_.claim(std::string(hint) + "_entry", true)) + R"(, "fields": [{"name": "key", "type": )" +
                       nullable(kt, hint) + R"(}, {"name": "value", "type": )" + nullable(vt, hint) + "}]}}";
            }
            case K::tuple: {
                std::string out = R"({"type": "record", "name": )" + json_quoted(names_.claim(std::string(hint) + "_tuple", true)) +
                                  R"(, "fields": [)";
                for (std::size_t i = 0; i < t.params.size(); ++i) {
                    if (i) out += ", ";
                    out += R"({"name": "f)" + std::to_string(i) + R"(", "type": )" + nullable(param(t, i), hint) + "}";
                }
                return out + "]}";
            }
            case K::udt: {
                std::string out = R"({"type": "record", "name": )" + json_quoted(names_.claim(sanitize(t.udt_name, "udt"), true)) +
                                  R"(, "cql_type": )" + json_quoted(t.cql_name()) + R"(, "fields": [)";
                NameScope fields;
                for (std::size_t i = 0; i < t.params.size(); ++i) {
                    const std::string cql = i < t.field_names.size() ? t.field_names[i] : "";
                    if (i) out += ", ";
                    out += R"({"name": )" + json_quoted(fields.claim(sanitize(cql, "field"))) + R"(, "cql_name": )" + json_quoted(cql) +
                           R"(, "type": )" + nullable(param(t, i), sanitize(cql, "field")) + "}";
                }
                return out + "]}";
            }
        }
        throw DataError("CQL type " + t.cql_name() + " has no Avro mapping");
    }

    std::string nullable(const ac::DataType& t, std::string_view hint) {
        return R"(["null", )" + type_of(t, hint) + "]";
    }

    std::string record(const ac::Columns& columns, const std::string& record_name) {
        std::string out = R"({"type": "record", "name": )" + json_quoted(names_.claim(sanitize(record_name, "row"), true)) +
                          R"(, "doc": "Rows exported by acass. time: long nanoseconds since midnight; varint: )"
                          R"(exact decimal text; decimal: Avro decimal(38, 18); inet: address text; duration: record of months, days, )"
                          R"(nanoseconds; maps with non-text keys: arrays of key/value records.", "fields": [)";
        NameScope fields;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            const ac::Column& c = columns[i];
            if (!c.type) throw DataError("column " + c.name + " has no type");
            const std::string name = fields.claim(sanitize(c.name, "column"));
            if (i) out += ", ";
            out += R"({"name": )" + json_quoted(name) + R"(, "type": )" + nullable(*c.type, name) +
                   R"(, "default": null, "cql_name": )" + json_quoted(c.name) + R"(, "cql_type": )" + json_quoted(c.type->cql_name()) +
                   "}";
        }
        return out + "]}";
    }

private:
    NameScope names_;  // named types (records) of the whole schema
};

// ---------------------------------------------------------------- container file framing

void put_long(std::string& out, std::int64_t v) {  // zig-zag varint (Avro "long")
    auto u = (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
    while (u >= 0x80) {
        out += static_cast<char>((u & 0x7F) | 0x80);
        u >>= 7;
    }
    out += static_cast<char>(u);
}

void put_bytes(std::string& out, std::string_view s) {
    put_long(out, static_cast<std::int64_t>(s.size()));
    out += s;
}

std::string container_header(const std::string& schema_json, const std::string& codec) {
    std::string out = "Obj\x01";
    put_long(out, 2);  // one metadata map block of two entries, then the end marker
    put_bytes(out, "avro.codec");
    put_bytes(out, codec);
    put_bytes(out, "avro.schema");
    put_bytes(out, schema_json);
    put_long(out, 0);
    std::random_device rd;
    for (int i = 0; i < 16; ++i) out += static_cast<char>(rd() & 0xFF);
    return out;
}

/// Cursor over a container file's bytes for the append check.
struct FileScan {
    const std::string& data;
    std::size_t pos = 0;
    bool ok = true;

    std::int64_t get_long() {
        std::uint64_t u = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= data.size()) {
                ok = false;
                return 0;
            }
            const auto b = static_cast<std::uint8_t>(data[pos++]);
            u |= static_cast<std::uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80)) return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
        }
        ok = false;
        return 0;
    }
    bool skip(std::int64_t n) {
        if (!ok || n < 0 || static_cast<std::uint64_t>(n) > data.size() - pos) return ok = false;
        pos += static_cast<std::size_t>(n);
        return true;
    }
};

/// Length of the file up to the end of its last complete block (header included): what a
/// resumed export keeps; `schema_json` receives the header's schema. Throws when the header
/// itself is unreadable.
std::size_t complete_length(const std::string& path, const std::string& data, std::string& schema_json) {
    FileScan s{data};
    if (data.size() < 4 || data.compare(0, 4, std::string("Obj\x01", 4)) != 0) fail(path, "not an Avro container file");
    s.pos = 4;
    while (s.ok) {  // metadata map blocks
        std::int64_t n = s.get_long();
        if (n == 0) break;
        if (n < 0) {
            n = -n;
            s.get_long();  // block size in bytes
        }
        for (std::int64_t i = 0; i < n && s.ok; ++i) {
            const std::int64_t key_size = s.get_long();
            const std::size_t key_at = s.pos;
            if (!s.skip(key_size)) break;
            const std::int64_t value_size = s.get_long();
            const std::size_t value_at = s.pos;
            if (!s.skip(value_size)) break;
            if (data.compare(key_at, static_cast<std::size_t>(key_size), "avro.schema") == 0)
                schema_json = data.substr(value_at, static_cast<std::size_t>(value_size));
        }
    }
    if (!s.ok || data.size() - s.pos < 16) fail(path, "truncated Avro header");
    const std::string sync = data.substr(s.pos, 16);
    s.pos += 16;
    std::size_t good = s.pos;
    while (s.pos < data.size()) {
        const std::int64_t count = s.get_long();
        const std::int64_t size = s.get_long();
        if (!s.ok || count < 0 || !s.skip(size) || data.size() - s.pos < 16 || data.compare(s.pos, 16, sync) != 0) break;
        s.pos += 16;
        good = s.pos;
    }
    return good;
}

// ---------------------------------------------------------------- rows encoded without avro-c's values

/// How a top-level column of a primitive Avro type is encoded (see the type table above).
enum class FastColumn : std::uint8_t { int8, int16, int32, int64, float32, float64, boolean, string, bytes, uuid, date, time };

std::optional<FastColumn> fast_column(ac::TypeKind kind) {
    using K = ac::TypeKind;
    switch (kind) {
        case K::tinyint: return FastColumn::int8;
        case K::smallint: return FastColumn::int16;
        case K::int_: return FastColumn::int32;
        case K::bigint:
        case K::counter:
        case K::timestamp: return FastColumn::int64;
        case K::float_: return FastColumn::float32;
        case K::double_: return FastColumn::float64;
        case K::boolean: return FastColumn::boolean;
        case K::ascii:
        case K::varchar: return FastColumn::string;
        case K::blob:
        case K::custom: return FastColumn::bytes;
        case K::uuid:
        case K::timeuuid: return FastColumn::uuid;
        case K::date: return FastColumn::date;
        case K::time: return FastColumn::time;
        default: return std::nullopt;
    }
}

// Avro's int and long: zig-zag, then 7 bits a byte, low bits first.
inline char* put_long(char* p, std::int64_t v) noexcept {
    auto u = (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
    while (u >= 0x80) {
        *p++ = static_cast<char>(u | 0x80);
        u >>= 7;
    }
    *p++ = static_cast<char>(u);
    return p;
}

/// Appends the Avro binary encoding of the row at `p` (cells as validated by the driver) to
/// `out`: per column the union branch (0 null, 1 value) and the value. Returns false, with
/// `out` in an unspecified state, for a cell the fast path does not take (a size other than
/// the type's, a time out of range): the generic path then reports it as it always has.
bool encode_row(std::string& out, const std::uint8_t* p, const std::vector<FastColumn>& columns) {
    for (const FastColumn column : columns) {
        const auto size = ac::detail::load_be<std::int32_t>(p);
        p += 4;
        const std::uint8_t* const cell = p;
        if (size > 0) p += size;
        const bool variable = column == FastColumn::string || column == FastColumn::bytes;
        if (size < 0 || (size == 0 && !variable)) {  // NULL, or an empty value of a fixed-size type
            out += '\0';
            continue;
        }
        const std::size_t at = out.size();
        out.resize(at + 48 + (variable ? static_cast<std::size_t>(size) : 0));
        char* w = out.data() + at;
        *w++ = 2;  // the value branch
        const auto fixed = [&](std::int32_t expected) { return size == expected; };
        switch (column) {
            case FastColumn::int8:
                if (!fixed(1)) return false;
                w = put_long(w, static_cast<std::int8_t>(cell[0]));
                break;
            case FastColumn::int16:
                if (!fixed(2)) return false;
                w = put_long(w, ac::detail::load_be<std::int16_t>(cell));
                break;
            case FastColumn::int32:
                if (!fixed(4)) return false;
                w = put_long(w, ac::detail::load_be<std::int32_t>(cell));
                break;
            case FastColumn::int64:
                if (!fixed(8)) return false;
                w = put_long(w, ac::detail::load_be<std::int64_t>(cell));
                break;
            case FastColumn::date:
                if (!fixed(4)) return false;
                w = put_long(w, ac::Date::from_wire(ac::detail::load_be<std::uint32_t>(cell)).days_since_epoch);
                break;
            case FastColumn::time: {
                if (!fixed(8)) return false;
                const auto ns = ac::detail::load_be<std::int64_t>(cell);
                if (ns < 0 || ns >= ac::Time::kNanosPerDay) return false;
                w = put_long(w, ns);
                break;
            }
            case FastColumn::float32:  // little-endian IEEE 754
                if (!fixed(4)) return false;
                for (int i = 3; i >= 0; --i) *w++ = static_cast<char>(cell[i]);
                break;
            case FastColumn::float64:
                if (!fixed(8)) return false;
                for (int i = 7; i >= 0; --i) *w++ = static_cast<char>(cell[i]);
                break;
            case FastColumn::boolean:
                if (!fixed(1)) return false;
                *w++ = cell[0] != 0 ? 1 : 0;
                break;
            case FastColumn::string:
            case FastColumn::bytes:
                w = put_long(w, size);
                std::memcpy(w, cell, static_cast<std::size_t>(size));
                w += size;
                break;
            case FastColumn::uuid: {
                if (!fixed(16)) return false;
                w = put_long(w, 36);
                w = write_uuid_text(w, cell);
                break;
            }
        }
        out.resize(static_cast<std::size_t>(w - out.data()));
    }
    return true;
}

}  // namespace

// ---------------------------------------------------------------- the writer

struct AvroWriter::Impl {
    std::string path;
    std::string schema_json;
    ac::Columns columns;
    avro_schema_t schema = nullptr;
    avro_value_iface_t* iface = nullptr;
    avro_value_t row{};
    bool have_row = false;
    avro_file_writer_t writer = nullptr;
    std::size_t block_size = kInitialBlockSize;
    std::string current_column;  // for error messages
    // Rows whose columns all map to a primitive Avro type are encoded here, straight from the
    // cells' bytes, and handed to avro-c already encoded: its generic values took about 3,000
    // instructions per row of five columns. Empty: some column needs the generic values.
    std::vector<FastColumn> fast_columns;
    std::string encoded;

    ~Impl() {
        if (writer) avro_file_writer_close(writer);
        if (have_row) avro_value_decref(&row);
        if (iface) avro_value_iface_decref(iface);
        if (schema) avro_schema_decref(schema);
    }

    void check(int rc, const char* what) const {
        if (rc != 0) {
            std::string where = current_column.empty() ? "" : " (column " + current_column + ")";
            fail(path, std::string(what) + where + ": " + avro_error_text());
        }
    }

    void open_for_append() {
        if (avro_file_writer_open_bs(path.c_str(), &writer, block_size) != 0) {
            writer = nullptr;
            fail(path, "cannot open for writing: " + avro_error_text());
        }
    }

    void reopen_with_block_size(std::size_t size) {
        errno = 0;
        check(avro_file_writer_close(writer), "close before growing the block buffer");
        writer = nullptr;
        block_size = size;
        open_for_append();
    }

    // -------------------------------------------------------- values

    void set_string(avro_value_t& v, std::string_view s) {
        // avro-c counts the terminating NUL in string sizes; a std::string always has one.
        const std::string copy(s);
        check(avro_value_set_string_len(&v, copy.c_str(), copy.size() + 1), "string value");
    }

    void fill_nullable(avro_value_t& u, const ac::DataType& t, std::optional<ac::BytesView> raw) {
        avro_value_t branch;
        if (!raw || (raw->empty() && !ac::detail::empty_is_value(t.kind))) {
            check(avro_value_set_branch(&u, 0, &branch), "null branch");
            check(avro_value_set_null(&branch), "null value");
            return;
        }
        check(avro_value_set_branch(&u, 1, &branch), "value branch");
        fill(branch, t, *raw);
    }

    void fill(avro_value_t& v, const ac::DataType& t, ac::BytesView b) {
        using K = ac::TypeKind;
        switch (t.kind) {
            case K::tinyint: check(avro_value_set_int(&v, ac::ValueCodec<std::int8_t>::decode(t, b)), "int"); return;
            case K::smallint: check(avro_value_set_int(&v, ac::ValueCodec<std::int16_t>::decode(t, b)), "int"); return;
            case K::int_: check(avro_value_set_int(&v, ac::ValueCodec<std::int32_t>::decode(t, b)), "int"); return;
            case K::bigint:
            case K::counter: check(avro_value_set_long(&v, ac::ValueCodec<std::int64_t>::decode(t, b)), "long"); return;
            case K::float_: check(avro_value_set_float(&v, ac::ValueCodec<float>::decode(t, b)), "float"); return;
            case K::double_: check(avro_value_set_double(&v, ac::ValueCodec<double>::decode(t, b)), "double"); return;
            case K::boolean: check(avro_value_set_boolean(&v, ac::ValueCodec<bool>::decode(t, b) ? 1 : 0), "boolean"); return;
            case K::ascii:
            case K::varchar: set_string(v, std::string_view(reinterpret_cast<const char*>(b.data()), b.size())); return;
            case K::blob:
            case K::custom:
                check(avro_value_set_bytes(&v, const_cast<std::uint8_t*>(b.data()), b.size()), "bytes");
                return;
            case K::timestamp:
                check(avro_value_set_long(&v, ac::ValueCodec<ac::Timestamp>::decode(t, b).milliseconds), "timestamp");
                return;
            case K::date:
                check(avro_value_set_int(&v, ac::ValueCodec<ac::Date>::decode(t, b).days_since_epoch), "date");
                return;
            case K::time: check(avro_value_set_long(&v, ac::ValueCodec<ac::Time>::decode(t, b).nanoseconds()), "time"); return;
            case K::uuid:
            case K::timeuuid: set_string(v, ac::ValueCodec<ac::Uuid>::decode(t, b).to_string()); return;
            case K::inet: set_string(v, ac::ValueCodec<ac::Inet>::decode(t, b).to_string()); return;
            case K::varint: set_string(v, ac::ValueCodec<ac::Varint>::decode(t, b).to_string()); return;
            case K::decimal: {
                const std::vector<std::uint8_t> unscaled = avro_decimal_bytes(ac::ValueCodec<ac::Decimal>::decode(t, b));
                check(avro_value_set_bytes(&v, const_cast<std::uint8_t*>(unscaled.data()), unscaled.size()), "decimal");
                return;
            }
            case K::duration: {
                const ac::Duration d = ac::ValueCodec<ac::Duration>::decode(t, b);
                avro_value_t part;
                check(avro_value_get_by_index(&v, 0, &part, nullptr), "duration");
                check(avro_value_set_int(&part, d.months), "duration months");
                check(avro_value_get_by_index(&v, 1, &part, nullptr), "duration");
                check(avro_value_set_int(&part, d.days), "duration days");
                check(avro_value_get_by_index(&v, 2, &part, nullptr), "duration");
                check(avro_value_set_long(&part, d.nanoseconds), "duration nanoseconds");
                return;
            }
            case K::list:
            case K::set: {
                const ac::DataType& et = param(t, 0);
                ac::detail::for_each_element(t, b, [&](std::optional<ac::BytesView> e) {
                    avro_value_t elem;
                    check(avro_value_append(&v, &elem, nullptr), "array element");
                    fill_nullable(elem, et, e);
                });
                return;
            }
            case K::vector: {
                const ac::DataType& et = param(t, 0);
                const bool fixed = ac::detail::vector_element_size(et) != 0;
                ac::detail::for_each_element(t, b, [&](std::optional<ac::BytesView> e) {
                    avro_value_t elem;
                    check(avro_value_append(&v, &elem, nullptr), "vector element");
                    if (fixed) fill(elem, et, *e);  // for_each_element always gives fixed-size elements
                    else fill_nullable(elem, et, e);
                });
                return;
            }
            case K::map: {
                const ac::DataType& kt = param(t, 0);
                const ac::DataType& vt = param(t, 1);
                ac::detail::ByteReader in(b);
                const std::size_t n = ac::detail::read_count(in, t);
                for (std::size_t i = 0; i < n; ++i) {
                    const auto key = ac::detail::read_element(in);
                    const auto value = ac::detail::read_element(in);
                    avro_value_t entry;
                    if (is_text(kt.kind)) {
                        if (!key) throw ac::ProtocolError(ac::ProtocolErrc::invalid_value, "null map key");
                        const std::string k(reinterpret_cast<const char*>(key->data()), key->size());
                        if (k.find('\0') != std::string::npos)
                            throw DataError("map key with a NUL character cannot be an Avro map key");
                        check(avro_value_add(&v, k.c_str(), &entry, nullptr, nullptr), "map entry");
                        fill_nullable(entry, vt, value);
                    } else {
                        check(avro_value_append(&v, &entry, nullptr), "map entry");
                        avro_value_t field;
                        check(avro_value_get_by_index(&entry, 0, &field, nullptr), "map key");
                        fill_nullable(field, kt, key);
                        check(avro_value_get_by_index(&entry, 1, &field, nullptr), "map value");
                        fill_nullable(field, vt, value);
                    }
                }
                if (!in.empty()) throw ac::ProtocolError(ac::ProtocolErrc::trailing_bytes, "map value has extra bytes");
                return;
            }
            case K::tuple:
            case K::udt: {
                ac::detail::ByteReader in(b);
                for (std::size_t i = 0; i < t.params.size(); ++i) {
                    avro_value_t field;
                    check(avro_value_get_by_index(&v, i, &field, nullptr), "record field");
                    // Values written before the type grew have fewer fields: the rest are null.
                    fill_nullable(field, param(t, i), in.empty() ? std::nullopt : ac::detail::read_element(in));
                }
                if (!in.empty())
                    throw ac::ProtocolError(ac::ProtocolErrc::trailing_bytes, t.cql_name() + " value has extra bytes");
                return;
            }
        }
        throw DataError("CQL type " + t.cql_name() + " has no Avro mapping");
    }

    DataError value_error(std::size_t column, const std::exception& e) const {
        return DataError("avro file " + path + ": column " + columns[column].name + " (" +
                         columns[column].type->cql_name() + "): " + e.what());
    }

    void write_row(const ac::Row& r) {
        check(avro_value_reset(&row), "reset row");
        for (std::size_t c = 0; c < columns.size(); ++c) {
            current_column = columns[c].name;
            avro_value_t field;
            check(avro_value_get_by_index(&row, c, &field, nullptr), "row field");
            try {
                fill_nullable(field, *columns[c].type, r.raw(c));
            } catch (const ac::Error& e) {  // the value, not the file: exit 9, not 8
                throw value_error(c, e);
            } catch (const DataError& e) {
                throw value_error(c, e);
            }
        }
        current_column.clear();
        // avro-c fails (and leaves its block buffer inconsistent) on a row bigger than the
        // buffer: measure first and reopen with room for it.
        std::size_t size = 0;
        check(avro_value_sizeof(&row, &size), "size of row");
        if (size + 16 > block_size) reopen_with_block_size(std::max(block_size * 2, size * 2));
        errno = 0;
        check(avro_file_writer_append_value(writer, &row), "append row");
    }
};

AvroWriter::AvroWriter(const std::string& path, const ac::Columns& columns, const std::string& record_name, bool append)
    : impl_(std::make_unique<Impl>()) {
    Impl& s = *impl_;
    s.path = path;
    s.columns = columns;
    for (const ac::Column& c : columns) {
        const auto fast = c.type ? fast_column(c.type->kind) : std::nullopt;
        if (!fast || std::getenv("ACASS_AVRO_GENERIC_VALUES")) {  // testing hook: compare both paths
            s.fast_columns.clear();
            break;
        }
        s.fast_columns.push_back(*fast);
    }
    try {
        SchemaBuilder builder;
        s.schema_json = builder.record(columns, record_name);
    } catch (const DataError& e) {
        throw DataError("avro file " + path + ": " + e.what());  // a type Avro cannot hold: exit 9
    }
    if (avro_schema_from_json_length(s.schema_json.data(), s.schema_json.size(), &s.schema) != 0) {
        s.schema = nullptr;
        fail(path, "avro-c rejects the derived schema: " + avro_error_text());
    }
    s.iface = avro_generic_class_from_schema(s.schema);
    if (!s.iface) fail(path, "cannot build values for the schema: " + avro_error_text());
    s.check(avro_generic_value_new(s.iface, &s.row), "new row value");
    s.have_row = true;

    const bool exists = std::filesystem::exists(path);
    if (append && exists) {
        // A run killed while writing may have left a partial block: keep complete blocks only.
        {
            std::ifstream in(path, std::ios::binary);
            const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            if (!in.good() && !in.eof()) fail(path, std::string("cannot read it to append: ") + std::strerror(errno));
            std::string existing_json;
            const std::size_t keep = complete_length(path, data, existing_json);
            // Same columns as the earlier run? Compare the parsed schemas (attributes aside).
            avro_schema_t existing = nullptr;
            if (avro_schema_from_json_length(existing_json.data(), existing_json.size(), &existing) != 0)
                fail(path, "its header has no readable schema: " + avro_error_text());
            const bool same = avro_schema_equal(existing, s.schema) != 0;
            avro_schema_decref(existing);
            if (!same) fail(path, "was written with different columns; cannot append");
            if (keep < data.size()) {
                std::error_code ec;
                std::filesystem::resize_file(path, keep, ec);
                if (ec) fail(path, "cannot cut off an incomplete block: " + ec.message());
            }
        }
    } else {
        const std::string codec = codec_name();
        if (codec != "null" && codec != "deflate" && codec != "snappy")
            fail(path, "unknown Avro codec '" + codec + "' (ACASS_AVRO_CODEC: null, deflate or snappy)");
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        const std::string header = container_header(s.schema_json, codec);
        out.write(header.data(), static_cast<std::streamsize>(header.size()));
        out.close();
        if (!out) fail(path, std::string("cannot create: ") + std::strerror(errno));
    }
    s.open_for_append();
}

AvroWriter::~AvroWriter() = default;  // Impl's destructor closes (errors ignored)

void AvroWriter::write_page(const ac::Page& page) {
    if (!impl_->writer) fail(impl_->path, "write after close");
    if (!(page.columns() == impl_->columns)) {
        // Metadata may change between pages (v5); the file has one schema.
        if (page.columns().size() != impl_->columns.size()) fail(impl_->path, "page columns differ from the file's schema");
        for (std::size_t i = 0; i < page.columns().size(); ++i)
            if (!page.columns()[i].type || !(*page.columns()[i].type == *impl_->columns[i].type))
                fail(impl_->path, "column " + page.columns()[i].name + " changed type between pages");
    }
    Impl& s = *impl_;
    if (s.fast_columns.empty()) {
        for (const ac::Row r : page) s.write_row(r);
        return;
    }
    const ac::detail::PageState& state = *page.state();
    for (std::size_t r = 0; r < page.size(); ++r) {
        s.encoded.clear();
        if (!encode_row(s.encoded, state.base + state.row_offsets[r], s.fast_columns)) {
            s.write_row(page[r]);  // the generic values, and their errors
            continue;
        }
        if (s.encoded.size() + 16 > s.block_size) s.reopen_with_block_size(std::max(s.block_size * 2, s.encoded.size() * 2));
        errno = 0;
        s.check(avro_file_writer_append_encoded(s.writer, s.encoded.data(), static_cast<std::int64_t>(s.encoded.size())),
                "append row");
    }
}

void AvroWriter::flush() {
    if (!impl_->writer) return;
    errno = 0;
    impl_->check(avro_file_writer_flush(impl_->writer), "flush");
}

void AvroWriter::close() {
    if (!impl_->writer) return;
    avro_file_writer_t w = impl_->writer;
    impl_->writer = nullptr;
    errno = 0;
    if (avro_file_writer_close(w) != 0) fail(impl_->path, "close: " + avro_error_text());
}

std::string AvroWriter::schema_json() const { return impl_->schema_json; }

}  // namespace acass_cli

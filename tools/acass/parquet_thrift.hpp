// Thrift compact protocol: what the Parquet footer (FileMetaData) and page headers need. The
// write side builds them; the read side (ThriftValue, read_thrift_struct) parses back the
// structs this writer wrote (page headers and RowGroups, when a file is rewritten). Structs are written field by field in increasing field-id order; the writer
// keeps the last field id of every open struct for the compact protocol's id deltas.
//
//   ThriftWriter w;
//   w.field_i32(1, 4);             // a required i32
//   w.begin_struct_field(5);       // a nested struct
//   w.field_i32(1, 7);
//   w.end_struct();
//   w.end_struct();                // the stop byte of the outermost struct
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace acass_cli::parquet {

class ThriftWriter {
public:
    // Compact protocol type ids.
    static constexpr std::uint8_t kBoolTrue = 1, kBoolFalse = 2, kByte = 3, kI16 = 4, kI32 = 5, kI64 = 6,
                                  kDouble = 7, kBinary = 8, kList = 9, kStruct = 12;

    ThriftWriter() { last_ids_.push_back(0); }

    void field_i32(std::int16_t id, std::int32_t v) {
        field_header(id, kI32);
        varint(zigzag(v));
    }
    void field_i64(std::int16_t id, std::int64_t v) {
        field_header(id, kI64);
        varint(zigzag(v));
    }
    void field_i8(std::int16_t id, std::int8_t v) {
        field_header(id, kByte);
        out_ += static_cast<char>(v);
    }
    void field_i16(std::int16_t id, std::int16_t v) {
        field_header(id, kI16);
        varint(zigzag(v));
    }
    void field_bool(std::int16_t id, bool v) { field_header(id, v ? kBoolTrue : kBoolFalse); }
    void field_binary(std::int16_t id, std::string_view v) {
        field_header(id, kBinary);
        binary(v);
    }
    /// Opens a nested struct as field `id`; close it with end_struct().
    void begin_struct_field(std::int16_t id) {
        field_header(id, kStruct);
        last_ids_.push_back(0);
    }
    /// An empty struct as field `id` (the unions' empty marker structs).
    void field_empty_struct(std::int16_t id) {
        begin_struct_field(id);
        end_struct();
    }
    /// Writes the stop byte of the innermost open struct.
    void end_struct() {
        out_ += '\0';
        last_ids_.pop_back();
    }
    /// Opens a list field of `count` elements of `element_type`; then write the elements with
    /// list_i32 / list_binary / begin_list_struct..end_struct.
    void begin_list_field(std::int16_t id, std::uint8_t element_type, std::size_t count) {
        field_header(id, kList);
        if (count < 15) {
            out_ += static_cast<char>((count << 4) | element_type);
        } else {
            out_ += static_cast<char>(0xF0 | element_type);
            varint(count);
        }
    }
    void list_i32(std::int32_t v) { varint(zigzag(v)); }
    void list_binary(std::string_view v) { binary(v); }
    void list_i64(std::int64_t v) { varint(zigzag(v)); }
    /// A struct element of a list; close it with end_struct().
    void begin_list_struct() { last_ids_.push_back(0); }
    /// Appends bytes that already are one complete serialized struct (a list element).
    void raw(std::string_view bytes) { out_ += bytes; }

    const std::string& bytes() const noexcept { return out_; }
    std::string take() { return std::move(out_); }

private:
    static std::uint64_t zigzag(std::int64_t v) {
        return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
    }
public:
    void varint(std::uint64_t v) {
        while (v >= 0x80) {
            out_ += static_cast<char>((v & 0x7F) | 0x80);
            v >>= 7;
        }
        out_ += static_cast<char>(v);
    }
private:
    void binary(std::string_view v) {
        varint(v.size());
        out_ += v;
    }
public:
    /// A field header for a value the caller then writes itself (write_thrift_value).
    void field_header(std::int16_t id, std::uint8_t type) {
        const int delta = id - last_ids_.back();
        if (delta > 0 && delta <= 15) {
            out_ += static_cast<char>((delta << 4) | type);
        } else {
            out_ += static_cast<char>(type);
            varint(zigzag(id));
        }
        last_ids_.back() = id;
    }

private:
    std::string out_;
    std::vector<std::int16_t> last_ids_;
};

/// One parsed compact-protocol value: an integer (bool, byte, i16, i32, i64), a binary, a list or
/// a struct (fields in the order read). Doubles, sets and maps are refused: Parquet's page
/// headers and RowGroups written here have none.
struct ThriftValue {
    std::uint8_t type = 0;  ///< ThriftWriter::k* (booleans: kBoolTrue or kBoolFalse)
    std::int64_t integer = 0;
    std::string binary;
    std::uint8_t element_type = 0;  ///< list
    std::vector<ThriftValue> elements;
    std::vector<std::int16_t> field_ids;  ///< struct: its fields' ids, in the order read
    std::vector<ThriftValue> fields;       ///< ... and values (a vector of an incomplete type is fine, a pair is not)

    /// The struct field `id`, or nullptr.
    ThriftValue* field(std::int16_t id) {
        for (std::size_t i = 0; i < field_ids.size(); ++i)
            if (field_ids[i] == id) return &fields[i];
        return nullptr;
    }
    const ThriftValue* field(std::int16_t id) const { return const_cast<ThriftValue*>(this)->field(id); }
    /// The integer of field `id`; throws std::runtime_error when it is missing.
    std::int64_t integer_of(std::int16_t id) const {
        const ThriftValue* v = field(id);
        if (!v) throw std::runtime_error("Thrift struct without field " + std::to_string(id));
        return v->integer;
    }
};

/// Reads one struct from `in` (advancing it past the struct). Throws std::runtime_error on
/// malformed or truncated input.
inline ThriftValue read_thrift_struct(std::string_view& in, int depth = 0) {
    auto fail = [](const char* what) -> void { throw std::runtime_error(std::string("malformed Thrift: ") + what); };
    auto byte = [&]() -> std::uint8_t {
        if (in.empty()) fail("truncated");
        const auto b = static_cast<std::uint8_t>(in.front());
        in.remove_prefix(1);
        return b;
    };
    auto uvarint = [&]() -> std::uint64_t {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const std::uint8_t b = byte();
            v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80)) return v;
        }
        fail("varint too long");
        return 0;
    };
    auto zigzag = [&]() { const std::uint64_t u = uvarint(); return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1); };
    if (depth > 32) fail("nested too deep");
    std::function<ThriftValue(std::uint8_t)> value = [&](std::uint8_t type) {
        ThriftValue v;
        v.type = type;
        switch (type) {
            case ThriftWriter::kBoolTrue: v.integer = 1; break;
            case ThriftWriter::kBoolFalse: v.integer = 0; break;
            case ThriftWriter::kByte: v.integer = static_cast<std::int8_t>(byte()); break;
            case ThriftWriter::kI16:
            case ThriftWriter::kI32:
            case ThriftWriter::kI64: v.integer = zigzag(); break;
            case ThriftWriter::kBinary: {
                const std::uint64_t n = uvarint();
                if (n > in.size()) fail("truncated binary");
                v.binary.assign(in.substr(0, n));
                in.remove_prefix(n);
                break;
            }
            case ThriftWriter::kList: {
                const std::uint8_t head = byte();
                v.element_type = head & 0x0F;
                std::uint64_t n = head >> 4;
                if (n == 15) n = uvarint();
                if (n > in.size()) fail("list longer than its input");  // every element takes a byte at least
                for (std::uint64_t i = 0; i < n; ++i) {
                    if (v.element_type == ThriftWriter::kBoolTrue) {  // list booleans: one byte each
                        ThriftValue b;
                        b.type = v.element_type;
                        b.integer = byte() == 1;
                        v.elements.push_back(std::move(b));
                    } else {
                        v.elements.push_back(value(v.element_type));
                    }
                }
                break;
            }
            case ThriftWriter::kStruct: v = read_thrift_struct(in, depth + 1); break;
            default: fail("unsupported type");
        }
        return v;
    };
    ThriftValue s;
    s.type = ThriftWriter::kStruct;
    std::int16_t last = 0;
    for (;;) {
        const std::uint8_t head = byte();
        if (head == 0) return s;
        const std::uint8_t type = head & 0x0F;
        const int delta = head >> 4;
        const std::int16_t id = delta ? static_cast<std::int16_t>(last + delta) : static_cast<std::int16_t>(zigzag());
        last = id;
        s.fields.push_back(value(type));
        s.field_ids.push_back(id);
    }
}

/// Writes `v` (read by read_thrift_struct) as field `id` of the struct open in `w`, or as a list
/// element when `id` is 0.
inline void write_thrift_value(ThriftWriter& w, std::int16_t id, const ThriftValue& v) {
    if (v.type == ThriftWriter::kStruct) {
        if (id) w.begin_struct_field(id);
        else w.begin_list_struct();
        for (std::size_t i = 0; i < v.fields.size(); ++i) write_thrift_value(w, v.field_ids[i], v.fields[i]);
        w.end_struct();
        return;
    }
    if (v.type == ThriftWriter::kList) {
        w.begin_list_field(id, v.element_type, v.elements.size());
        for (const ThriftValue& e : v.elements) write_thrift_value(w, 0, e);
        return;
    }
    if (v.type == ThriftWriter::kBoolTrue || v.type == ThriftWriter::kBoolFalse) {
        if (id) w.field_bool(id, v.integer != 0);
        else w.raw(std::string(1, v.integer ? '\x01' : '\x02'));
        return;
    }
    if (id) w.field_header(id, v.type);
    switch (v.type) {
        case ThriftWriter::kByte: w.raw(std::string(1, static_cast<char>(v.integer))); break;
        case ThriftWriter::kBinary: w.varint(v.binary.size()); w.raw(v.binary); break;
        default: w.list_i64(v.integer);  // i16, i32, i64: a zigzag varint
    }
}

}  // namespace acass_cli::parquet

// Thrift compact protocol, write side only: what the Parquet footer (FileMetaData) and page
// headers need. Structs are written field by field in increasing field-id order; the writer
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
    void varint(std::uint64_t v) {
        while (v >= 0x80) {
            out_ += static_cast<char>((v & 0x7F) | 0x80);
            v >>= 7;
        }
        out_ += static_cast<char>(v);
    }
    void binary(std::string_view v) {
        varint(v.size());
        out_ += v;
    }
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

    std::string out_;
    std::vector<std::int16_t> last_ids_;
};

}  // namespace acass_cli::parquet

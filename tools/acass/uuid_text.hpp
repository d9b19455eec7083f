// A uuid's 36-character text (8-4-4-4-12 lowercase hex digits, the text Uuid::to_string() gives)
// written into the caller's buffer: the export writers' per-cell fast paths (CSV/JSON lines
// rendering, Avro rows) format it without a std::string per value.
#pragma once

#include <cstdint>

namespace acass_cli {

/// Writes the text of the 16 bytes at `bytes` at `out` (room for 36 characters) and returns
/// the end of what it wrote.
inline char* write_uuid_text(char* out, const std::uint8_t* bytes) noexcept {
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *out++ = '-';
        *out++ = kHex[bytes[i] >> 4];
        *out++ = kHex[bytes[i] & 0xF];
    }
    return out;
}

}  // namespace acass_cli

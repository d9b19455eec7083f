// PagingState's text form (see paging_state.hpp).
#include <async_cassandra/paging_state.hpp>

#include <async_cassandra/error.hpp>

namespace async_cassandra {

std::string PagingState::to_string() const {
    static constexpr char kHex[] = "0123456789abcdef";
    if (bytes_.empty()) return "0x";  // never an empty word: resume files split on spaces
    std::string out;
    out.reserve(bytes_.size() * 2);
    for (std::uint8_t b : bytes_) {
        out += kHex[b >> 4];
        out += kHex[b & 0xF];
    }
    return out;
}

PagingState PagingState::from_string(std::string_view text) {
    auto fail = [&](const char* why) -> PagingState {
        throw UsageError(std::string("invalid paging state (") + why + "): \"" + std::string(text.substr(0, 80)) + "\"");
    };
    if (text == "0x") return PagingState();
    if (text.empty()) return fail("empty text");
    if (text.size() % 2 != 0) return fail("odd number of hex digits");
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    Bytes bytes;
    bytes.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
        if (hi < 0 || lo < 0) return fail("bad hex digit");
        bytes.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
    }
    return PagingState(std::move(bytes));
}

}  // namespace async_cassandra

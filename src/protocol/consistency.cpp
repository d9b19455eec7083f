#include <async_cassandra/consistency.hpp>

#include <array>
#include <cctype>
#include <utility>

namespace async_cassandra {

namespace {
constexpr std::array<std::pair<Consistency, std::string_view>, 11> kNames{{
    {Consistency::any, "ANY"},
    {Consistency::one, "ONE"},
    {Consistency::two, "TWO"},
    {Consistency::three, "THREE"},
    {Consistency::quorum, "QUORUM"},
    {Consistency::all, "ALL"},
    {Consistency::local_quorum, "LOCAL_QUORUM"},
    {Consistency::each_quorum, "EACH_QUORUM"},
    {Consistency::serial, "SERIAL"},
    {Consistency::local_serial, "LOCAL_SERIAL"},
    {Consistency::local_one, "LOCAL_ONE"},
}};
}  // namespace

std::string_view to_string(Consistency c) noexcept {
    for (const auto& [value, name] : kNames)
        if (value == c) return name;
    return "UNKNOWN";
}

std::optional<Consistency> parse_consistency(std::string_view text) noexcept {
    for (const auto& [value, name] : kNames) {
        if (name.size() != text.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < name.size() && same; ++i)
            same = std::toupper(static_cast<unsigned char>(text[i])) == name[i];
        if (same) return value;
    }
    return std::nullopt;
}

}  // namespace async_cassandra

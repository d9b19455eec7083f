// The rows of acass-server's synthetic.rows table (docs/server.md): every value follows from the
// key, so a reader can check each row it receives and tell duplicates and gaps apart.
#pragma once

#include <async_cassandra/row.hpp>
#include <async_cassandra/values.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace acass_test {

/// The row's index pk * 100 + ck when every column holds the value its key implies
/// (name = 'name-<pk>-<ck>', value = pk * 0.5 + ck, ts = 1700000000000 + pk * 1000 + ck);
/// nullopt when a value is wrong.
inline std::optional<std::size_t> synthetic_row_index(const async_cassandra::Row& row) {
    const auto pk = row.get<std::int64_t>("pk");
    const auto ck = row.get<std::int32_t>("ck");
    if (row.get<std::string_view>("name") != "name-" + std::to_string(pk) + "-" + std::to_string(ck)) return std::nullopt;
    if (row.get<double>("value") != static_cast<double>(pk) * 0.5 + ck) return std::nullopt;
    if (row.get<async_cassandra::Timestamp>("ts").milliseconds != 1700000000000 + pk * 1000 + ck) return std::nullopt;
    if (pk < 0 || ck < 0 || ck >= 100) return std::nullopt;
    return static_cast<std::size_t>(pk * 100 + ck);
}

/// The rows of synthetic.rows a reader received: how often each came, and how many had wrong
/// values (or a key outside the table).
struct SyntheticTally {
    explicit SyntheticTally(std::int64_t rows) : seen(static_cast<std::size_t>(rows), 0) {}

    void add(const async_cassandra::Row& row) { add(synthetic_row_index(row)); }
    void add(std::optional<std::size_t> index) {
        if (!index || *index >= seen.size()) ++wrong;
        else if (seen[*index] < 255) ++seen[*index];
    }
    /// What went wrong ("" = nothing): wrong values and duplicates always, missing rows when the
    /// read claims to be `complete`.
    std::string problems(bool complete) const {
        const auto duplicated = std::count_if(seen.begin(), seen.end(), [](auto n) { return n > 1; });
        const auto missing = std::count(seen.begin(), seen.end(), std::uint8_t{0});
        std::string text;
        const auto say = [&](std::string what) { text += (text.empty() ? "" : "; ") + what; };
        if (wrong) say(std::to_string(wrong) + " rows with wrong values");
        if (duplicated) say(std::to_string(duplicated) + " rows delivered more than once");
        if (complete && missing) say(std::to_string(missing) + " rows lost");
        return text;
    }

    std::vector<std::uint8_t> seen;  ///< times each row came (saturates at 255)
    std::int64_t wrong = 0;
};

}  // namespace acass_test

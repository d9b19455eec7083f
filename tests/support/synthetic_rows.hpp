// The rows of acass-server's synthetic.rows table (docs/server.md): every value follows from the
// key, so a reader can check each row it receives and tell duplicates and gaps apart.
#pragma once

#include <async_cassandra/row.hpp>
#include <async_cassandra/values.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

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

}  // namespace acass_test

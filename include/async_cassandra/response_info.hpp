// What a server says about a response besides its message (native_protocol_v4.spec section 2.2,
// v5 section 2.4.1.2): the tracing session id (flag 0x02), warnings (flag 0x08, e.g. large
// unlogged batches, tombstones, aggregation without a partition key) and the custom payload
// (flag 0x04). Carried by ResultSet, every Page, and ServerError.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace async_cassandra {

struct ResponseInfo {
    /// Server warnings, in the order sent.
    std::vector<std::string> warnings;
    /// Tracing session id, when tracing was requested and the server traced the request.
    std::optional<std::array<std::uint8_t, 16>> tracing_id;
    /// Custom payload (a [bytes map]; a null value is nullopt).
    std::map<std::string, std::optional<std::vector<std::uint8_t>>> custom_payload;

    bool empty() const noexcept { return warnings.empty() && !tracing_id && custom_payload.empty(); }
};

}  // namespace async_cassandra

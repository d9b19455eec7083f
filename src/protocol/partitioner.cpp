#include "protocol/partitioner.hpp"

#include "protocol/murmur3.hpp"

namespace async_cassandra::protocol {

std::optional<Bytes> routing_key(std::span<const ValueView> values, std::span<const std::uint16_t> pk_indexes) {
    if (pk_indexes.empty()) return std::nullopt;
    std::vector<BytesView> components;
    components.reserve(pk_indexes.size());
    for (std::uint16_t index : pk_indexes) {
        if (index >= values.size()) return std::nullopt;
        const ValueView& v = values[index];
        if (v.kind != ValueView::Kind::value) return std::nullopt;
        // CompositeType lengths are u16: such a key cannot exist on a node, so it has no replica.
        if (pk_indexes.size() > 1 && v.bytes.size() > 0xFFFF) return std::nullopt;
        components.push_back(v.bytes);
    }
    return composite_routing_key(components);
}

std::optional<std::int64_t> routing_token(std::span<const ValueView> values,
                                          std::span<const std::uint16_t> pk_indexes) {
    if (pk_indexes.size() == 1) {
        // A one-column key is the value itself: hash it in place (no key copy per request).
        if (pk_indexes[0] >= values.size()) return std::nullopt;
        const ValueView& v = values[pk_indexes[0]];
        if (v.kind != ValueView::Kind::value) return std::nullopt;
        return murmur3_token(v.bytes);
    }
    auto key = routing_key(values, pk_indexes);
    if (!key) return std::nullopt;
    return murmur3_token(*key);
}

}  // namespace async_cassandra::protocol

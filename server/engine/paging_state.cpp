// The node's paging state: where a query resumes (PagingState in engine_internal.hpp).
// Layout: 'A' 1, [short bytes] partition key, has-clustering byte, [short n] n x [bytes]
// clustering values, [long] remaining LIMIT, [int] rows already returned from the partition.
#include "server/engine/engine_internal.hpp"

namespace async_cassandra::server::detail {

using cql::throw_invalid;

Bytes encode_paging_state(const PagingState& st) {
    Bytes out{'A', 1};
    auto put16 = [&](std::size_t n) {
        out.push_back(static_cast<std::uint8_t>(n >> 8));
        out.push_back(static_cast<std::uint8_t>(n));
    };
    put16(st.partition_key.size());
    out.insert(out.end(), st.partition_key.begin(), st.partition_key.end());
    out.push_back(st.clustering ? 1 : 0);
    if (st.clustering) {
        put16(st.clustering->size());
        for (const auto& c : *st.clustering) {
            cql::append_i32(out, static_cast<std::int32_t>(c.size()));
            out.insert(out.end(), c.begin(), c.end());
        }
    }
    cql::append_i64(out, st.remaining);
    cql::append_i32(out, st.partition_rows);
    return out;
}

PagingState decode_paging_state(BytesView bytes) {
    try {
        protocol::ByteReader in(bytes);
        if (in.read_u8() != 'A' || in.read_u8() != 1) throw_invalid("Invalid value for the paging state");
        PagingState st;
        auto key = in.read_short_bytes();
        st.partition_key.assign(key.begin(), key.end());
        std::uint8_t has = in.read_u8();
        if (has > 1) throw_invalid("Invalid value for the paging state");
        if (has) {
            std::uint16_t n = in.read_u16();
            ClusteringKey ck;
            for (std::uint16_t i = 0; i < n; ++i) {
                auto c = in.take(in.read_length("clustering"));
                ck.emplace_back(c.begin(), c.end());
            }
            st.clustering = std::move(ck);
        }
        st.remaining = in.read_i64();
        st.partition_rows = in.read_i32();
        in.expect_end("paging state");
        if (st.remaining <= 0 || st.partition_rows < 0) throw_invalid("Invalid value for the paging state");
        return st;
    } catch (const ProtocolError&) {
        throw_invalid("Invalid value for the paging state");
    }
}

}  // namespace async_cassandra::server::detail

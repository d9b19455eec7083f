// synthetic.rows: a generated table for load tests, with no per-row memory.
//
// Layout: pk = 0 .. ceil(ROWS/100)-1, ck = 0 .. 99 (the last partition may be short), and
//   name = 'name-<pk>-<ck>', value = pk * 0.5 + ck, ts = 1700000000000 + pk * 1000 + ck.
// The only state is one (token, pk) pair per partition, sorted by token (16 bytes per partition,
// so 10M rows cost 1.6 MB); rows are computed while the page is encoded, straight into the rows
// buffer. Paging states have the same format as stored tables' (pk bytes + ck bytes).
#include "server/engine/engine_internal.hpp"
#include "server/engine/statement_context.hpp"

#include "protocol/murmur3.hpp"

#include <algorithm>
#include <array>
#include <span>
#include <bit>
#include <charconv>

namespace async_cassandra::server::detail {

namespace {

Bytes pk_bytes(std::int64_t pk) {
    Bytes b;
    cql::append_i64(b, pk);
    return b;
}

// Partition order is (token, key bytes); an 8-byte big-endian key orders like the unsigned value.
bool pos_less(const std::pair<std::int64_t, std::int64_t>& a, const std::pair<std::int64_t, std::int64_t>& b) {
    if (a.first != b.first) return a.first < b.first;
    return static_cast<std::uint64_t>(a.second) < static_cast<std::uint64_t>(b.second);
}

enum class Out : std::uint8_t { pk, ck, name, value, ts, token, null };

}  // namespace

SyntheticData make_synthetic(std::int64_t rows) {
    SyntheticData d;
    d.rows = rows;
    std::int64_t partitions = (rows + 99) / 100;
    d.partitions.reserve(static_cast<std::size_t>(partitions));
    for (std::int64_t pk = 0; pk < partitions; ++pk) d.partitions.emplace_back(protocol::murmur3_token(pk_bytes(pk)), pk);
    std::sort(d.partitions.begin(), d.partitions.end(), pos_less);
    return d;
}

std::shared_ptr<TableSchema> synthetic_schema() {
    auto s = make_schema("synthetic", "rows",
                         {{"pk", "bigint"}, {"ck", "int"}, {"name", "text"}, {"value", "double"}, {"ts", "timestamp"}},
                         {"pk"}, {"ck"});
    s->synthetic = true;
    return s;
}

PageResult run_synthetic(const SyntheticData& data, const SelectPlan& plan, const std::optional<PagingState>& resume,
                         std::int32_t page_size, Bytes& out) {
    PageResult result;
    const TableSchema& s = *plan.schema;
    std::int64_t remaining = resume ? resume->remaining : plan.limit;
    if (plan.empty_range || remaining <= 0) return result;

    // Clustering restrictions become an interval of ck (plus an optional IN list).
    std::int64_t ck_lo = 0, ck_hi = 99;
    std::optional<std::vector<std::int64_t>> ck_in;
    for (const auto& r : plan.clustering) {
        for (const auto& v : r.values)
            if (v.size() != 4) return result;  // an empty int matches no generated row
        const std::int64_t v = r.values.empty() ? 0 : static_cast<std::int32_t>(load_i64(r.values[0]));
        switch (r.op) {
            case cql::Op::eq: ck_lo = std::max(ck_lo, v); ck_hi = std::min(ck_hi, v); break;
            case cql::Op::gt: ck_lo = std::max(ck_lo, v + 1); break;
            case cql::Op::ge: ck_lo = std::max(ck_lo, v); break;
            case cql::Op::lt: ck_hi = std::min(ck_hi, v - 1); break;
            case cql::Op::le: ck_hi = std::min(ck_hi, v); break;
            case cql::Op::in: {
                std::vector<std::int64_t> vals;
                for (const auto& b : r.values) vals.push_back(static_cast<std::int32_t>(load_i64(b)));
                std::sort(vals.begin(), vals.end());
                if (ck_in) {
                    std::vector<std::int64_t> both;
                    std::set_intersection(ck_in->begin(), ck_in->end(), vals.begin(), vals.end(), std::back_inserter(both));
                    vals = std::move(both);
                }
                ck_in = std::move(vals);
                break;
            }
            default: return result;
        }
    }
    auto ck_allowed = [&](std::int64_t ck) {
        return !ck_in || std::binary_search(ck_in->begin(), ck_in->end(), ck);
    };

    // What each output column is; on the stack for the usual few columns (no allocation per query).
    const std::size_t column_count = plan.outputs->columns.size();
    std::array<Out, 16> outs_inline{};
    std::vector<Out> outs_heap;
    if (column_count > outs_inline.size()) outs_heap.resize(column_count);
    const std::span<Out> outs = outs_heap.empty() ? std::span<Out>(outs_inline.data(), column_count)
                                                  : std::span<Out>(outs_heap);
    for (std::size_t i = 0; i < column_count; ++i) {
        const auto& o = plan.outputs->columns[i];
        if (o.kind == cql::Selector::Kind::token) {
            outs[i] = Out::token;
        } else if (o.kind == cql::Selector::Kind::column) {
            static constexpr Out by_slot[] = {Out::pk, Out::ck, Out::name, Out::value, Out::ts};
            outs[i] = by_slot[s.columns[o.column].slot];
        } else {
            outs[i] = Out::null;
        }
    }

    auto cell_of = [](std::size_t slot, std::int64_t pk, std::int64_t ck) {
        Bytes b;
        switch (slot) {
            case 0: cql::append_i64(b, pk); break;
            case 1: cql::append_i32(b, static_cast<std::int32_t>(ck)); break;
            case 2: b = cql::text_bytes("name-" + std::to_string(pk) + "-" + std::to_string(ck)); break;
            case 3: cql::append_i64(b, std::bit_cast<std::int64_t>(static_cast<double>(pk) * 0.5 + static_cast<double>(ck))); break;
            default: cql::append_i64(b, 1700000000000 + pk * 1000 + ck); break;
        }
        return b;
    };
    auto passes_filters = [&](std::int64_t pk, std::int64_t ck) {
        for (const auto& f : plan.filters) {
            const ColumnDef& c = s.columns[f.column];
            if (!restriction_matches(f, cell_of(c.slot, pk, ck), *c.type.type)) return false;
        }
        return true;
    };

    RowsBuffer buf(out);
    const std::size_t max_row = outs.size() * 48;
    std::int64_t counted = 0;
    bool stop = false;
    std::optional<std::pair<std::int64_t, std::int64_t>> resume_pos;
    if (resume) {
        if (resume->partition_key.size() != 8) cql::throw_invalid("Invalid value for the paging state");
        resume_pos.emplace(protocol::murmur3_token(resume->partition_key), load_i64(resume->partition_key));
    }

    auto visit = [&](std::int64_t token, std::int64_t pk) {
        if (token < plan.token_lo || token > plan.token_hi) return;
        std::int64_t n = data.rows_in(pk);
        std::int64_t lo = ck_lo, hi = std::min(ck_hi, n - 1);
        std::int64_t in_partition = 0;
        if (resume_pos && resume_pos->first == token && resume_pos->second == pk) {
            in_partition = resume->partition_rows;
            if (!resume->clustering || resume->clustering->size() != 1 || (*resume->clustering)[0].size() != 4) {
                cql::throw_invalid("Invalid value for the paging state");
            }
            std::int64_t last = static_cast<std::int32_t>(load_i64((*resume->clustering)[0]));
            if (plan.reversed) hi = std::min(hi, last - 1);
            else lo = std::max(lo, last + 1);
        }
        if (lo > hi) return;
        if (plan.count && plan.filters.empty() && !ck_in) {
            std::int64_t k = std::min(hi - lo + 1, plan.per_partition_limit - in_partition);
            k = std::min(k, remaining);
            if (k <= 0) return;
            counted += k;
            remaining -= k;
            if (remaining == 0) stop = true;
            return;
        }
        const std::int64_t step = plan.reversed ? -1 : 1;
        for (std::int64_t ck = plan.reversed ? hi : lo; plan.reversed ? ck >= lo : ck <= hi; ck += step) {
            if (in_partition >= plan.per_partition_limit) return;
            if (!ck_allowed(ck)) continue;
            if (!plan.filters.empty() && !passes_filters(pk, ck)) continue;
            ++in_partition;
            if (plan.count) {
                ++counted;
            } else {
                buf.ensure(max_row);
                std::uint8_t* p = buf.at();
                std::uint8_t* const begin = p;
                for (Out o : outs) {
                    switch (o) {
                        case Out::pk:
                            RowsBuffer::store32(p, 8);
                            RowsBuffer::store64(p + 4, static_cast<std::uint64_t>(pk));
                            p += 12;
                            break;
                        case Out::ck:
                            RowsBuffer::store32(p, 4);
                            RowsBuffer::store32(p + 4, static_cast<std::uint32_t>(ck));
                            p += 8;
                            break;
                        case Out::name: {
                            char* text = reinterpret_cast<char*>(p + 4);
                            std::memcpy(text, "name-", 5);
                            char* e = std::to_chars(text + 5, text + 30, pk).ptr;
                            *e++ = '-';
                            e = std::to_chars(e, e + 12, ck).ptr;
                            auto len = static_cast<std::uint32_t>(e - text);
                            RowsBuffer::store32(p, len);
                            p += 4 + len;
                            break;
                        }
                        case Out::value:
                            RowsBuffer::store32(p, 8);
                            RowsBuffer::store64(p + 4, std::bit_cast<std::uint64_t>(static_cast<double>(pk) * 0.5 +
                                                                                    static_cast<double>(ck)));
                            p += 12;
                            break;
                        case Out::ts:
                            RowsBuffer::store32(p, 8);
                            RowsBuffer::store64(p + 4, static_cast<std::uint64_t>(1700000000000 + pk * 1000 + ck));
                            p += 12;
                            break;
                        case Out::token:
                            RowsBuffer::store32(p, 8);
                            RowsBuffer::store64(p + 4, static_cast<std::uint64_t>(token));
                            p += 12;
                            break;
                        case Out::null:
                            RowsBuffer::store32(p, 0xFFFFFFFFu);
                            p += 4;
                            break;
                    }
                }
                buf.advance(static_cast<std::size_t>(p - begin));
                ++result.row_count;
            }
            if (--remaining == 0) {
                stop = true;
                return;
            }
            if (!plan.count && page_size > 0 && result.row_count >= page_size) {
                Bytes ckb;
                cql::append_i32(ckb, static_cast<std::int32_t>(ck));
                result.next = PagingState{pk_bytes(pk), ClusteringKey{std::move(ckb)}, remaining,
                                          static_cast<std::int32_t>(in_partition)};
                stop = true;
                return;
            }
        }
    };

    if (plan.partition_keys) {
        // The plan's keys are in ring order already (an 8-byte big-endian key orders like
        // pos_less's unsigned pk), with their tokens.
        for (std::size_t i = 0; i < plan.partition_keys->size(); ++i) {
            const auto& key = (*plan.partition_keys)[i];
            if (key.size() != 1 || key[0].size() != 8) continue;
            std::int64_t pk = load_i64(key[0]);
            if (pk < 0 || pk >= static_cast<std::int64_t>(data.partitions.size())) continue;
            const std::pair<std::int64_t, std::int64_t> w{plan.partition_tokens[i], pk};
            if (resume_pos && pos_less(w, *resume_pos)) continue;
            visit(w.first, w.second);
            if (stop) break;
        }
    } else {
        std::pair<std::int64_t, std::int64_t> start{plan.token_lo, 0};
        if (resume_pos && pos_less(start, *resume_pos)) start = *resume_pos;
        auto it = std::lower_bound(data.partitions.begin(), data.partitions.end(), start, pos_less);
        for (; it != data.partitions.end() && it->first <= plan.token_hi; ++it) {
            visit(it->first, it->second);
            if (stop) break;
        }
    }
    buf.finish();
    result.counted = counted;
    return result;
}

}  // namespace async_cassandra::server::detail

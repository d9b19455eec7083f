// Scanning stored tables: partitions in token order, rows in clustering order, filters, limits,
// expired rows, static-only partitions, resuming after a paging state.
#include "server/engine/table_scan.hpp"

#include "server/engine/statement_context.hpp"
#include "server/engine/storage.hpp"

#include "protocol/murmur3.hpp"

#include <algorithm>

namespace async_cassandra::server::detail {

namespace {

struct TableScanner {
    const Table& table;
    const SelectPlan& plan;
    const std::optional<PagingState>& resume;
    std::int32_t page_size;
    RowsBuffer buf;
    std::int64_t now = now_ms();
    PageResult result;
    std::int64_t remaining;
    std::int64_t counted = 0;
    std::optional<PartitionPos> resume_pos;
    bool done = false;
    struct Pending {
        const PartitionPos* pos;
        const Partition* partition;
        const ClusteringKey* ck;
        const Row* row;
    };
    std::vector<Pending> pending;

    void emit_merged() {
        ClusteringLess less{plan.schema};
        std::stable_sort(pending.begin(), pending.end(), [&](const Pending& a, const Pending& b) {
            if (!a.ck || !b.ck) return a.ck == nullptr && b.ck != nullptr;
            return plan.reversed ? less(*b.ck, *a.ck) : less(*a.ck, *b.ck);
        });
        for (const auto& r : pending) {
            if (remaining <= 0) break;
            emit(*r.pos, *r.partition, r.ck, r.row);
            ++result.row_count;
            --remaining;
        }
    }

    TableScanner(const Table& t, const SelectPlan& p, const std::optional<PagingState>& r, std::int32_t ps, Bytes& out)
        : table(t), plan(p), resume(r), page_size(ps), buf(out), remaining(r ? r->remaining : p.limit) {
        if (resume) {
            PartitionPos pos;
            pos.key = resume->partition_key;
            pos.token = protocol::murmur3_token(pos.key);
            resume_pos = std::move(pos);
        }
    }

    // Points `out` at a cell's bytes without copying; false when the cell is null or absent.
    bool cell_view(const Partition& p, const ClusteringKey* ck, const Row* row, std::size_t column, BytesView& out) const {
        const ColumnDef& c = plan.schema->columns[column];
        const Cell* cell = nullptr;
        switch (c.kind) {
            case ColumnKind::partition_key: out = p.key[static_cast<std::size_t>(c.position)]; return true;
            case ColumnKind::clustering:
                if (!ck) return false;
                out = (*ck)[static_cast<std::size_t>(c.position)];
                return true;
            case ColumnKind::static_: cell = c.slot < p.statics.size() ? &p.statics[c.slot] : nullptr; break;
            case ColumnKind::regular: cell = row && c.slot < row->cells.size() ? &row->cells[c.slot] : nullptr; break;
        }
        if (!cell || !*cell) return false;
        out = **cell;
        return true;
    }

    bool passes_filters(const Partition& p, const ClusteringKey* ck, const Row* row) const {
        for (const auto& f : plan.filters) {
            BytesView v;
            if (!cell_view(p, ck, row, f.column, v)) return false;
            if (!restriction_matches(f, v, *plan.schema->columns[f.column].type.type)) return false;
        }
        return true;
    }

    void emit(const PartitionPos& pos, const Partition& p, const ClusteringKey* ck, const Row* row) {
        for (const auto& o : plan.outputs->columns) {
            BytesView v;
            switch (o.kind) {
                case cql::Selector::Kind::column:
                    if (cell_view(p, ck, row, o.column, v)) buf.cell(v);
                    else buf.put_i32(-1);
                    break;
                case cql::Selector::Kind::token: {
                    Bytes b;
                    cql::append_i64(b, pos.token);
                    buf.cell(BytesView(b));
                    break;
                }
                case cql::Selector::Kind::writetime:
                case cql::Selector::Kind::ttl: {
                    if (!cell_view(p, ck, row, o.column, v) || !row) {
                        buf.put_i32(-1);
                        break;
                    }
                    Bytes b;
                    if (o.kind == cql::Selector::Kind::writetime) cql::append_i64(b, row->write_ts);
                    else if (row->expires_ms == 0) {
                        buf.put_i32(-1);
                        break;
                    } else
                        cql::append_i32(b, static_cast<std::int32_t>(std::max<std::int64_t>(0, (row->expires_ms - now + 999) / 1000)));
                    buf.cell(BytesView(b));
                    break;
                }
                case cql::Selector::Kind::count: buf.put_i32(-1); break;  // not reached: count plans aggregate
            }
        }
    }

    // Returns false to stop the scan.
    bool take(const PartitionPos& pos, const Partition& p, const ClusteringKey* ck, const Row* row,
              std::int64_t& in_partition) {
        if (plan.count) {
            ++counted;
            if (--remaining == 0) {
                done = true;
                return false;
            }
            return true;
        }
        if (plan.merge_partitions) {
            pending.push_back(Pending{&pos, &p, ck, row});
            ++in_partition;
            return true;  // LIMIT applies after the merge
        }
        emit(pos, p, ck, row);
        ++result.row_count;
        ++in_partition;
        if (--remaining == 0) {
            done = true;
            return false;
        }
        if (page_size > 0 && result.row_count >= page_size) {
            result.next = PagingState{pos.key, ck ? std::optional<ClusteringKey>(*ck) : std::nullopt, remaining,
                                      static_cast<std::int32_t>(in_partition)};
            done = true;
            return false;
        }
        return true;
    }

    bool row_matches(const Partition& p, const ClusteringKey& ck, const Row& row) const {
        if (row.expires_ms && row.expires_ms <= now) return false;
        for (const auto& r : plan.clustering) {
            const ColumnDef& c = plan.schema->columns[r.column];
            if (!restriction_matches(r, ck[static_cast<std::size_t>(c.position)], *c.type.type)) return false;
        }
        return passes_filters(p, &ck, &row);
    }

    template <class It>
    bool scan_rows(const PartitionPos& pos, const Partition& p, It it, It end, std::int64_t& in_partition) {
        for (; it != end; ++it) {
            if (in_partition >= plan.per_partition_limit) return true;
            if (!row_matches(p, it->first, it->second)) continue;
            if (!take(pos, p, &it->first, &it->second, in_partition)) return false;
        }
        return true;
    }

    bool partition(const PartitionPos& pos, const Partition& p) {
        if (pos.token < plan.token_lo || pos.token > plan.token_hi) return true;
        bool here = resume_pos && pos == *resume_pos;
        std::int64_t in_partition = here ? resume->partition_rows : 0;
        if (here && !resume->clustering) return true;
        bool any_live = false;
        for (const auto& [ck, row] : p.rows)
            if (!row.expires_ms || row.expires_ms > now) {
                any_live = true;
                break;
            }
        if (!any_live) {
            // A partition with only static cells shows as one row with null clustering columns.
            bool has_static = std::any_of(p.statics.begin(), p.statics.end(), [](const Cell& c) { return c.has_value(); });
            if (has_static && !here && plan.clustering.empty() && passes_filters(p, nullptr, nullptr))
                return take(pos, p, nullptr, nullptr, in_partition);
            return true;
        }
        if (!plan.reversed) {
            auto it = here ? p.rows.upper_bound(*resume->clustering) : p.rows.begin();
            return scan_rows(pos, p, it, p.rows.end(), in_partition);
        }
        auto it = here ? std::make_reverse_iterator(p.rows.lower_bound(*resume->clustering)) : p.rows.rbegin();
        return scan_rows(pos, p, it, p.rows.rend(), in_partition);
    }

    void run() {
        if (plan.empty_range || remaining <= 0) return;
        if (plan.partition_keys) {
            for (std::size_t i = 0; i < plan.partition_keys->size(); ++i) {
                const auto& key = (*plan.partition_keys)[i];
                PartitionPos pos{plan.partition_tokens[i], routing_key(key)};
                if (resume_pos && pos < *resume_pos) continue;
                auto it = table.partitions.find(pos);
                if (it == table.partitions.end()) continue;
                if (!passes_partition_filters(it->second)) continue;
                if (!partition(it->first, it->second)) break;
            }
            if (plan.merge_partitions) emit_merged();
            return;
        }
        PartitionPos start{plan.token_lo, {}};
        auto it = resume_pos && start < *resume_pos ? table.partitions.lower_bound(*resume_pos)
                                                     : table.partitions.lower_bound(start);
        for (; it != table.partitions.end() && it->first.token <= plan.token_hi; ++it) {
            if (!passes_partition_filters(it->second)) continue;
            if (!partition(it->first, it->second)) return;
        }
    }

    bool passes_partition_filters(const Partition&) const { return true; }
};

}  // namespace

PageResult scan_table(const Table& table, const SelectPlan& plan, const std::optional<PagingState>& resume,
                      std::int32_t page_size, Bytes& out) {
    TableScanner scanner(table, plan, resume, page_size, out);
    scanner.run();
    scanner.buf.finish();
    PageResult page = scanner.result;
    page.counted = scanner.counted;
    return page;
}

}  // namespace async_cassandra::server::detail

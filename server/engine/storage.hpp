// Partitions and rows of stored tables: partition positions, creating partitions and rows, and
// the undo log that makes a failed statement or batch leave no partial writes behind.
#pragma once

#include "server/engine/engine_internal.hpp"

#include <optional>
#include <tuple>

namespace async_cassandra::server::detail {

/// The routing key of a partition key (composite form for several components).
Bytes routing_key(const std::vector<Bytes>& components);
/// The Murmur3 token of a partition key (no copy of a single-component key).
std::int64_t partition_token(const std::vector<Bytes>& components);
/// (token, routing key) of a partition key: its place in the table's partition map.
PartitionPos partition_pos(const std::vector<Bytes>& components);
/// The partition of `components`, created when missing (noted in the current undo log).
Partition& partition_for(Table& table, const std::vector<Bytes>& components);
/// Records the state of a partition before its first change in the current undo log, if any.
void note_change(Table& table, const PartitionPos& pos);

/// Undo log of one write request: the first touch of a partition saves its previous state.
struct UndoLog {
    std::vector<std::tuple<Table*, PartitionPos, std::optional<Partition>>> saved;
    void note(Table& t, const PartitionPos& pos);
    void rollback();
};

/// Makes `log` the undo log of this thread's writes for the scope's lifetime.
class UndoScope {
public:
    UndoScope();
    ~UndoScope();
    UndoScope(const UndoScope&) = delete;
    UndoScope& operator=(const UndoScope&) = delete;
    UndoLog log;

private:
    UndoLog* previous_;
};

}  // namespace async_cassandra::server::detail

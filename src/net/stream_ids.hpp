// Stream-id bookkeeping of one connection: which ids are free, which carry a request whose
// caller still waits, and which are orphaned (the caller gave up, the server may still answer).
// Pure code, no I/O; not thread-safe (the owning connection serialises access).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace async_cassandra::net {

/// Largest number of concurrent streams of protocol v3+ (ids 0..32767; negative ids are events).
inline constexpr std::size_t kMaxStreamIds = 32768;

/// Bitset allocator of stream ids in [0, capacity). allocate() returns the lowest free id, which
/// keeps the ids of a lightly loaded connection small.
class StreamIdAllocator {
public:
    /// `capacity` in [1, kMaxStreamIds]; throws std::invalid_argument otherwise.
    explicit StreamIdAllocator(std::size_t capacity = kMaxStreamIds) : capacity_(capacity) {
        if (capacity == 0 || capacity > kMaxStreamIds) throw std::invalid_argument("stream id capacity");
        words_.assign((capacity + 63) / 64, 0);
        // Mark the bits past capacity as used so allocate() never returns them.
        if (std::size_t tail = capacity % 64; tail != 0) words_.back() = ~std::uint64_t{0} << tail;
    }

    /// A free id, or nullopt when all are in use.
    std::optional<std::int16_t> allocate() noexcept {
        for (std::size_t n = 0; n < words_.size(); ++n) {
            std::size_t w = (hint_ + n) % words_.size();
            if (words_[w] != ~std::uint64_t{0}) {
                int bit = std::countr_one(words_[w]);
                words_[w] |= std::uint64_t{1} << bit;
                hint_ = w;
                ++in_use_;
                return static_cast<std::int16_t>(w * 64 + static_cast<std::size_t>(bit));
            }
        }
        return std::nullopt;
    }

    /// Frees an allocated id. Freeing a free or out-of-range id is ignored (returns false).
    bool release(std::int16_t id) noexcept {
        if (!is_allocated(id)) return false;
        auto u = static_cast<std::size_t>(id);
        words_[u / 64] &= ~(std::uint64_t{1} << (u % 64));
        if (u / 64 < hint_) hint_ = u / 64;
        --in_use_;
        return true;
    }

    bool is_allocated(std::int16_t id) const noexcept {
        if (id < 0 || static_cast<std::size_t>(id) >= capacity_) return false;
        auto u = static_cast<std::size_t>(id);
        return (words_[u / 64] >> (u % 64)) & 1u;
    }

    std::size_t in_use() const noexcept { return in_use_; }
    std::size_t capacity() const noexcept { return capacity_; }
    std::size_t available() const noexcept { return capacity_ - in_use_; }

private:
    std::size_t capacity_;
    std::vector<std::uint64_t> words_;
    std::size_t hint_ = 0;
    std::size_t in_use_ = 0;
};

/// The requests in flight on one connection, by stream id. `Pending` is what the connection
/// needs to complete a waiter (typically a pointer); it must be cheap to move.
///
/// An id is free, pending (a waiter is registered) or orphaned (the waiter left after a timeout
/// or a cancellation; the id stays reserved so that a late response cannot be delivered to a
/// newer request that reused it). The late response frees an orphaned id and is dropped.
template <class Pending>
class InFlightTable {
public:
    enum class Outcome {
        delivered,  ///< the id was pending: `pending` holds the waiter, the id is free again
        orphan,     ///< the id was orphaned: response dropped, the id is free again
        unknown,    ///< no request uses this id: a protocol violation by the peer
    };
    struct Completion {
        Outcome outcome = Outcome::unknown;
        std::optional<Pending> pending;
    };

    explicit InFlightTable(std::size_t capacity = kMaxStreamIds) : ids_(capacity), slots_(capacity) {}

    /// Registers a waiter under a free id; nullopt when every id is pending or orphaned.
    std::optional<std::int16_t> insert(Pending pending) {
        auto id = ids_.allocate();
        if (id) slots_[static_cast<std::size_t>(*id)].emplace(std::move(pending));
        return id;
    }

    /// A response arrived on `id`.
    Completion complete(std::int16_t id) {
        Completion c;
        if (!ids_.is_allocated(id)) return c;
        auto& slot = slots_[static_cast<std::size_t>(id)];
        if (slot) {
            c.outcome = Outcome::delivered;
            c.pending = std::move(slot);
            slot.reset();
        } else {
            c.outcome = Outcome::orphan;
            --orphans_;
        }
        ids_.release(id);
        return c;
    }

    /// The waiter of `id` gave up; the id stays reserved until its response arrives. Returns
    /// false if `id` was not pending (already completed or orphaned).
    bool orphan(std::int16_t id) noexcept {
        if (!ids_.is_allocated(id)) return false;
        auto& slot = slots_[static_cast<std::size_t>(id)];
        if (!slot) return false;
        slot.reset();
        ++orphans_;
        return true;
    }

    /// Whether `id` has a registered waiter.
    bool is_pending(std::int16_t id) const noexcept {
        return ids_.is_allocated(id) && slots_[static_cast<std::size_t>(id)].has_value();
    }

    /// Calls f(waiter) for every pending waiter (not for orphaned ids).
    template <class F>
    void for_each_pending(F&& f) const {
        for (const auto& slot : slots_)
            if (slot) f(*slot);
    }

    /// Removes every waiter and orphan (connection closed); returns the waiters.
    std::vector<Pending> take_all() {
        std::vector<Pending> out;
        out.reserve(pending());
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            auto id = static_cast<std::int16_t>(i);
            if (!ids_.is_allocated(id)) continue;
            if (slots_[i]) out.push_back(std::move(*slots_[i]));
            slots_[i].reset();
            ids_.release(id);
        }
        orphans_ = 0;
        return out;
    }

    std::size_t orphans() const noexcept { return orphans_; }
    std::size_t pending() const noexcept { return ids_.in_use() - orphans_; }
    std::size_t in_use() const noexcept { return ids_.in_use(); }
    std::size_t available() const noexcept { return ids_.available(); }
    std::size_t capacity() const noexcept { return ids_.capacity(); }

private:
    StreamIdAllocator ids_;
    std::vector<std::optional<Pending>> slots_;
    std::size_t orphans_ = 0;
};

}  // namespace async_cassandra::net

// An immutable snapshot that one thread replaces and any thread reads: the cluster state the
// control connection publishes, the host list the pools route over. Readers never wait for the
// work that builds the next snapshot, and keep theirs alive as long as they hold the pointer.
#pragma once

#include <memory>
#include <mutex>

namespace async_cassandra::cluster {

/// A mutex guards the pointer, held only to copy or swap it. Not std::atomic<std::shared_ptr>:
/// GCC 12's libstdc++ releases its internal lock bit in load() with memory_order_relaxed
/// (bits/shared_ptr_atomic.h), so a load's read of the stored pointer is not ordered before the
/// next store's write of it in the C++ memory model, and ThreadSanitizer reports that as a data
/// race. An uncontended lock costs about what the atomic's own spin lock does.
template <class T>
class SnapshotHolder {
public:
    SnapshotHolder() = default;
    explicit SnapshotHolder(std::shared_ptr<T> initial) : snapshot_(std::move(initial)) {}

    std::shared_ptr<T> load() const {
        std::lock_guard lock(mutex_);
        return snapshot_;
    }
    void store(std::shared_ptr<T> next) {
        {
            std::lock_guard lock(mutex_);
            snapshot_.swap(next);
        }
        // `next` now holds the previous snapshot, released here, outside the lock.
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<T> snapshot_;
};

}  // namespace async_cassandra::cluster

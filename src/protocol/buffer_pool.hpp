// Reusable envelope body buffers. A large body is read by the socket straight into its buffer,
// which std::vector must first resize, and resize() zero-fills every byte the socket is about to
// overwrite (a whole extra pass over each page). Bodies taken from a BufferPool come back to it
// when the last Page or Reply sharing them is gone, keep their size, and are overwritten in place:
// in a steady stream of pages nothing is zero-filled after the first few.
#pragma once

#include "protocol/bytes.hpp"

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace async_cassandra::protocol {

class BufferPool : public std::enable_shared_from_this<BufferPool> {
public:
    /// Idle buffers kept: at most `max_kept` of them and `max_kept_bytes` of capacity in all
    /// (a connection that streamed pages keeps about one page's worth per buffer it kept).
    static std::shared_ptr<BufferPool> create(std::size_t max_kept = 4, std::size_t max_kept_bytes = 4u << 20);

    /// A buffer able to hold `length` bytes. Its size is at most `length` and its first size()
    /// bytes are stale (left by an earlier body): the caller overwrites them, then appends the
    /// rest. A kept buffer is used only if it is not much larger than `length` (a small body
    /// must not pin a large buffer), otherwise a new one with capacity `length` is made. The
    /// buffer returns to the pool when its last shared_ptr is released, from any thread.
    std::shared_ptr<Bytes> take(std::size_t length);

    /// Idle buffers (for tests).
    std::size_t idle() const;

private:
    BufferPool(std::size_t max_kept, std::size_t max_kept_bytes) : max_kept_(max_kept), max_kept_bytes_(max_kept_bytes) {}
    struct GiveBack {
        std::weak_ptr<BufferPool> pool;
        void operator()(Bytes* buffer) const noexcept;
    };
    void give_back(Bytes* buffer) noexcept;

    const std::size_t max_kept_;
    const std::size_t max_kept_bytes_;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Bytes>> idle_;
    std::size_t idle_bytes_ = 0;
};

}  // namespace async_cassandra::protocol

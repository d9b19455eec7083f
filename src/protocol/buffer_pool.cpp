#include "protocol/buffer_pool.hpp"

namespace async_cassandra::protocol {

namespace {
/// A kept buffer serves a body only if its capacity is at most this many times the body's size.
constexpr std::size_t kMaxOversize = 4;
}  // namespace

std::shared_ptr<BufferPool> BufferPool::create(std::size_t max_kept, std::size_t max_kept_bytes) {
    std::shared_ptr<BufferPool> pool(new BufferPool(max_kept, max_kept_bytes));
    pool->idle_.reserve(max_kept);  // give_back() never allocates
    return pool;
}

std::shared_ptr<Bytes> BufferPool::take(std::size_t length) {
    std::unique_ptr<Bytes> buffer;
    {
        std::lock_guard lock(mutex_);
        // Best fit: the smallest kept buffer that holds `length` without pinning far more.
        auto best = idle_.end();
        for (auto it = idle_.begin(); it != idle_.end(); ++it) {
            const std::size_t cap = (*it)->capacity();
            if (cap >= length && cap / kMaxOversize <= length && (best == idle_.end() || cap < (*best)->capacity()))
                best = it;
        }
        if (best != idle_.end()) {
            buffer = std::move(*best);
            idle_.erase(best);
            idle_bytes_ -= buffer->capacity();
        }
    }
    if (buffer) {
        if (buffer->size() > length) buffer->resize(length);  // shrinking writes nothing
    } else {
        buffer = std::make_unique<Bytes>();
        buffer->reserve(length);  // capacity only: pages are not touched until bytes arrive
    }
    return std::shared_ptr<Bytes>(buffer.release(), GiveBack{weak_from_this()});
}

std::size_t BufferPool::idle() const {
    std::lock_guard lock(mutex_);
    return idle_.size();
}

void BufferPool::GiveBack::operator()(Bytes* buffer) const noexcept {
    if (auto p = pool.lock()) p->give_back(buffer);
    else delete buffer;
}

void BufferPool::give_back(Bytes* buffer) noexcept {
    std::unique_ptr<Bytes> owned(buffer);
    std::lock_guard lock(mutex_);
    if (idle_.size() >= max_kept_ || idle_bytes_ + owned->capacity() > max_kept_bytes_) return;
    idle_bytes_ += owned->capacity();
    idle_.push_back(std::move(owned));
}

}  // namespace async_cassandra::protocol

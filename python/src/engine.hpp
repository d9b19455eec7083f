// The C++ side of the asyncio bridge: one process-wide io_context on one background thread runs
// every driver operation; each operation ends by pushing a Completion (C++ values only, never a
// Python object) onto the CompletionQueue of the event loop that started it. A queue wakes its
// loop through one eventfd (registered with loop.add_reader) when it goes from empty to non-empty,
// so many completions cost one wake-up. The I/O thread never takes the GIL.
//
// Objects that the I/O thread uses (Cluster, Session, ResultStream) are owned through io_owned()
// pointers: whichever thread drops the last reference, the object is destroyed on the I/O thread.
// No Asio and no Python in this header (it is included by the pybind11 translation units).
#pragma once

#include <async_cassandra/cluster.hpp>
#include <async_cassandra/config.hpp>
#include <async_cassandra/result.hpp>
#include <async_cassandra/session.hpp>
#include <async_cassandra/statement.hpp>
#include <async_cassandra/stream.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace acpy {

namespace ac = async_cassandra;

/// A running stream and where its consumer stands; used on the I/O thread only.
struct StreamBox {
    StreamBox();
    ~StreamBox();
    StreamBox(const StreamBox&) = delete;
    StreamBox& operator=(const StreamBox&) = delete;
    ac::ResultStream stream;
};

/// What ResultStream::next_page produced, with the numbers the Python side shows.
struct PageDelivery {
    std::optional<ac::Page> page;  ///< nullopt: the stream ended (or was closed)
    ac::ResumePoint start;         ///< row-exact position of the page's first row
    ac::ResumePoint end;           ///< with no page: the final position
    std::int64_t page_number = 0;
    std::int64_t total_rows = 0;
};

using AnyStatement = std::variant<ac::Statement, ac::BoundStatement>;

using Payload = std::variant<std::monostate, std::shared_ptr<ac::Session>, ac::ResultSet, ac::PreparedStatement,
                             std::shared_ptr<StreamBox>, PageDelivery, std::vector<ac::ExecutionOutcome>>;

struct Completion {
    std::uint64_t token = 0;
    std::exception_ptr error;  ///< null on success
    Payload value;
};

/// Completions of one event loop (see the file comment). Thread-safe.
class CompletionQueue {
public:
    CompletionQueue();
    ~CompletionQueue();
    CompletionQueue(const CompletionQueue&) = delete;
    CompletionQueue& operator=(const CompletionQueue&) = delete;

    /// The eventfd to register with loop.add_reader.
    int fd() const noexcept { return fd_; }
    void push(Completion c);
    /// Resets the eventfd and takes every queued completion (loop thread).
    std::vector<Completion> drain();

private:
    int fd_ = -1;
    std::mutex mutex_;
    std::vector<Completion> items_;
};
using QueuePtr = std::shared_ptr<CompletionQueue>;

/// Starts the I/O thread (idempotent); stop_engine() stops and joins it (at interpreter exit).
void start_engine();
void stop_engine();

/// Runs `destroy` on the I/O thread (or never, once the engine is stopped at exit).
void post_to_io(std::function<void()> fn);

template <class T>
std::shared_ptr<T> io_owned(T value) {
    return std::shared_ptr<T>(new T(std::move(value)), [](T* p) { post_to_io([p] { delete p; }); });
}

/// Live StreamBox objects (diagnostics for the leak tests).
std::int64_t live_streams() noexcept;

// Operations: each starts on the I/O thread and ends with one Completion for `token` on `queue`.
void cluster_connect(std::shared_ptr<ac::Cluster> cluster, std::optional<std::string> keyspace, QueuePtr queue,
                     std::uint64_t token);
void cluster_shutdown(std::shared_ptr<ac::Cluster> cluster, QueuePtr queue, std::uint64_t token);
std::shared_ptr<ac::Cluster> make_cluster(ac::ClusterConfig config);

void session_execute(std::shared_ptr<ac::Session> session, AnyStatement statement, QueuePtr queue,
                     std::uint64_t token);
void session_execute_batch(std::shared_ptr<ac::Session> session, ac::Batch batch, QueuePtr queue,
                           std::uint64_t token);
void session_prepare(std::shared_ptr<ac::Session> session, std::string query, QueuePtr queue, std::uint64_t token);
void session_open_stream(std::shared_ptr<ac::Session> session, AnyStatement statement, ac::StreamConfig config,
                         QueuePtr queue, std::uint64_t token);
/// Runs every statement, at most `concurrency` at a time; one completion with every outcome.
void session_execute_concurrent(std::shared_ptr<ac::Session> session, std::vector<AnyStatement> statements,
                                std::size_t concurrency, QueuePtr queue, std::uint64_t token);
void session_shutdown(std::shared_ptr<ac::Session> session, QueuePtr queue, std::uint64_t token);

void stream_next_page(std::shared_ptr<StreamBox> box, QueuePtr queue, std::uint64_t token);
void stream_close(std::shared_ptr<StreamBox> box, QueuePtr queue, std::uint64_t token);

}  // namespace acpy

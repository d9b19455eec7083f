// Speculative execution: for idempotent requests, send the same request to the next host of the
// plan when the previous ones have not answered after a delay, up to a number of executions; the
// first answer wins and the others are cancelled (their stream ids stay orphaned until the late
// answers arrive). Opt-in: ClusterConfig::speculative_execution (null = off). A request that is
// not idempotent is never speculated.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

namespace async_cassandra {

/// When to start the next execution of a request.
class SpeculativeExecutionPolicy {
public:
    virtual ~SpeculativeExecutionPolicy() = default;
    /// Delay before execution number `execution` (2 = the first speculative one) starts, counted
    /// from the start of the previous one; nullopt = no more executions.
    virtual std::optional<std::chrono::milliseconds> next_delay(std::size_t execution) const = 0;
};

/// A new execution every `delay`, at most `max_executions` in total (the first one included).
class ConstantSpeculativeExecutionPolicy : public SpeculativeExecutionPolicy {
public:
    ConstantSpeculativeExecutionPolicy(std::chrono::milliseconds delay, std::size_t max_executions)
        : delay_(delay), max_executions_(max_executions) {}
    std::optional<std::chrono::milliseconds> next_delay(std::size_t execution) const override {
        if (execution > max_executions_) return std::nullopt;
        return delay_;
    }

private:
    std::chrono::milliseconds delay_;
    std::size_t max_executions_;
};

}  // namespace async_cassandra

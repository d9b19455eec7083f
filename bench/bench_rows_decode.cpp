// Decoding one Rows page of 5,000 rows (bigint, int, text of 16 chars, double, timestamp),
// compared with a memcpy of the same RESULT body (~320 KB, in cache).
//
// Every case reports items_per_second (rows/s), bytes_per_second (RESULT body bytes/s) and
// vs_memcpy: its speed as a fraction of memcpy of the same buffer, where the memcpy is timed
// right after the case (same minute, same machine load), both in this thread's CPU time.
//
// Cases: "Decode*" start from the RESULT body (decode_response + Page::from_rows + reading);
// "PageOnly*" start from a RowsResult already decoded by decode_response (whose walk index lets
// from_rows skip re-walking the cells); "PageValidateUnindexed" is Page::from_rows on a RowsResult
// built by hand (no index: the page walks and validates every cell itself).
#include <async_cassandra/row.hpp>

#include "protocol/messages.hpp"
#include "protocol/rows_page.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>

using namespace async_cassandra;
using protocol::Bytes;
using protocol::BytesView;

namespace {

constexpr int kRows = 5000;

struct Sample {
    std::int64_t id = 0;
    std::int32_t n = 0;
    std::string_view name;
    double v = 0;
    Timestamp ts;
};
ASYNC_CASSANDRA_ROW(Sample, id, n, name, v, ts)

std::vector<protocol::ColumnSpec> columns() {
    return {{"ks", "t", "id", DataType::simple(TypeKind::bigint)},
            {"ks", "t", "n", DataType::simple(TypeKind::int_)},
            {"ks", "t", "name", DataType::simple(TypeKind::varchar)},
            {"ks", "t", "v", DataType::simple(TypeKind::double_)},
            {"ks", "t", "ts", DataType::simple(TypeKind::timestamp)}};
}

/// A complete RESULT (kind Rows) body with metadata, as a server sends it.
std::shared_ptr<const Bytes> make_body() {
    Bytes cells;
    protocol::ByteWriter w(cells);
    auto cols = columns();
    for (int i = 0; i < kRows; ++i) {
        encode_value(w, *cols[0].type, std::int64_t{i} * 1'000'003);
        encode_value(w, *cols[1].type, static_cast<std::int32_t>(i));
        char name[17];
        std::snprintf(name, sizeof name, "name-%011d", i);
        encode_value(w, *cols[2].type, std::string_view(name, 16));
        encode_value(w, *cols[3].type, i * 0.5);
        encode_value(w, *cols[4].type, Timestamp{1'700'000'000'000 + i});
    }
    protocol::RowsResult r;
    r.metadata.column_count = 5;
    r.metadata.columns = cols;
    r.row_count = kRows;
    r.rows_content = BytesView(cells);
    auto body = std::make_shared<Bytes>();
    protocol::ByteWriter bw(*body);
    protocol::encode_response(bw, protocol::Response(protocol::ResultResponse(r)), protocol::ProtocolVersion::v4);
    return body;
}

Page decode_page(const std::shared_ptr<const Bytes>& body) {
    auto response = protocol::decode_response(protocol::Opcode::result, *body, protocol::ProtocolVersion::v4);
    auto& rows = std::get<protocol::RowsResult>(std::get<protocol::ResultResponse>(response));
    return protocol::page_from_rows(body, std::move(rows));
}

/// This thread's CPU time (the machine may be shared: wall-clock time would count other
/// processes' time slices; google-benchmark's own rates also use CPU time).
struct Clock {
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<Clock, duration>;
    static time_point now() noexcept {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return time_point(duration(std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec));
    }
};

/// CPU nanoseconds of one memcpy of `body` (mean of a few hundred, after a warm-up).
double memcpy_ns(const Bytes& body) {
    Bytes dst(body.size());
    constexpr int kCopies = 300;
    for (int i = 0; i < 20; ++i) {
        std::memcpy(dst.data(), body.data(), body.size());
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    const auto t0 = Clock::now();
    for (int i = 0; i < kCopies; ++i) {
        std::memcpy(dst.data(), body.data(), body.size());
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    return std::chrono::duration<double, std::nano>(Clock::now() - t0).count() / kCopies;
}

/// Times the benchmark loop in CPU time, to compare with memcpy_ns.
struct Timer {
    Clock::time_point start = Clock::now();
};

void report(benchmark::State& state, const Bytes& body, const Timer& timer) {
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - timer.start).count();
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kRows);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
    if (state.iterations() > 0) state.counters["vs_memcpy"] = memcpy_ns(body) / (ns / static_cast<double>(state.iterations()));
}

// (a) The floor: copying the body.
void BM_Memcpy(benchmark::State& state) {
    const auto body = make_body();
    Bytes dst(body->size());
    const Timer timer;
    for (auto _ : state) {
        std::memcpy(dst.data(), body->data(), body->size());
        benchmark::DoNotOptimize(dst.data());
        benchmark::ClobberMemory();
    }
    report(state, *body, timer);
}
BENCHMARK(BM_Memcpy);

// (b) Full RESULT decode (metadata parse) + Page validation + every cell read with Row::get<T>.
void BM_DecodeRowGet(benchmark::State& state) {
    const auto body = make_body();
    const Timer timer;
    for (auto _ : state) {
        const Page page = decode_page(body);
        std::int64_t acc = 0;
        for (const Row row : page) {
            acc += row.get<std::int64_t>(0);
            acc += row.get<std::int32_t>(1);
            acc += static_cast<std::int64_t>(row.get<std::string_view>(2).size());
            acc += static_cast<std::int64_t>(row.get<double>(3));
            acc += row.get<Timestamp>(4).milliseconds;
        }
        benchmark::DoNotOptimize(acc);
    }
    report(state, *body, timer);
}
BENCHMARK(BM_DecodeRowGet);

// (b') Same, without the message layer: Page::from_rows on decode_response's RowsResult (which
// reuses the message layer's walk index), then every cell read with Row::get<T>.
void BM_PageOnlyRowGet(benchmark::State& state) {
    const auto body = make_body();
    auto response = protocol::decode_response(protocol::Opcode::result, *body, protocol::ProtocolVersion::v4);
    const auto rows = std::get<protocol::RowsResult>(std::get<protocol::ResultResponse>(response));
    const Timer timer;
    for (auto _ : state) {
        const Page page = protocol::page_from_rows(body, rows);
        std::int64_t acc = 0;
        for (const Row row : page) {
            acc += row.get<std::int64_t>(0) + row.get<std::int32_t>(1);
            acc += static_cast<std::int64_t>(row.get<std::string_view>(2).size());
            acc += static_cast<std::int64_t>(row.get<double>(3)) + row.get<Timestamp>(4).milliseconds;
        }
        benchmark::DoNotOptimize(acc);
    }
    report(state, *body, timer);
}
BENCHMARK(BM_PageOnlyRowGet);

// Parts of (b)/(c): the message layer's RESULT decode alone (metadata parse + the one validating
// walk over the cells), and Page::from_rows alone on its result (reuses the walk index).
void BM_DecodeResponseOnly(benchmark::State& state) {
    const auto body = make_body();
    const Timer timer;
    for (auto _ : state) {
        auto response = protocol::decode_response(protocol::Opcode::result, *body, protocol::ProtocolVersion::v4);
        benchmark::DoNotOptimize(&response);
    }
    report(state, *body, timer);
}
BENCHMARK(BM_DecodeResponseOnly);

void BM_PageValidateOnly(benchmark::State& state) {
    const auto body = make_body();
    auto response = protocol::decode_response(protocol::Opcode::result, *body, protocol::ProtocolVersion::v4);
    const auto rows = std::get<protocol::RowsResult>(std::get<protocol::ResultResponse>(response));
    const Timer timer;
    for (auto _ : state) {
        const Page page = protocol::page_from_rows(body, rows);
        benchmark::DoNotOptimize(page.size());
    }
    report(state, *body, timer);
}
BENCHMARK(BM_PageValidateOnly);

// Page validation alone on a RowsResult without decode_response's walk index (built by hand,
// as the server engine and tests do): one full validating pass over the cells.
void BM_PageValidateUnindexed(benchmark::State& state) {
    const auto body = make_body();
    auto response = protocol::decode_response(protocol::Opcode::result, *body, protocol::ProtocolVersion::v4);
    auto rows = std::get<protocol::RowsResult>(std::get<protocol::ResultResponse>(response));
    rows.walk = nullptr;
    const Timer timer;
    for (auto _ : state) {
        const Page page = protocol::page_from_rows(body, rows);
        benchmark::DoNotOptimize(page.size());
    }
    report(state, *body, timer);
}
BENCHMARK(BM_PageValidateUnindexed);

// (c) Full decode + typed tuples via Page::as<...> (type check once per page).
void BM_DecodeAsTuple(benchmark::State& state) {
    const auto body = make_body();
    const Timer timer;
    for (auto _ : state) {
        const Page page = decode_page(body);
        std::int64_t acc = 0;
        for (auto [id, n, name, v, ts] : page.as<std::int64_t, std::int32_t, std::string_view, double, Timestamp>())
            acc += id + n + static_cast<std::int64_t>(name.size()) + static_cast<std::int64_t>(v) + ts.milliseconds;
        benchmark::DoNotOptimize(acc);
    }
    report(state, *body, timer);
}
BENCHMARK(BM_DecodeAsTuple);

// (c) without the message layer.
void BM_PageOnlyAsTuple(benchmark::State& state) {
    const auto body = make_body();
    auto response = protocol::decode_response(protocol::Opcode::result, *body, protocol::ProtocolVersion::v4);
    const auto rows = std::get<protocol::RowsResult>(std::get<protocol::ResultResponse>(response));
    const Timer timer;
    for (auto _ : state) {
        const Page page = protocol::page_from_rows(body, rows);
        std::int64_t acc = 0;
        for (auto [id, n, name, v, ts] : page.as<std::int64_t, std::int32_t, std::string_view, double, Timestamp>())
            acc += id + n + static_cast<std::int64_t>(name.size()) + static_cast<std::int64_t>(v) + ts.milliseconds;
        benchmark::DoNotOptimize(acc);
    }
    report(state, *body, timer);
}
BENCHMARK(BM_PageOnlyAsTuple);

// (c') Full decode + one struct per row via Page::decode_into (fields mapped by name).
void BM_DecodeIntoStruct(benchmark::State& state) {
    const auto body = make_body();
    std::vector<Sample> out;
    const Timer timer;
    for (auto _ : state) {
        const Page page = decode_page(body);
        out.clear();
        page.decode_into(out);
        benchmark::DoNotOptimize(out.data());
    }
    report(state, *body, timer);
}
BENCHMARK(BM_DecodeIntoStruct);

}  // namespace

BENCHMARK_MAIN();

// Helpers for the engine tests: run CQL through Engine::execute and read Rows results back.
#pragma once

#include "server/engine/engine.hpp"
#include "protocol/bytes.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace engine_test {

using namespace async_cassandra;
using namespace async_cassandra::server;
using protocol::Bytes;
using protocol::BytesView;
using protocol::ValueView;

using Cell = std::optional<Bytes>;
using RowList = std::vector<std::vector<Cell>>;

inline Bytes i32(std::int32_t v) {
    Bytes b(4);
    for (int i = 0; i < 4; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(v) >> (24 - 8 * i));
    return b;
}
inline Bytes i64(std::int64_t v) {
    Bytes b(8);
    for (int i = 0; i < 8; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (56 - 8 * i));
    return b;
}
inline Bytes txt(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::int64_t as_int(const Cell& c) {
    EXPECT_TRUE(c.has_value());
    if (!c) return 0;
    std::uint64_t v = 0;
    for (auto x : *c) v = (v << 8) | x;
    if (c->size() == 4) return static_cast<std::int32_t>(v);
    return static_cast<std::int64_t>(v);
}
inline std::string as_text(const Cell& c) {
    EXPECT_TRUE(c.has_value());
    return c ? std::string(c->begin(), c->end()) : std::string();
}
inline ValueView view(const Bytes& b) { return ValueView{ValueView::Kind::value, BytesView(b)}; }

struct Harness {
    Engine engine;
    ConnectionState state;

    explicit Harness(EngineConfig config = {}) : engine(std::move(config)) {}

    ExecutionResult run(std::string_view cql, std::vector<ValueView> values = {}, std::optional<std::int32_t> page_size = {},
                        std::optional<BytesView> paging_state = {}) {
        protocol::QueryRequest q;
        q.query = cql;
        q.params.values = std::move(values);
        q.params.page_size = page_size;
        q.params.paging_state = paging_state;
        return engine.execute(protocol::Request{q}, state);
    }

    /// Runs a statement that must succeed.
    ExecutionResult ok(std::string_view cql, std::vector<ValueView> values = {}) {
        auto r = run(cql, std::move(values));
        if (auto* e = std::get_if<protocol::ErrorResponse>(&r.response))
            ADD_FAILURE() << cql << " -> error " << static_cast<int>(e->code) << ": " << e->message;
        return r;
    }
};

inline const protocol::ErrorResponse* error_of(const ExecutionResult& r) {
    return std::get_if<protocol::ErrorResponse>(&r.response);
}

inline int error_code(const ExecutionResult& r) {
    auto* e = error_of(r);
    return e ? static_cast<int>(e->code) : -1;
}

inline const protocol::RowsResult* rows_result(const ExecutionResult& r) {
    auto* res = std::get_if<protocol::ResultResponse>(&r.response);
    if (!res) return nullptr;
    return std::get_if<protocol::RowsResult>(res);
}

inline RowList rows_of(const ExecutionResult& r) {
    RowList out;
    const auto* rows = rows_result(r);
    if (!rows) {
        auto* e = error_of(r);
        ADD_FAILURE() << "not a Rows result" << (e ? ": " + e->message : std::string());
        return out;
    }
    protocol::ByteReader in(rows->rows_content);
    for (std::int32_t i = 0; i < rows->row_count; ++i) {
        std::vector<Cell> row;
        for (std::int32_t c = 0; c < rows->metadata.column_count; ++c) {
            auto b = in.read_bytes();
            row.push_back(b ? Cell(Bytes(b->begin(), b->end())) : std::nullopt);
        }
        out.push_back(std::move(row));
    }
    EXPECT_TRUE(in.empty()) << "trailing bytes in rows content";
    return out;
}

}  // namespace engine_test

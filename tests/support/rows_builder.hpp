// Builds a Page (a decoded Rows result) from typed C++ values, as a node would send it: for unit
// tests of code that reads result rows (system tables, schema) without a server.
//
//   Page page = RowsBuilder()
//                   .column("peer", DataType::simple(TypeKind::inet))
//                   .column("tokens", DataType::set_of(DataType::simple(TypeKind::varchar)))
//                   .row(Inet::v4(127, 0, 0, 2), std::set<std::string>{"1"})
//                   .page();
// std::nullopt in a row is a null cell.
#pragma once

#include <async_cassandra/codec.hpp>
#include <async_cassandra/row.hpp>

#include "protocol/messages.hpp"
#include "protocol/rows_page.hpp"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace acass_test {

/// The Page a node's Rows result of `row_count` rows decodes to: `body` holds the rows' cells
/// (each [bytes]) back to back, `columns` describes them.
inline async_cassandra::Page page_of_cells(std::shared_ptr<async_cassandra::protocol::Bytes> body,
                                           std::vector<async_cassandra::protocol::ColumnSpec> columns,
                                           std::int32_t row_count) {
    async_cassandra::protocol::RowsResult r;
    r.metadata.column_count = static_cast<std::int32_t>(columns.size());
    r.metadata.columns = std::move(columns);
    r.row_count = row_count;
    r.rows_content = async_cassandra::protocol::BytesView(*body);
    return async_cassandra::protocol::page_from_rows(body, std::move(r));
}

class RowsBuilder {
public:
    RowsBuilder& column(std::string name, async_cassandra::DataTypePtr type) {
        columns_.push_back({"system", "t", std::move(name), std::move(type)});
        return *this;
    }

    template <class... Ts>
    RowsBuilder& row(const Ts&... values) {
        if (sizeof...(Ts) != columns_.size()) throw std::logic_error("RowsBuilder: row width != column count");
        async_cassandra::protocol::ByteWriter out(cells_);
        std::size_t i = 0;
        (encode(*columns_[i++].type, values, out), ...);
        ++rows_;
        return *this;
    }

    async_cassandra::Page page() const {
        return page_of_cells(std::make_shared<async_cassandra::protocol::Bytes>(cells_), columns_, rows_);
    }

private:
    template <class T>
    static void encode(const async_cassandra::DataType& type, const T& value, async_cassandra::protocol::ByteWriter& out) {
        async_cassandra::ValueCodec<T>::encode(type, value, out);
    }
    static void encode(const async_cassandra::DataType&, const std::nullopt_t&, async_cassandra::protocol::ByteWriter& out) {
        out.write_i32(-1);
    }

    std::vector<async_cassandra::protocol::ColumnSpec> columns_;
    async_cassandra::protocol::Bytes cells_;
    std::int32_t rows_ = 0;
};

}  // namespace acass_test

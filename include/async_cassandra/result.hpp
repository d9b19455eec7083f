// The result of executing a statement: every page of rows (for SELECT), or what a non-SELECT
// statement reports (keyspace set by USE, schema change), plus warnings and the tracing id.
//
// LIFETIME RULE (row.hpp): a Row returned by iteration, one() or a page is a view into a page
// buffer owned (shared) by this ResultSet; it is valid while the ResultSet, a copy of it, or a
// copy of that Page is alive. Copies are cheap (the pages are shared).
#pragma once

#include <async_cassandra/row.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace async_cassandra {

/// A SCHEMA_CHANGE result (CREATE/ALTER/DROP).
struct SchemaChangeInfo {
    std::string change_type;  ///< CREATED, UPDATED, DROPPED
    std::string target;       ///< KEYSPACE, TABLE, TYPE, FUNCTION, AGGREGATE
    std::string keyspace;
    std::string name;
    std::vector<std::string> arg_types;
};

/// Every page of a statement's rows, or what a non-SELECT statement reported (see the file
/// comment for how long its rows stay valid).
class ResultSet {
public:
    ResultSet() = default;

    /// Rows of every page, in order.
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = Row;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = Row;
        iterator() = default;
        iterator(const std::vector<Page>* pages, std::size_t page, std::size_t row) noexcept
            : pages_(pages), page_(page), row_(row) {
            skip_empty();
        }
        Row operator*() const noexcept { return (*pages_)[page_][row_]; }
        iterator& operator++() noexcept {
            ++row_;
            skip_empty();
            return *this;
        }
        iterator operator++(int) noexcept {
            auto t = *this;
            ++*this;
            return t;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept {
            return a.page_ == b.page_ && a.row_ == b.row_;
        }

    private:
        void skip_empty() noexcept {
            while (pages_ && page_ < pages_->size() && row_ >= (*pages_)[page_].size()) {
                ++page_;
                row_ = 0;
            }
        }
        const std::vector<Page>* pages_ = nullptr;
        std::size_t page_ = 0;
        std::size_t row_ = 0;
    };

    iterator begin() const noexcept { return iterator(&pages_, 0, 0); }
    iterator end() const noexcept { return iterator(&pages_, pages_.size(), 0); }

    /// Total number of rows over all pages.
    std::size_t size() const noexcept {
        std::size_t n = 0;
        for (const auto& p : pages_) n += p.size();
        return n;
    }
    bool empty() const noexcept { return size() == 0; }
    /// The first row, or nullopt when there is none.
    std::optional<Row> one() const noexcept {
        auto it = begin();
        if (it == end()) return std::nullopt;
        return *it;
    }
    /// Row i over all pages; UsageError when out of range.
    Row at(std::size_t i) const;

    /// Result columns (empty for non-SELECT statements).
    const Columns& columns() const noexcept;
    /// Whether the statement returned rows (a Rows result), even zero of them.
    bool has_rows() const noexcept { return !pages_.empty(); }
    const std::vector<Page>& pages() const noexcept { return pages_; }

    /// Keyspace set by a USE statement.
    const std::optional<std::string>& keyspace_set() const noexcept { return keyspace_set_; }
    /// Schema change made by a DDL statement.
    const std::optional<SchemaChangeInfo>& schema_change() const noexcept { return schema_change_; }
    /// Server warnings of every page.
    const std::vector<std::string>& warnings() const noexcept { return warnings_; }
    /// Tracing session id, when tracing was requested.
    const std::optional<std::array<std::uint8_t, 16>>& tracing_id() const noexcept { return tracing_id_; }
    /// Custom payload entries of every page (a later page's value wins for a repeated key).
    const std::map<std::string, std::optional<std::vector<std::uint8_t>>>& custom_payload() const noexcept {
        return custom_payload_;
    }

    // Building (used by the session).
    void add_page(Page page) { pages_.push_back(std::move(page)); }
    void set_keyspace_set(std::string ks) { keyspace_set_ = std::move(ks); }
    void set_schema_change(SchemaChangeInfo c) { schema_change_ = std::move(c); }
    void add_warnings(const std::vector<std::string>& w) { warnings_.insert(warnings_.end(), w.begin(), w.end()); }
    void set_tracing_id(std::array<std::uint8_t, 16> id) { tracing_id_ = id; }
    /// Warnings, tracing id and custom payload of one response.
    void add_response_info(const ResponseInfo& info) {
        add_warnings(info.warnings);
        if (info.tracing_id) tracing_id_ = info.tracing_id;
        for (const auto& [key, value] : info.custom_payload) custom_payload_[key] = value;
    }

private:
    std::vector<Page> pages_;
    std::optional<std::string> keyspace_set_;
    std::optional<SchemaChangeInfo> schema_change_;
    std::vector<std::string> warnings_;
    std::optional<std::array<std::uint8_t, 16>> tracing_id_;
    std::map<std::string, std::optional<std::vector<std::uint8_t>>> custom_payload_;
};

}  // namespace async_cassandra

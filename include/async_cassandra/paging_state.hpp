// PagingState: where a paged query continues. The server returns it with every page but the last
// (Page::paging_state()); sending it back with the same statement requests the next page.
//
// The bytes are opaque: only the node (of the same cluster and version) that produced them knows
// their meaning; the driver never looks inside. They may be kept and sent later, from another
// process: to_string() gives a one-word ASCII form for files and URLs, from_string() reads it
// back (the same form ResumePoint::to_string() embeds, so existing resume files stay valid).
#pragma once

#include <async_cassandra/bytes.hpp>

#include <compare>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace async_cassandra {

class PagingState {
public:
    /// An empty (zero-byte) state. A statement's first page has no state at all: use
    /// std::optional<PagingState> and std::nullopt for that.
    PagingState() = default;
    explicit PagingState(Bytes bytes) noexcept : bytes_(std::move(bytes)) {}
    explicit PagingState(BytesView bytes) : bytes_(bytes.begin(), bytes.end()) {}

    /// The bytes as the server sent them.
    const Bytes& bytes() const noexcept { return bytes_; }
    BytesView view() const noexcept { return bytes_; }
    std::size_t size() const noexcept { return bytes_.size(); }
    bool empty() const noexcept { return bytes_.empty(); }

    /// Lower-case hex of the bytes; "0x" for an empty state, so the text is never empty.
    std::string to_string() const;
    /// Parses to_string()'s form (hex digits of either case, or "0x"). Throws UsageError for
    /// anything else (odd digit count, non-hex character, empty text).
    static PagingState from_string(std::string_view text);

    friend bool operator==(const PagingState&, const PagingState&) = default;
    friend auto operator<=>(const PagingState&, const PagingState&) = default;

private:
    Bytes bytes_;
};

}  // namespace async_cassandra

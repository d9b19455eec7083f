#include "server/net/faults.hpp"

#include <charconv>
#include <cstdint>

namespace async_cassandra::server::net {

namespace {

std::int64_t to_int(std::string_view key, std::string_view v) {
    std::int64_t out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || p != v.data() + v.size())
        throw UsageError("fault: " + std::string(key) + " needs an integer, got '" + std::string(v) + "'");
    return out;
}

/// A replica count: 0 .. 2^31-1 (a protocol [int]).
std::int32_t to_count(std::string_view key, std::string_view v) {
    const std::int64_t n = to_int(key, v);
    if (n < 0 || n > INT32_MAX) throw UsageError("fault: " + std::string(key) + " needs a count from 0, got '" + std::string(v) + "'");
    return static_cast<std::int32_t>(n);
}

ServerErrorCode parse_error_name(std::string_view v, LwtShape& lwt) {
    if (v == "lwt_commit_timeout") {
        lwt = LwtShape::commit_timeout;
        return ServerErrorCode::write_timeout;
    }
    if (v == "cas_write_timeout") {
        lwt = LwtShape::cas_timeout;
        return ServerErrorCode::write_timeout;
    }
    if (v == "cas_write_unknown") {
        lwt = LwtShape::cas_unknown;
        return ServerErrorCode::cas_write_unknown;
    }
    if (v == "overloaded") return ServerErrorCode::overloaded;
    if (v == "read_timeout") return ServerErrorCode::read_timeout;
    if (v == "write_timeout") return ServerErrorCode::write_timeout;
    if (v == "unavailable") return ServerErrorCode::unavailable;
    if (v == "is_bootstrapping" || v == "bootstrapping") return ServerErrorCode::is_bootstrapping;
    if (v == "server_error") return ServerErrorCode::server_error;
    if (v == "truncate_error") return ServerErrorCode::truncate_error;
    throw UsageError("fault: unknown error '" + std::string(v) +
                     "' (overloaded, read_timeout, write_timeout, unavailable, is_bootstrapping, server_error, "
                     "truncate_error, lwt_commit_timeout, cas_write_timeout, cas_write_unknown)");
}

}  // namespace

FaultRule parse_fault(std::string_view spec) {
    FaultRule rule;
    bool first = true;
    while (!spec.empty()) {
        // The pattern may contain commas only as the last key, so "pattern=" swallows the rest.
        std::size_t comma = spec.starts_with("pattern=") ? std::string_view::npos : spec.find(',');
        std::string_view item = spec.substr(0, comma);
        spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
        std::size_t eq = item.find('=');
        std::string_view key = item.substr(0, eq);
        std::string_view value = eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1);
        if (first) {
            first = false;
            if (key == "delay") rule.kind = FaultKind::delay;
            else if (key == "delay_pages") rule.kind = FaultKind::delay_pages;
            else if (key == "drop_after_pages") rule.kind = FaultKind::drop_after_pages;
            else if (key == "drop_mid_frame") rule.kind = FaultKind::drop_mid_frame;
            else if (key == "error") rule.kind = FaultKind::error;
            else if (key == "stall") rule.kind = FaultKind::stall;
            else if (key == "corrupt_frame") rule.kind = FaultKind::corrupt_frame;
            else if (key == "wrong_stream") rule.kind = FaultKind::wrong_stream;
            else if (key == "warn") rule.kind = FaultKind::warn;
            else throw UsageError("fault: unknown kind '" + std::string(key) + "'");
            if (!value.empty()) {
                if (rule.kind == FaultKind::error) rule.error_code = parse_error_name(value, rule.lwt);
                else if (rule.kind == FaultKind::warn) rule.warning = std::string(value);
                else if (rule.kind == FaultKind::drop_after_pages) rule.pages = to_int(key, value);
                else rule.delay = std::chrono::milliseconds(to_int(key, value));
            }
            continue;
        }
        if (key == "pattern") rule.pattern = std::string(value);
        else if (key == "node") rule.node = static_cast<int>(to_int(key, value));
        else if (key == "nth") rule.nth = to_int(key, value);
        else if (key == "max_hits") rule.max_hits = to_int(key, value);
        else if (key == "prepare") rule.match_prepare = to_int(key, value) != 0;
        else if (key == "pages") rule.pages = to_int(key, value);
        else if (key == "delay") rule.delay = std::chrono::milliseconds(to_int(key, value));
        else if (key == "received") rule.received = to_count(key, value);
        else if (key == "block_for" || key == "blockfor") rule.block_for = to_count(key, value);
        else if (key == "write_type") rule.write_type = std::string(value);
        else if (key == "data_present") {
            if (value != "0" && value != "1") throw UsageError("fault: data_present needs 0 or 1");
            rule.data_present = value == "1";
        }
        else if (key == "fraction") {
            try {
                rule.fraction = std::stod(std::string(value));
            } catch (const std::exception&) {
                throw UsageError("fault: fraction needs a number");
            }
        } else throw UsageError("fault: unknown key '" + std::string(key) + "'");
    }
    if (first) throw UsageError("fault: empty specification");
    if (rule.kind == FaultKind::warn && rule.warning.empty()) throw UsageError("fault: warn needs a text (warn=TEXT)");
    return rule;
}

std::size_t FaultInjector::add(FaultRule rule) {
    std::lock_guard lock(mutex_);
    entries_.push_back(Entry{std::move(rule)});
    count_.store(entries_.size(), std::memory_order_relaxed);
    return entries_.size() - 1;
}

void FaultInjector::clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
    count_.store(0, std::memory_order_relaxed);
}

FaultDecision FaultInjector::decide(int node, std::string_view query, bool prepare) {
    FaultDecision d;
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        Entry& e = entries_[i];
        const FaultRule& r = e.rule;
        if (r.node != 0 && r.node != node) continue;
        if (prepare && !r.match_prepare) continue;
        if (!r.pattern.empty() && query.find(r.pattern) == std::string_view::npos) continue;
        if (r.max_hits >= 0 && e.hits >= r.max_hits) continue;
        ++e.matches;
        bool fire;
        if (r.nth > 0) fire = e.matches == r.nth;
        else fire = r.fraction >= 1.0 || std::uniform_real_distribution<double>(0, 1)(rng_) < r.fraction;
        if (!fire) continue;
        switch (r.kind) {
            case FaultKind::delay:
                ++e.hits;
                d.delay += r.delay;
                break;
            case FaultKind::delay_pages:
                ++e.hits;
                d.page_delay += r.delay;
                break;
            case FaultKind::drop_after_pages:
                if (d.page_rule < 0) d.page_rule = static_cast<int>(i);
                break;
            case FaultKind::warn:
                ++e.hits;
                d.warnings.push_back(r.warning);
                break;
            default:
                // One request-level action per request: the first rule wins.
                if (!d.action) {
                    ++e.hits;
                    d.action = r.kind;
                    d.error_code = r.error_code;
                    d.lwt = r.lwt;
                    d.received = r.received;
                    d.block_for = r.block_for;
                    d.data_present = r.data_present;
                    d.write_type = r.write_type;
                }
                break;
        }
    }
    return d;
}

bool FaultInjector::allow_page(int rule) {
    std::lock_guard lock(mutex_);
    if (rule < 0 || static_cast<std::size_t>(rule) >= entries_.size()) return true;
    Entry& e = entries_[static_cast<std::size_t>(rule)];
    if (e.pages_sent >= e.rule.pages) {
        ++e.hits;
        return false;
    }
    ++e.pages_sent;
    return true;
}

std::int64_t FaultInjector::hits(std::size_t index) const {
    std::lock_guard lock(mutex_);
    return index < entries_.size() ? entries_[index].hits : 0;
}

}  // namespace async_cassandra::server::net

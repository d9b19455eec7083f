#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace acass_cli {

using Clock = std::chrono::steady_clock;

Progress::Progress(bool enabled, std::optional<std::int64_t> total_rows, std::string unit)
    : enabled_(enabled),
      total_(total_rows),
      start_(Clock::now()),
      last_draw_(start_),
      unit_(std::move(unit)) {}

bool Progress::stderr_is_tty() {
    return isatty(STDERR_FILENO) != 0;
}

double Progress::seconds() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
}

void Progress::update(std::int64_t rows, std::int64_t bytes, std::int64_t pages) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (drawn_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
    last_draw_ = now;
    draw(rows, bytes, pages);
}

void Progress::draw(std::int64_t rows, std::int64_t bytes, std::int64_t pages) {
    const double elapsed = seconds();
    const double rate = elapsed > 0 ? static_cast<double>(rows) / elapsed : 0;
    std::string line = "\r";
    char buf[160];
    std::optional<double> done = fraction_;
    if (!done && total_ && *total_ > 0)
        done = std::min(1.0, static_cast<double>(rows) / static_cast<double>(*total_));
    if (done) {
        const double fraction = std::clamp(*done, 0.0, 1.0);
        constexpr int width = 24;
        const int filled = static_cast<int>(fraction * width);
        line += '[';
        line.append(static_cast<std::size_t>(filled), '#');
        line.append(static_cast<std::size_t>(width - filled), '.');
        std::snprintf(buf, sizeof buf, "] %5.1f%% ", fraction * 100);
        line += buf;
    }
    std::snprintf(buf, sizeof buf, "%lld rows  %.0f rows/s  ", static_cast<long long>(rows), rate);
    line += buf;
    if (bytes >= 0) line += format_megabytes(bytes) + "  ";
    line += std::to_string(pages) + " " + unit_;
    if (!detail_.empty()) line += "  " + detail_;
    std::optional<double> seconds_left;
    if (fraction_ && *fraction_ > 0 && *fraction_ < 1)
        seconds_left = elapsed * (1 - *fraction_) / *fraction_;
    else if (!fraction_ && total_ && rate > 0 && rows < *total_)
        seconds_left = static_cast<double>(*total_ - rows) / rate;
    if (seconds_left) {
        const auto eta = static_cast<long long>(*seconds_left);
        std::snprintf(buf, sizeof buf, "  ETA %lld:%02lld:%02lld", eta / 3600, eta / 60 % 60, eta % 60);
        line += buf;
    }
    line += "\x1b[K";  // clear what a longer previous line left
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
    drawn_ = true;
}

void Progress::finish() {
    if (!drawn_) return;
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
}

std::string format_megabytes(std::int64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
    return buf;
}

}  // namespace acass_cli

// Progress of a long-running subcommand: on a terminal (stderr is a TTY) a line rewritten in place
// at most every 200 ms with rows, rows/s, MB, pages and, when the total is known, a bar and the
// ETA; otherwise nothing until the summary line.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace acass_cli {

class Progress {
public:
    /// `enabled`: draw the live line (normally: stderr is a TTY and --quiet was not given).
    /// `total_rows`: the number of rows expected, for the bar and the ETA.
    /// `unit`: what the third counter counts ("pages", "requests").
    Progress(bool enabled, std::optional<std::int64_t> total_rows, std::string unit = "pages");

    /// Current counters (absolute; bytes < 0: not shown). Cheap when nothing is drawn.
    void update(std::int64_t rows, std::int64_t bytes, std::int64_t pages);
    /// Text shown after the counters (e.g. per-range state), from the next redraw on.
    void set_detail(std::string detail) { detail_ = std::move(detail); }
    /// The part done (0..1) when it is known from something else than rows (a load: the input
    /// bytes read); used for the bar and the ETA instead of rows / total.
    void set_fraction(double fraction) { fraction_ = fraction; }
    /// Clears the live line (before the summary or an error message).
    void finish();
    double seconds() const;

    /// Whether stderr is a terminal.
    static bool stderr_is_tty();

private:
    void draw(std::int64_t rows, std::int64_t bytes, std::int64_t pages);
    bool enabled_;
    std::optional<std::int64_t> total_;
    std::optional<double> fraction_;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_draw_;
    std::string unit_;
    bool drawn_ = false;
    std::string detail_;
};

/// "1.23 MB" style size.
std::string format_megabytes(std::int64_t bytes);

}  // namespace acass_cli

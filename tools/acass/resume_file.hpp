// Resume files (`--resume-file F` of export and load). ResumeFile holds an exclusive flock on F
// for the whole run, so a second run on the same file (an overlapping cron job) is refused
// instead of writing the same output twice; it replaces F atomically (temp file + rename), so F
// is always either the old or the new state, whatever stops the process. The lock follows the
// replacement: the new file is locked before it is renamed over the old one.
//
// The export's state (ResumeState):
//   acass-resume-1 <paging state hex|-> <rows to skip> <finished 0|1>   (ResumePoint::to_string)
//   rows <rows written>
//   pages <pages written>
//   bytes <output size after the last page>
//   format <csv|jsonl|avro>
//   query <statement, backslash-escaped>
//   writer <RowWriter::resume_state()>          (Parquet only)
#pragma once

#include <async_cassandra/stream.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace acass_cli {

struct ResumeState {
    async_cassandra::ResumePoint point;
    std::int64_t rows = 0;
    std::int64_t pages = 0;
    std::int64_t bytes = 0;
    std::string format;
    std::string query;
    std::string writer_state;  ///< RowWriter::resume_state() (Parquet), empty for other formats
};

class ResumeFile {
public:
    /// Opens (creating it empty when missing) and locks `path`. Throws CliUsageError (exit 2)
    /// when another process holds the lock, FileError when it cannot be opened.
    explicit ResumeFile(std::string path);
    ~ResumeFile();
    ResumeFile(const ResumeFile&) = delete;
    ResumeFile& operator=(const ResumeFile&) = delete;

    /// The file's text; empty for a new file. Throws FileError.
    std::string read() const;
    /// Replaces the file with `text` atomically, keeping the lock; with `durable` the new file is
    /// fsync'ed before the rename and the directory after it. Throws FileError.
    void replace(const std::string& text, bool durable = false);
    const std::string& path() const { return path_; }

private:
    std::string path_;
    int fd_ = -1;
};

/// The export's state in `file`; std::nullopt when the file is empty. Throws FileError for a
/// malformed file.
std::optional<ResumeState> load_resume_state(const ResumeFile& file);

/// Writes `state` to `file` atomically. Throws FileError.
void save_resume_state(ResumeFile& file, const ResumeState& state);

/// One-line form of a text for resume files (backslash, CR and LF escaped), and back.
std::string escape_resume_text(const std::string& text);
std::string unescape_resume_text(const std::string& text);

}  // namespace acass_cli

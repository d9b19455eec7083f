// The resume file of `acass export --resume-file F`: where the export stands after the last page
// written and flushed. Saved atomically (temp file + rename) so that it is always either the old
// or the new state, whatever stops the process.
//
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

/// Reads `path`; std::nullopt when it does not exist or is empty. Throws FileError for an
/// unreadable or malformed file.
std::optional<ResumeState> load_resume_state(const std::string& path);

/// Writes `state` to `path` atomically. Throws FileError.
void save_resume_state(const std::string& path, const ResumeState& state);

/// Replaces `path` with `body` atomically (temporary file + rename); with `durable` the
/// temporary file is fsync'ed before the rename and the directory after it. Throws FileError.
void write_file_atomically(const std::string& path, const std::string& body, bool durable = false);
/// One-line form of a text for resume files (backslash, CR and LF escaped), and back.
std::string escape_resume_text(const std::string& text);
std::string unescape_resume_text(const std::string& text);

}  // namespace acass_cli

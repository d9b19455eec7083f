// Every byte acass writes to a file or to standard output goes through OutputFile, so that no
// write, flush or close goes unchecked: a full disk, a closed pipe or a revoked mount is a
// FileError naming the file and the OS reason (exit 8), never a short file and exit 0.
//
// Compression is chosen by the file name: `.gz` (gzip, zlib) and `.zst` (Zstandard, libzstd).
// flush() ends the current gzip member / zstd frame, so the file is always a sequence of complete
// members/frames at the points a resume file records; a resumed export cuts the file back to
// such a point and appends new members (concatenated members/frames are one valid stream for
// gzip, zcat, zstd and every decoder of note).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace acass_cli {

enum class Compression { none, gzip, zstd };

/// The compression a file name asks for (by extension); none for "-".
Compression compression_for(const std::string& path);
const char* to_string(Compression compression);

class OutputFile {
public:
    /// Opens `path` ("-" = standard output): truncated, or with `append` continued at its end.
    /// Throws FileError.
    OutputFile(const std::string& path, bool append);
    ~OutputFile();
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;

    /// Buffers `data` (compressed when the name asks for it); writes when the buffer is full.
    void write(std::string_view data);
    /// Writes everything buffered to the OS and ends the compressed member/frame. Throws FileError.
    void flush();
    /// Flushes and closes (standard output: flushed only). Throws FileError.
    void close();
    /// Bytes in the file so far (compressed size; after flush(): the file's size).
    std::int64_t bytes() const { return bytes_; }
    const std::string& path() const { return path_; }

    class Codec;  ///< gzip or zstd (output_file.cpp)

private:
    void write_raw(std::string_view data);
    void drain();
    std::string path_;
    std::string name_;  ///< for messages: the path, or "standard output"
    int fd_ = -1;
    bool owned_ = false;
    std::string buffer_;
    std::unique_ptr<Codec> codec_;
    std::int64_t bytes_ = 0;
};

/// "cannot write PATH: <strerror(errno)>" as a FileError (also for standard output).
[[noreturn]] void throw_write_error(const std::string& name);

/// Writes `text` to standard output and flushes it, checked (exit 8 on failure). For the few
/// lines the commands print outside a table or an export (count's number).
void print_stdout(std::string_view text);

}  // namespace acass_cli

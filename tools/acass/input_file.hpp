// Input files of `acass load`: a file or standard input, decompressed on the fly when the name
// ends in `.gz` or `.zst` (the same rule as OutputFile), read as a std::istream. Read errors
// (and corrupt compressed data) are FileErrors naming the file, never a silent end of input.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <streambuf>
#include <string>
#include <vector>

namespace acass_cli {

class InputFile {
public:
    /// Opens `path` ("-" = standard input). Throws FileError.
    explicit InputFile(const std::string& path);
    ~InputFile();
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    std::istream& stream() { return stream_; }
    /// Bytes of the file consumed by the reader (compressed bytes for .gz/.zst), for progress.
    std::int64_t consumed() const;
    /// The file's size (-1 when unknown: standard input, pipes).
    std::int64_t size() const { return size_; }
    const std::string& path() const { return path_; }
    /// Throws the FileError a failed read left (std::istream only sees the end of input).
    void check() const;

private:
    class Buffer;
    std::string path_;
    std::int64_t size_ = -1;
    std::unique_ptr<Buffer> buffer_;
    std::istream stream_;
};

/// `patterns` with every glob pattern (containing *, ? or [) expanded in sorted order; other
/// names kept as they are. A pattern that matches nothing is a FileError.
std::vector<std::string> expand_inputs(const std::vector<std::string>& patterns);

}  // namespace acass_cli

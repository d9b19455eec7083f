#include "input_file.hpp"

#include "errors.hpp"
#include "output_file.hpp"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#ifdef ACASS_HAVE_ZSTD
#include <zstd.h>
#endif

#include <cerrno>
#include <cstring>
#include <optional>

namespace acass_cli {

namespace {
constexpr std::size_t kChunk = 1 << 16;
}

/// A read-only streambuf over a file descriptor, inflating gzip members or zstd frames (any
/// number of them, one after the other) when asked to.
class InputFile::Buffer : public std::streambuf {
public:
    Buffer(int fd, bool owned, std::string name, Compression compression)
        : fd_(fd), owned_(owned), name_(std::move(name)), compression_(compression), raw_(kChunk), out_(kChunk) {
        if (compression_ == Compression::gzip && inflateInit2(&z_, 15 + 32) != Z_OK)
            throw FileError(name_ + ": cannot start gzip decompression");
#ifdef ACASS_HAVE_ZSTD
        if (compression_ == Compression::zstd && !(dctx_ = ZSTD_createDCtx()))
            throw FileError(name_ + ": cannot start zstd decompression");
#else
        if (compression_ == Compression::zstd)
            throw CliUsageError(name_ + ": this acass was built without zstd (install libzstd-dev and rebuild)");
#endif
    }
    ~Buffer() override {
        if (compression_ == Compression::gzip) inflateEnd(&z_);
#ifdef ACASS_HAVE_ZSTD
        if (dctx_) ZSTD_freeDCtx(dctx_);
#endif
        if (owned_) ::close(fd_);
    }
    /// Bytes of the file handed to the reader (compressed input: the compressed bytes inflated
    /// so far), not merely read ahead into the buffers: progress stays true for small files.
    std::int64_t consumed() const {
        const auto buffered = compression_ == Compression::none ? egptr() - gptr()
                                                                : static_cast<std::ptrdiff_t>(raw_end_ - raw_pos_);
        return consumed_ - buffered;
    }
    const std::optional<std::string>& error() const { return error_; }

protected:
    int_type underflow() override {
        if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
        std::size_t n = 0;
        try {
            n = compression_ == Compression::none ? read_some(out_.data(), out_.size()) : decompress();
        } catch (const FileError& e) {
            error_ = e.what();
            return traits_type::eof();
        }
        if (n == 0) return traits_type::eof();
        setg(out_.data(), out_.data(), out_.data() + n);
        return traits_type::to_int_type(*gptr());
    }

private:
    std::size_t read_some(char* into, std::size_t size) {
        for (;;) {
            const ssize_t n = ::read(fd_, into, size);
            if (n >= 0) {
                consumed_ += n;
                return static_cast<std::size_t>(n);
            }
            if (errno != EINTR) throw FileError("cannot read " + name_ + ": " + std::strerror(errno));
        }
    }
    bool refill() {  // more compressed input; false at its end
        if (raw_pos_ < raw_end_) return true;
        raw_end_ = read_some(raw_.data(), raw_.size());
        raw_pos_ = 0;
        return raw_end_ > 0;
    }
    std::size_t decompress() {
        for (;;) {
            if (!refill()) {
                if (in_member_) throw FileError(name_ + ": truncated " + to_string(compression_) + " data");
                return 0;
            }
            std::size_t produced = 0;
            if (compression_ == Compression::gzip) {
                z_.next_in = reinterpret_cast<Bytef*>(raw_.data() + raw_pos_);
                z_.avail_in = static_cast<uInt>(raw_end_ - raw_pos_);
                z_.next_out = reinterpret_cast<Bytef*>(out_.data());
                z_.avail_out = static_cast<uInt>(out_.size());
                const int rc = inflate(&z_, Z_NO_FLUSH);
                if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
                    throw FileError(name_ + ": corrupt gzip data (" + (z_.msg ? z_.msg : "inflate failed") + ")");
                raw_pos_ = raw_end_ - z_.avail_in;
                produced = out_.size() - z_.avail_out;
                in_member_ = rc != Z_STREAM_END;
                if (rc == Z_STREAM_END) inflateReset(&z_);  // the next member, if any
            } else {
#ifdef ACASS_HAVE_ZSTD
                ZSTD_inBuffer in{raw_.data() + raw_pos_, raw_end_ - raw_pos_, 0};
                ZSTD_outBuffer out{out_.data(), out_.size(), 0};
                const std::size_t rc = ZSTD_decompressStream(dctx_, &out, &in);
                if (ZSTD_isError(rc))
                    throw FileError(name_ + ": corrupt zstd data (" + ZSTD_getErrorName(rc) + ")");
                raw_pos_ += in.pos;
                produced = out.pos;
                in_member_ = rc != 0;
#endif
            }
            if (produced > 0) return produced;
        }
    }

    int fd_;
    bool owned_;
    std::string name_;
    Compression compression_;
    std::vector<char> raw_;
    std::size_t raw_pos_ = 0, raw_end_ = 0;
    std::vector<char> out_;
    z_stream z_{};
#ifdef ACASS_HAVE_ZSTD
    ZSTD_DCtx* dctx_ = nullptr;
#endif
    bool in_member_ = false;
    std::int64_t consumed_ = 0;
    std::optional<std::string> error_;
};

namespace {

int open_input(const std::string& path) {
    if (path == "-") return STDIN_FILENO;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw_file_error(path, "open the input file");
    return fd;
}

}  // namespace

InputFile::InputFile(const std::string& path) : path_(path), stream_(nullptr) {
    const int fd = open_input(path);
    if (path != "-") {
        struct stat st {};
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) size_ = st.st_size;
    }
    try {
        buffer_ = std::make_unique<Buffer>(fd, path != "-", path == "-" ? "standard input" : path,
                                           path == "-" ? Compression::none : compression_for(path));
    } catch (...) {
        if (path != "-") ::close(fd);
        throw;
    }
    stream_.rdbuf(buffer_.get());
}

InputFile::~InputFile() = default;

std::int64_t InputFile::consumed() const { return buffer_->consumed(); }

void InputFile::check() const {
    if (buffer_->error()) throw FileError(*buffer_->error());
}

std::vector<std::string> expand_inputs(const std::vector<std::string>& patterns) {
    std::vector<std::string> files;
    for (const std::string& p : patterns) {
        if (p == "-" || p.find_first_of("*?[") == std::string::npos) {
            files.push_back(p);
            continue;
        }
        glob_t g{};
        const int rc = ::glob(p.c_str(), GLOB_ERR, nullptr, &g);
        if (rc == GLOB_NOMATCH) {
            globfree(&g);
            throw FileError("--in " + p + ": no file matches");
        }
        if (rc != 0) {
            globfree(&g);
            throw FileError("--in " + p + ": cannot list the files it names");
        }
        for (std::size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
        globfree(&g);
    }
    return files;
}

}  // namespace acass_cli

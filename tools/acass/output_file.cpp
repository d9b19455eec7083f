#include "output_file.hpp"

#include "errors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#ifdef ACASS_HAVE_ZSTD
#include <zstd.h>
#endif

#include <cerrno>
#include <cstring>

namespace acass_cli {

namespace {

constexpr std::size_t kBufferSize = 1 << 16;

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Compression compression_for(const std::string& path) {
    if (ends_with(path, ".gz")) return Compression::gzip;
    if (ends_with(path, ".zst")) return Compression::zstd;
    return Compression::none;
}

const char* to_string(Compression compression) {
    switch (compression) {
        case Compression::none:
            return "none";
        case Compression::gzip:
            return "gzip";
        case Compression::zstd:
            return "zstd";
    }
    return "?";
}

void throw_write_error(const std::string& name) {
    throw FileError("cannot write " + name + ": " + std::strerror(errno));
}

/// Compresses what write() gets into `out`; finish() ends the member/frame.
class OutputFile::Codec {
public:
    virtual ~Codec() = default;
    virtual void compress(std::string_view in, std::string& out) = 0;
    virtual void finish(std::string& out) = 0;
};

namespace {

class GzipCodec : public OutputFile::Codec {
public:
    explicit GzipCodec(const std::string& name) : name_(name) {
        // windowBits 15 + 16: a gzip header and trailer around the deflate data.
        if (deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            throw FileError(name + ": cannot start gzip compression");
    }
    ~GzipCodec() override { deflateEnd(&z_); }
    void compress(std::string_view in, std::string& out) override {
        run(in, out, Z_NO_FLUSH);
        started_ = true;
    }
    void finish(std::string& out) override {
        if (!started_) return;  // no empty members
        run({}, out, Z_FINISH);
        deflateReset(&z_);
        started_ = false;
    }

private:
    void run(std::string_view in, std::string& out, int mode) {
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z_.avail_in = static_cast<uInt>(in.size());
        for (;;) {
            char chunk[kBufferSize];
            z_.next_out = reinterpret_cast<Bytef*>(chunk);
            z_.avail_out = sizeof chunk;
            const int rc = deflate(&z_, mode);
            if (rc == Z_STREAM_ERROR) throw FileError(name_ + ": gzip compression failed");
            out.append(chunk, sizeof chunk - z_.avail_out);
            if (mode == Z_FINISH ? rc == Z_STREAM_END : (z_.avail_in == 0 && z_.avail_out != 0)) break;
        }
    }
    std::string name_;
    z_stream z_{};
    bool started_ = false;
};

#ifdef ACASS_HAVE_ZSTD
class ZstdCodec : public OutputFile::Codec {
public:
    explicit ZstdCodec(const std::string& name) : name_(name), cctx_(ZSTD_createCCtx()) {
        if (!cctx_) throw FileError(name + ": cannot start zstd compression");
        ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
    }
    ~ZstdCodec() override { ZSTD_freeCCtx(cctx_); }
    void compress(std::string_view in, std::string& out) override {
        run(in, out, ZSTD_e_continue);
        started_ = true;
    }
    void finish(std::string& out) override {
        if (!started_) return;
        run({}, out, ZSTD_e_end);
        started_ = false;
    }

private:
    void run(std::string_view in, std::string& out, ZSTD_EndDirective mode) {
        ZSTD_inBuffer input{in.data(), in.size(), 0};
        for (;;) {
            char chunk[kBufferSize];
            ZSTD_outBuffer output{chunk, sizeof chunk, 0};
            const std::size_t left = ZSTD_compressStream2(cctx_, &output, &input, mode);
            if (ZSTD_isError(left)) throw FileError(name_ + ": zstd compression failed: " + ZSTD_getErrorName(left));
            out.append(chunk, output.pos);
            if (mode == ZSTD_e_end ? left == 0 : input.pos == input.size) break;
        }
    }
    std::string name_;
    ZSTD_CCtx* cctx_;
    bool started_ = false;
};
#endif

}  // namespace

OutputFile::OutputFile(const std::string& path, bool append) : path_(path) {
    if (path == "-") {
        fd_ = STDOUT_FILENO;
        name_ = "standard output";
    } else {
        name_ = path;
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
        if (fd_ < 0) throw_file_error(path, "open the output file");
        owned_ = true;
        if (append) {
            struct stat st {};
            if (::fstat(fd_, &st) == 0) bytes_ = st.st_size;
        }
        switch (compression_for(path)) {
            case Compression::none:
                break;
            case Compression::gzip:
                codec_ = std::make_unique<GzipCodec>(name_);
                break;
            case Compression::zstd:
#ifdef ACASS_HAVE_ZSTD
                codec_ = std::make_unique<ZstdCodec>(name_);
                break;
#else
                ::close(fd_);
                throw CliUsageError(path + ": this acass was built without zstd (install libzstd-dev and rebuild)");
#endif
        }
    }
    buffer_.reserve(kBufferSize);
}

OutputFile::~OutputFile() {
    if (owned_ && fd_ >= 0) ::close(fd_);
}

void OutputFile::write_raw(std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_write_error(name_);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
        bytes_ += n;
    }
}

void OutputFile::drain() {
    write_raw(buffer_);
    buffer_.clear();
}

void OutputFile::write(std::string_view data) {
    if (codec_)
        codec_->compress(data, buffer_);
    else if (buffer_.size() + data.size() <= kBufferSize)
        buffer_.append(data);
    else {
        drain();
        if (data.size() >= kBufferSize) {
            write_raw(data);  // large pages and values go straight through, without a copy
            return;
        }
        buffer_.append(data);
    }
    if (buffer_.size() >= kBufferSize) drain();
}

void OutputFile::flush() {
    if (codec_) codec_->finish(buffer_);
    drain();
}

void OutputFile::close() {
    flush();
    if (!owned_) return;
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw_write_error(name_);
}

void print_stdout(std::string_view text) {
    OutputFile out("-", false);
    out.write(text);
    out.close();
}

}  // namespace acass_cli

#include "resume_file.hpp"

#include "errors.hpp"
#include "fsync_directory.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace acass_cli {

std::string escape_resume_text(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else
            out += c;
    }
    return out;
}

std::string unescape_resume_text(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
            const char c = s[++i];
            out += c == 'n' ? '\n' : c == 'r' ? '\r' : c;
        } else {
            out += s[i];
        }
    }
    return out;
}

namespace {

// Opens `path` and takes the exclusive lock without waiting; -1 with errno EWOULDBLOCK when
// another process holds it. The holder replaces the file by renaming a locked new one over it and
// then closes the old one, so a lock taken on a file that is no longer `path` is retried.
int open_locked(const std::string& path, int flags) {
    for (;;) {
        const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0666);
        if (fd < 0) return -1;
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int saved = errno;
            ::close(fd);
            errno = saved;
            return -1;
        }
        struct stat locked {}, named {};
        if (::fstat(fd, &locked) == 0 && ::stat(path.c_str(), &named) == 0 && locked.st_dev == named.st_dev &&
            locked.st_ino == named.st_ino)
            return fd;
        ::close(fd);  // replaced meanwhile: lock the file that carries the name now
    }
}

}  // namespace

ResumeFile::ResumeFile(std::string path) : path_(std::move(path)) {
    fd_ = open_locked(path_, O_RDWR | O_CREAT);
    if (fd_ < 0) {
        if (errno == EWOULDBLOCK)
            throw CliUsageError("resume file " + path_ +
                                " is in use by another acass run (it holds the file's lock); wait for it to end "
                                "or give another --resume-file");
        throw_file_error(path_, "open the resume file");
    }
}

ResumeFile::~ResumeFile() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
}

std::string ResumeFile::read() const {
    std::string text;
    char buf[4096];
    for (off_t at = 0;;) {
        const ssize_t n = ::pread(fd_, buf, sizeof buf, at);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_file_error(path_, "read the resume file");
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        at += n;
    }
    return text;
}

void ResumeFile::replace(const std::string& text, bool durable) {
    const std::string temp = path_ + ".tmp";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) throw_file_error(temp, "write the resume file");
    // Locked before it becomes `path_`: a run that opens the new file finds it locked too.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        throw_file_error(temp, "lock the resume file");
    }
    std::string_view rest = text;
    while (!rest.empty()) {
        const ssize_t n = ::write(fd, rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int saved = errno;
            ::close(fd);
            errno = saved;
            throw_file_error(temp, "write the resume file");
        }
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (durable && ::fsync(fd) != 0) {
        const int saved = errno;
        ::close(fd);
        errno = saved;
        throw_file_error(temp, "fsync the resume file");
    }
    if (::rename(temp.c_str(), path_.c_str()) != 0) {
        const int saved = errno;
        ::close(fd);
        errno = saved;
        throw_file_error(path_, "replace the resume file");
    }
    ::close(fd_);
    fd_ = fd;
    if (durable) fsync_directory_of(path_);  // the rename itself
}

std::optional<ResumeState> load_resume_state(const ResumeFile& file) {
    const std::string& path = file.path();
    std::istringstream in(file.read());
    std::string first;
    if (!std::getline(in, first) || first.empty()) return std::nullopt;
    ResumeState state;
    try {
        state.point = async_cassandra::ResumePoint::from_string(first);
    } catch (const std::exception& e) {
        throw FileError("resume file " + path + " is not valid: " + e.what());
    }
    bool have_rows = false, have_bytes = false, have_format = false, have_query = false;
    std::string line;
    while (std::getline(in, line)) {
        const auto space = line.find(' ');
        const std::string key = line.substr(0, space);
        const std::string value = space == std::string::npos ? "" : line.substr(space + 1);
        try {
            if (key == "rows")
                state.rows = std::stoll(value), have_rows = true;
            else if (key == "pages")
                state.pages = std::stoll(value);
            else if (key == "bytes")
                state.bytes = std::stoll(value), have_bytes = true;
            else if (key == "format")
                state.format = value, have_format = true;
            else if (key == "writer")
                state.writer_state = value;
            else if (key == "query")
                state.query = unescape_resume_text(value), have_query = true;
        } catch (const std::exception&) {
            throw FileError("resume file " + path + " is not valid: bad line '" + line + "'");
        }
    }
    if (!have_rows || !have_bytes || !have_format || !have_query)
        throw FileError("resume file " + path + " is not valid: rows, bytes, format or query missing");
    return state;
}

void save_resume_state(ResumeFile& file, const ResumeState& state) {
    std::ostringstream text;
    text << state.point.to_string() << '\n'
         << "rows " << state.rows << '\n'
         << "pages " << state.pages << '\n'
         << "bytes " << state.bytes << '\n'
         << "format " << state.format << '\n'
         << "query " << escape_resume_text(state.query) << '\n';
    if (!state.writer_state.empty()) text << "writer " << state.writer_state << '\n';
    file.replace(text.str());
}

}  // namespace acass_cli

#include "resume_file.hpp"

#include "errors.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <cstdio>
#include <fstream>
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

std::optional<ResumeState> load_resume_state(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT) return std::nullopt;
        throw_file_error(path, "read the resume file");
    }
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

void save_resume_state(const std::string& path, const ResumeState& state) {
    std::ostringstream text;
    text << state.point.to_string() << '\n'
         << "rows " << state.rows << '\n'
         << "pages " << state.pages << '\n'
         << "bytes " << state.bytes << '\n'
         << "format " << state.format << '\n'
         << "query " << escape_resume_text(state.query) << '\n';
    if (!state.writer_state.empty()) text << "writer " << state.writer_state << '\n';
    write_file_atomically(path, text.str());
}

void write_file_atomically(const std::string& path, const std::string& body, bool durable) {
    const std::string temp = path + ".tmp";
    FILE* f = std::fopen(temp.c_str(), "wb");
    if (!f) throw_file_error(temp, "write the resume file");
    bool written = std::fwrite(body.data(), 1, body.size(), f) == body.size();
    if (durable) written = written && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
    if (std::fclose(f) != 0 || !written) throw_file_error(temp, "write the resume file");
    if (std::rename(temp.c_str(), path.c_str()) != 0) throw_file_error(path, "replace the resume file");
    if (durable) {  // the rename itself: fsync the directory
        const std::string dir = std::filesystem::path(path).parent_path().string();
        const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
        if (fd >= 0) {
            ::fsync(fd);
            ::close(fd);
        }
    }
}

}  // namespace acass_cli

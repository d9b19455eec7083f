#include "resume_file.hpp"

#include "errors.hpp"

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace acass_cli {

namespace {

std::string escape(const std::string& s) {
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

std::string unescape(const std::string& s) {
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

}  // namespace

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
                state.query = unescape(value), have_query = true;
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
         << "query " << escape(state.query) << '\n';
    if (!state.writer_state.empty()) text << "writer " << state.writer_state << '\n';
    const std::string body = text.str();
    const std::string temp = path + ".tmp";
    FILE* f = std::fopen(temp.c_str(), "wb");
    if (!f) throw_file_error(temp, "write the resume file");
    const bool written = std::fwrite(body.data(), 1, body.size(), f) == body.size();
    if (std::fclose(f) != 0 || !written) throw_file_error(temp, "write the resume file");
    if (std::rename(temp.c_str(), path.c_str()) != 0) throw_file_error(path, "replace the resume file");
}

}  // namespace acass_cli

#include "file_guard.hpp"

#include "errors.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <optional>

namespace acass_cli {

namespace {

struct Identity {
    std::optional<std::pair<dev_t, ino_t>> inode;  ///< when the file exists
    std::string canonical;                         ///< otherwise
};

Identity identify(const std::string& path) {
    Identity id;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        id.inode = std::make_pair(st.st_dev, st.st_ino);
        return id;
    }
    std::error_code ec;
    const auto canonical = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
    id.canonical = ec ? path : canonical.string();
    return id;
}

bool same(const Identity& a, const Identity& b) {
    if (a.inode && b.inode) return *a.inode == *b.inode;
    if (a.inode || b.inode) return false;  // one exists, the other does not
    return a.canonical == b.canonical;
}

}  // namespace

void refuse_same_files(const std::vector<FileRole>& roles) {
    std::vector<std::pair<const FileRole*, Identity>> seen;
    for (const FileRole& role : roles) {
        if (role.path.empty() || role.path == "-") continue;
        Identity id = identify(role.path);
        for (const auto& [other, other_id] : seen)
            if (same(id, other_id))
                throw CliUsageError(other->flag + " " + other->path + " and " + role.flag + " " + role.path +
                                    " are the same file; give each its own file");
        seen.emplace_back(&role, std::move(id));
    }
}

}  // namespace acass_cli

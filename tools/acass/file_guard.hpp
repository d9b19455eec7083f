// Guards against a command reading or writing one file under two roles: `--in f --reject-file f`
// would read its own rejects back, `--out x --resume-file x` would overwrite the export with its
// resume record. Files are compared by device and inode (hard links, symlinks, "./x" and "x" are
// the same file); a file that does not exist yet is compared by its canonical path.
#pragma once

#include <string>
#include <vector>

namespace acass_cli {

struct FileRole {
    std::string flag;  ///< e.g. "--in", "--reject-file"
    std::string path;  ///< empty or "-": not a file, not checked
};

/// Throws CliUsageError (exit 2) naming both flags when two roles name the same file.
void refuse_same_files(const std::vector<FileRole>& roles);

}  // namespace acass_cli

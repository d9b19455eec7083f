// fsync of the directory holding a file, after a rename in it (the rename itself durable).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace acass_cli {

/// fsyncs the directory of `path` (best effort: a directory that cannot be opened is skipped).
inline void fsync_directory_of(const std::string& path) {
    const std::string dir = std::filesystem::path(path).parent_path().string();
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

}  // namespace acass_cli

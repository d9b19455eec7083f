// Server warnings (WARNING flag: tombstones read, large batches, aggregation without a partition
// key) printed to stderr once per distinct text, never mixed into the data written to stdout or
// to the output file.
#pragma once

#include <async_cassandra/row.hpp>

#include <cstdio>
#include <set>
#include <string>

namespace acass_cli {

class ServerWarnings {
public:
    void report(const async_cassandra::Page& page) {
        for (const auto& warning : page.warnings())
            if (seen_.insert(warning).second) std::fprintf(stderr, "acass: server warning: %s\n", warning.c_str());
    }

private:
    std::set<std::string> seen_;
};

}  // namespace acass_cli

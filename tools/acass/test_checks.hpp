// The check counters and CHECK macro of the tool's standalone tests (avro_writer_test,
// export_render_test, parquet_writer_test). They are plain executables rather than GoogleTest
// ones: each links only the tool sources it tests, runs without a server, and prints its totals.
#pragma once

#include <cstdio>

namespace acass_test {
inline int g_checks = 0;
inline int g_failures = 0;
}  // namespace acass_test

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        ++::acass_test::g_checks;                                                         \
        if (!(cond)) {                                                                    \
            ++::acass_test::g_failures;                                                   \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                                 \
    } while (0)

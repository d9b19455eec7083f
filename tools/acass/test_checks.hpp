// The check counters and CHECK macro of the tool's standalone tests (avro_writer_test,
// export_render_test, parquet_writer_test). They are plain executables rather than GoogleTest
// ones: each links only the tool sources it tests, runs without a server, and prints its totals.
#pragma once

#include <cstddef>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

namespace acass_test {
inline int g_checks = 0;
inline int g_failures = 0;

/// A named test: a function of the scratch directory.
using NamedTest = std::pair<const char*, void (*)(const std::string&)>;

/// Runs every test with `dir` (an exception it throws is a failed check), prints a line per test
/// and the totals, and returns whether all passed.
template <std::size_t N>
bool run_tests(const NamedTest (&tests)[N], const std::string& dir) {
    int failed_tests = 0;
    for (const auto& [name, fn] : tests) {
        const int before = g_failures;
        try {
            fn(dir);
        } catch (const std::exception& e) {
            ++g_failures;
            std::fprintf(stderr, "%s threw: %s\n", name, e.what());
        }
        const bool ok = g_failures == before;
        failed_tests += ok ? 0 : 1;
        std::printf("[%s] %s\n", ok ? "  OK  " : "FAILED", name);
    }
    std::printf("%zu tests, %d checks, %d failed checks\n", N, g_checks, g_failures);
    return failed_tests == 0;
}
}  // namespace acass_test

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        ++::acass_test::g_checks;                                                         \
        if (!(cond)) {                                                                    \
            ++::acass_test::g_failures;                                                   \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                                 \
    } while (0)

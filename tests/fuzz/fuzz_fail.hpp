// The one failure report of the fuzz targets: an invariant did not hold. Prints the target's
// name (ACASS_FUZZ_TARGET, defined by both builds of every target: the libFuzzer one in
// tests/fuzz/CMakeLists.txt and the corpus replay in tests/CMakeLists.txt) and aborts, which
// libFuzzer records as a crash (keeping the input) and ctest as a failed replay.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#ifndef ACASS_FUZZ_TARGET
#error "ACASS_FUZZ_TARGET (the fuzz target's name) must be defined by the build"
#endif

namespace acass_fuzz {

[[noreturn]] inline void fail(const char* what) {
    std::fprintf(stderr, "%s: %s\n", ACASS_FUZZ_TARGET, what);
    std::abort();
}

[[noreturn]] inline void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "%s: %s: %s\n", ACASS_FUZZ_TARGET, what, detail.c_str());
    std::abort();
}

}  // namespace acass_fuzz

#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: the normal build, the unit tests under
# ASan+UBSan, and a short libFuzzer run of each fuzz target (clang).
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
install_packages

start=$(date +%s)
configure_and_build "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DASYNC_CASSANDRA_REQUIRE_COMPAT=ON
log "running the test suite"
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" --timeout 600)

log "sanitizer build (address,undefined): unit tests"
configure_and_build "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=Debug -DASYNC_CASSANDRA_SANITIZE=address,undefined \
  -DASYNC_CASSANDRA_BUILD_BENCH=OFF
(cd "$ROOT/build-asan" && ctest --output-on-failure -j "$JOBS" -L unit --timeout 600)

log "fuzzing (clang + libFuzzer), a few seconds per target"
FUZZ_SECONDS="${FUZZ_SECONDS:-10}" "$ROOT/scripts/fuzz.sh"

log "all tests passed in $(( $(date +%s) - start )) s"

#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. the normal build: unit, integration, compat (Python and Node.js drivers), examples, package,
#      the reliability fault matrix, and a 60-second soak (scripts/soak.sh --check);
#   2. ASan+UBSan build: unit and integration tests;
#   3. TSan build: the client's concurrent pieces (connection, sends from other threads, stream
#      ids, streaming) and the cluster layer (topology, control connection, failover with several
#      threads/io_contexts);
#   4. a short libFuzzer run of each fuzz target (clang).
# Set SKIP_SANITIZERS=1 or SKIP_FUZZ=1 to leave a stage out while iterating locally.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
install_packages

start=$(date +%s)
stage() { log "$1 (at $(( $(date +%s) - start )) s)"; }

stage "normal build"
configure_and_build "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DASYNC_CASSANDRA_REQUIRE_COMPAT=ON
stage "running the test suite"
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" --timeout 600)

stage "soak, 60 s: a 3-node acass-server with rotating faults; flat memory, no leaked ids or sockets"
"$ROOT/scripts/soak.sh" --seconds 60 --check --no-build --out "$BUILD_DIR/soak"

if [[ "${SKIP_SANITIZERS:-0}" != 1 ]]; then
  stage "ASan+UBSan build: unit and integration tests"
  # -O1 -g1: what the sanitizers recommend, and much faster to compile than -O2 -g on 2 cores.
  configure_and_build "$ROOT/build-asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
    -DASYNC_CASSANDRA_SANITIZE=address,undefined -DASYNC_CASSANDRA_BUILD_BENCH=OFF
  (cd "$ROOT/build-asan" && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j "$JOBS" -L "unit|integration|conformance" --timeout 900)

  stage "TSan build: client concurrency tests"
  tsan_targets=(test_client_connection test_client_cross_executor test_client_stream_ids test_client_stream_pager
                test_client_topology test_client_control_connection test_client_failover)
  cmake -S "$ROOT" -B "$ROOT/build-tsan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
    -DASYNC_CASSANDRA_SANITIZE=thread -DASYNC_CASSANDRA_BUILD_BENCH=OFF >/dev/null
  cmake --build "$ROOT/build-tsan" -j "$JOBS" --target "${tsan_targets[@]}"
  for t in "${tsan_targets[@]}"; do
    log "tsan: $t"
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" "$ROOT/build-tsan/tests/$t" --gtest_brief=1
  done
fi

if [[ "${SKIP_FUZZ:-0}" != 1 ]]; then
  stage "fuzzing (clang + libFuzzer), a few seconds per target"
  FUZZ_SECONDS="${FUZZ_SECONDS:-10}" "$ROOT/scripts/fuzz.sh"
fi

stage "all tests passed"

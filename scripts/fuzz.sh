#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for FUZZ_SECONDS seconds
# (default 60) starting from its seed corpus. New crash inputs land in build-fuzz/crashes/.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
install_packages
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
dir="$ROOT/build-fuzz"
CXX=clang++ configure_and_build "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DASYNC_CASSANDRA_FUZZ=ON
mkdir -p "$dir/crashes"
shopt -s nullglob
targets=("$dir"/bin/fuzz_*)
if ((${#targets[@]} == 0)); then echo "no fuzz targets built" >&2; exit 1; fi
for target in "${targets[@]}"; do
  name=$(basename "$target")
  work="$dir/corpus/$name"
  mkdir -p "$work"
  log "fuzzing $name for ${FUZZ_SECONDS}s"
  # A fixed seed keeps CI runs reproducible; set FUZZ_SEED=0 for a random one when hunting.
  "$target" -seed="${FUZZ_SEED:-1}" -max_total_time="$FUZZ_SECONDS" -max_len=65536 -print_final_stats=0 \
    -artifact_prefix="$dir/crashes/$name-" "$work" "$ROOT/tests/fuzz/corpus/$name" 2>"$dir/$name.log" \
    || { tail -50 "$dir/$name.log"; echo "fuzz target $name failed" >&2; exit 1; }
  grep -E "^#[0-9]+.*DONE" "$dir/$name.log" | tail -1 || true
done

# Shared by scripts/test.sh, scripts/demo.sh and scripts/bench.sh: install what is missing,
# configure and build. Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
JOBS="${JOBS:-$(nproc)}"

# Debian 12 packages the build, the tests and the tools need.
ACASS_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libasio-dev libssl-dev liblz4-dev libsnappy-dev zlib1g-dev libdeflate-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libfmt-dev
  clang libclang-rt-14-dev
  libavro-dev doxygen openssl zlib1g-dev libzstd-dev zstd gnuplot-nox time
  python3-cassandra python3-dev pybind11-dev python3-pytest python3-numpy
)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_packages() {
  local missing=()
  for pkg in "${ACASS_PACKAGES[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  # Node.js may come from Debian (nodejs + npm) or from a vendor package that bundles npm.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    # As root (CI, a fresh container) apt-get runs directly: a minimal Debian 12 has no sudo.
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
      if ! command -v sudo >/dev/null; then
        log "missing packages (${missing[*]}) and not root, without sudo: install them as root first"
        return 1
      fi
      sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# ccache lives next to the build trees so that CI on the same machine reuses it.
# Without $HOME (some CI runners, `env -i`) the cache goes beside the checkout instead.
if [[ -n "${HOME:-}" ]]; then acass_cache_home="$HOME/.cache"; else acass_cache_home="$ROOT/.cache"; fi
export CCACHE_DIR="${CCACHE_DIR:-$acass_cache_home/async-cassandra-ccache}"
[[ -n "${HOME:-}" ]] || export npm_config_cache="${npm_config_cache:-$acass_cache_home/npm}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
# Paths relative to the checkout, so that a fresh clone elsewhere (CI) still hits the cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

# configure_and_build DIR [cmake args...]
configure_and_build() {
  local dir="$1"; shift
  log "configuring $dir"
  cmake -S "$ROOT" -B "$dir" -G Ninja "$@" >/dev/null
  log "building $dir"
  cmake --build "$dir" -j "$JOBS"
}

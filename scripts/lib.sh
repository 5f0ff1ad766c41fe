# scripts/lib.sh - shared set-up for the wsrace scripts (sourced, not run).
#
# ensure_packages installs every Debian package wsrace needs that is
# missing (apt-get update first), ensure_test_packages those only the tests
# need (chromium), and ensure_build configures build/ with meson when needed
# and builds it. All three are idempotent and quiet when there is nothing
# to do.

WSRACE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WSRACE_BUILD=${WSRACE_BUILD:-$WSRACE_ROOT/build}

# What the build links (docs/DESIGN.md), plus the compiler, curl for the scripts and
# python3-websockets for the interoperability test, xmllint (libxml2-utils)
# to validate JUnit reports against their schema; hiredis and redis-server
# for cluster mode (a registry shared in Redis; each case starts its own
# server, so the distribution's service is not used).
WSRACE_PACKAGES=(
  gcc libc6-dev meson ninja-build pkg-config
  libwebsockets-dev libwebsockets-evlib-ev libev-dev
  libcriterion-dev libssl-dev libjansson-dev
  libfyaml-dev valgrind python3 python3-websockets curl ca-certificates
  libxml2-utils libxml2-dev libhiredis-dev redis-server
)

# Needed by the tests only: headless Chromium renders the HTML report and
# connects with a long token through a ticket; GNU time is the forking
# --wrapper a SIGKILLed harness must not leave a gateway under.
WSRACE_TEST_PACKAGES=(chromium time)

# Needed by scripts/fuzz only (and so by scripts/test, which runs a short
# fuzz of every target): clang with libFuzzer and the sanitizer runtimes.
# Debian 12's clang is 14; bc times the runs.
WSRACE_FUZZ_PACKAGES=(clang-14 libclang-rt-14-dev bc)
WSRACE_FUZZ_CC=${WSRACE_FUZZ_CC:-clang-14}

log() { printf '%s\n' "wsrace: $*" >&2; }
die() { log "error: $*"; exit 3; }

# install_missing PACKAGE...: apt-get install those that are not installed.
install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
      grep -q '^install ok installed$' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing missing Debian packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]}"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q >&2 || die "apt-get update failed"
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
    die "apt-get install failed for: ${missing[*]}"
}

ensure_packages() { install_missing "${WSRACE_PACKAGES[@]}"; }
ensure_test_packages() { install_missing "${WSRACE_TEST_PACKAGES[@]}"; }
ensure_fuzz_packages() { install_missing "${WSRACE_FUZZ_PACKAGES[@]}"; }

ensure_build() {
  if [ ! -f "$WSRACE_BUILD/build.ninja" ]; then
    log "configuring $WSRACE_BUILD"
    meson setup "$WSRACE_BUILD" "$WSRACE_ROOT" "$@" >&2 ||
      die "meson setup failed"
  fi
  ninja -C "$WSRACE_BUILD" >&2 || die "build failed"
}

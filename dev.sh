#!/usr/bin/env bash
# Set up a virtualenv in .venv and run a task: demo | test | docs | bench | setup
set -euo pipefail
cd "$(dirname "$0")"

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "secpolicy needs Python 3.11 or newer (apt-get install python3)" >&2
  return 1
}

setup() {
  # the run extra (python-prctl) builds against libcap's headers; without them the runtime uses ctypes alone
  local extras=dev stamp=.venv/.installed
  if [ -f /usr/include/sys/capability.h ]; then
    extras=dev,run
    stamp=.venv/.installed-run
  fi
  if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then
    return 0
  fi
  local py
  py=$(find_python)
  if ! "$py" -m venv .venv >/dev/null 2>&1; then
    # Debian ships venv/ensurepip separately
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      rm -rf .venv
      "$py" -m venv .venv
    else
      echo "cannot create a virtualenv: install python3-venv (apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
  .venv/bin/python -m pip install --quiet --upgrade pip
  if ! .venv/bin/python -m pip install --quiet -e ".[$extras]"; then
    [ "$extras" = dev,run ] || exit 1
    echo "dev.sh: python-prctl did not build (it needs a C compiler and Python's headers): the runtime uses ctypes alone" >&2
    .venv/bin/python -m pip install --quiet -e '.[dev]'
    stamp=.venv/.installed
  fi
  touch "$stamp"
}

# Debian packages the tests use (a real registry, skopeo for real layouts and archives, openssl to sign
# registry tokens; runc, crun and a static busybox for secpolicy run, libcap-dev to build python-prctl);
# installed when running as root with apt (CI), else those tests skip and say why
test_tools() {
  local missing=()
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  command -v crun >/dev/null 2>&1 || missing+=(crun)
  [ -f /usr/include/sys/capability.h ] || missing+=(libcap-dev)
  [ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || missing+=(busybox-static)
  [ ${#missing[@]} = 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
      echo "dev.sh: could not install ${missing[*]}: the tests that need them will be skipped" >&2
  fi
}

task=${1:-}
case "$task" in
  setup)
    setup
    ;;
  demo)
    setup
    echo "== secpolicy lint examples"
    .venv/bin/secpolicy lint examples --fail-on never
    echo
    echo "== secpolicy resolve examples"
    .venv/bin/secpolicy resolve examples
    ;;
  test)
    test_tools
    setup
    .venv/bin/ruff check secpolicy tests bench
    .venv/bin/ruff format --check secpolicy tests bench
    .venv/bin/mypy
    .venv/bin/mypy tests --strict --allow-untyped-defs --allow-incomplete-defs --allow-untyped-calls
    .venv/bin/python -m secpolicy.docs --check
    # pytest exits 5 when it collects no test: that is a failure here; coverage has a floor
    .venv/bin/python -m pytest tests --cov=secpolicy --cov-report=term:skip-covered --cov-fail-under=90 "${@:2}"
    ;;
  docs)
    setup
    .venv/bin/python -m secpolicy.docs
    ;;
  bench)
    test_tools
    setup
    .venv/bin/python bench/run.py "${@:2}"
    ;;
  *)
    echo "usage: bash dev.sh demo|test|docs|bench|setup" >&2
    exit 2
    ;;
esac

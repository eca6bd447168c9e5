#!/usr/bin/env bash
# Install the system packages czarr builds against (and redis-server, the server its store
# tests run against), only when something is missing.
# Idempotent: prints nothing and installs nothing on a machine that has them all.
set -euo pipefail
need=()
for pair in blosc.h:libblosc-dev zstd.h:libzstd-dev lz4.h:liblz4-dev zlib.h:zlib1g-dev; do
  header=${pair%%:*}; pkg=${pair##*:}
  [ -e "/usr/include/$header" ] || [ -e "/usr/local/include/$header" ] \
    || [ -n "${CZARR_LIB_PREFIX:-}" -a -e "${CZARR_LIB_PREFIX:-}/include/$header" ] || need+=("$pkg")
done
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v cc >/dev/null || need+=(build-essential)
command -v redis-server >/dev/null || need+=(redis-server)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
python3 - <<'PY' 2>/dev/null || need+=(python3-dev)
import os, sysconfig, sys
sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else 1)
PY
[ ${#need[@]} -eq 0 ] && exit 0
echo "czarr: installing system packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${need[@]}"

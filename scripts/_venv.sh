# Sourced by scripts/demo and scripts/test: make sure ./.venv exists and has layerwise installed.
# Usage: ensure_venv [EXTRAS]    (e.g. ensure_venv test)
ensure_venv() {
  local extras=${1:-}
  local root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  VENV="$root/.venv"
  local py=${PYTHON:-python3}
  command -v "$py" >/dev/null || { echo "error: $py not found (layerwise needs Python >= 3.10)" >&2; return 1; }
  if [[ ! -x $VENV/bin/python ]]; then
    if ! "$py" -m venv "$VENV" 2>/dev/null; then
      # Debian ships venv separately; install it when we can.
      rm -rf "$VENV"
      if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        local ver
        ver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        echo "installing python${ver}-venv with apt-get ..." >&2
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python${ver}-venv" >/dev/null ||
          { echo "error: could not install python${ver}-venv" >&2; return 1; }
        "$py" -m venv "$VENV" || return 1
      else
        echo "error: '$py -m venv' failed; install the venv module (Debian: sudo apt-get install python3-venv)" >&2
        return 1
      fi
    fi
  fi
  local spec="$root"
  [[ -n $extras ]] && spec="$root[$extras]"
  # Reinstall only when pyproject.toml changed since the last install
  local stamp="$VENV/.layerwise-installed-$extras"
  # (or setup.py or the C accelerator's source: the extension is rebuilt then)
  if [[ ! -f $stamp || $root/pyproject.toml -nt $stamp || $root/setup.py -nt $stamp ||
        $root/src/layerwise/context/_fastscan.c -nt $stamp ]]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$spec" || return 1
    touch "$stamp"
  fi
}

#!/usr/bin/env bash
# Install the private Docker engine that layerwise's engine tests start themselves.
#
#   sudo bash scripts/install-engine.sh          # idempotent; seconds when already done
#   bash scripts/install-engine.sh --check       # only report what is installed
#   bash scripts/install-engine.sh --force       # redo every step
#   LAYERWISE_ENGINE_DIR=/opt/lw-fallback bash scripts/install-engine.sh --fallback
#                                                # install only the Debian 12 (20.10) engine
#
# What it puts where (see DEVELOPERS.md):
#   /opt/layerwise-engine/root/...     unpacked Debian 13 docker.io + containerd + docker-buildx
#                                      (fallback: Debian 12 docker.io 20.10 if the modern one fails)
#   /opt/layerwise-engine/engine.env   what was installed (read by layerwise.engine.find_engine)
#   /var/cache/layerwise-engine/*.tar  rootfs tarballs for `docker import` (busybox, python)
# Host packages installed from Debian 12: runc busybox-static debootstrap docker-registry
# (a registry on 127.0.0.1 for the inline-cache tests).
# Nothing is started and no host docker/containerd configuration is touched.
set -euo pipefail

ENGINE_DIR=${LAYERWISE_ENGINE_DIR:-/opt/layerwise-engine}
CACHE_DIR=${LAYERWISE_ENGINE_CACHE:-/var/cache/layerwise-engine}
MIRROR=${LAYERWISE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
FORCE=0
CHECK=0
FALLBACK_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --check) CHECK=1 ;;
    --fallback) FALLBACK_ONLY=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "install-engine: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { printf 'install-engine: %s\n' "$*" >&2; }
die() { printf 'install-engine: ERROR: %s\n' "$*" >&2; exit 1; }

STAMP="$ENGINE_DIR/engine.env"
if [[ $CHECK == 1 ]]; then
  if [[ -f $STAMP ]]; then cat "$STAMP"; ls -l "$CACHE_DIR"/*.tar 2>/dev/null || true; exit 0; fi
  log "not installed ($STAMP missing)"; exit 1
fi

[[ $(id -u) == 0 ]] || die "must run as root (it installs Debian packages and writes $ENGINE_DIR)"
command -v apt-get >/dev/null && command -v dpkg >/dev/null || die "needs a Debian system (apt-get, dpkg)"
ARCH=$(dpkg --print-architecture)
T0=$SECONDS

# ---------------------------------------------------------------- host packages
need_host=()
for p in runc busybox-static debootstrap docker-registry; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed' || need_host+=("$p")
done
if ((${#need_host[@]})); then
  log "installing host packages from Debian 12: ${need_host[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${need_host[@]}" >/dev/null || die "apt-get install ${need_host[*]} failed"
else
  log "host packages present: runc busybox-static debootstrap docker-registry"
fi
command -v runc >/dev/null || die "runc not on PATH after install"

# ---------------------------------------------------------------- engine binaries
# A private apt state so the host's sources, lists and cache are untouched.
fetch_debs() { # suite outdir pkgs...
  local suite=$1 out=$2; shift 2
  local st="$CACHE_DIR/apt-$suite"
  mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$st/parts" "$out"
  echo "deb $MIRROR $suite main" >"$st/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$st/sources.list" -o "Dir::Etc::SourceParts=$st/parts"
              -o "Dir::State::Lists=$st/lists" -o "Dir::Cache=$st/cache"
              -o "APT::Architecture=$ARCH" -o "Acquire::Languages=none" -o "APT::Sandbox::User=root")
  log "apt-get update ($suite, private state in $st)"
  apt-get "${opts[@]}" update -qq --error-on=any || return 1
  log "apt-get download ($suite): $*"
  (cd "$out" && rm -f ./*.deb && apt-get "${opts[@]}" download "$@") || return 1
}

engine_ok() { # root -> 0 if dockerd/containerd/docker run
  local r=$1
  "$r/usr/sbin/dockerd" --version >/dev/null 2>&1 || "$r/usr/bin/dockerd" --version >/dev/null 2>&1 || { log "dockerd does not run from $r"; return 1; }
  "$r/usr/bin/containerd" --version >/dev/null 2>&1 || { log "containerd does not run from $r"; return 1; }
  "$r/usr/bin/docker" --version >/dev/null 2>&1 || { log "no working docker client in $r"; return 1; }
}

install_flavor() { # flavor suite pkgs...
  local flavor=$1 suite=$2; shift 2
  local debs="$CACHE_DIR/debs-$suite" root="$ENGINE_DIR/root.new"
  fetch_debs "$suite" "$debs" "$@" || { log "could not download $* from $suite"; return 1; }
  rm -rf "$root"; mkdir -p "$root"
  local d
  for d in "$debs"/*.deb; do dpkg -x "$d" "$root" || return 1; done
  # Debian 13's runc needs glibc 2.38; use the host's (Debian 12) runc instead.
  rm -f "$root/usr/sbin/runc" "$root/usr/bin/runc"
  if ! engine_ok "$root"; then log "unpacked $suite engine does not run here"; return 1; fi
  rm -rf "$ENGINE_DIR/root"; mv "$root" "$ENGINE_DIR/root"
  local dockerd="$ENGINE_DIR/root/usr/sbin/dockerd"; [[ -x $dockerd ]] || dockerd="$ENGINE_DIR/root/usr/bin/dockerd"
  local buildx=""; [[ -x $ENGINE_DIR/root/usr/libexec/docker/cli-plugins/docker-buildx ]] && buildx="$ENGINE_DIR/root/usr/libexec/docker/cli-plugins/docker-buildx"
  local ver; ver=$("$dockerd" --version | sed -n 's/^Docker version \([^ ,]*\).*/\1/p')
  {
    echo "# written by scripts/install-engine.sh $(date -u +%FT%TZ)"
    echo "LAYERWISE_ENGINE_FLAVOR=$flavor"
    echo "LAYERWISE_ENGINE_SUITE=$suite"
    echo "LAYERWISE_ENGINE_VERSION=$ver"
    echo "LAYERWISE_ENGINE_ROOT=$ENGINE_DIR/root"
    echo "LAYERWISE_ENGINE_DOCKERD=$dockerd"
    echo "LAYERWISE_ENGINE_DOCKER=$ENGINE_DIR/root/usr/bin/docker"
    echo "LAYERWISE_ENGINE_BUILDX=$buildx"
    echo "LAYERWISE_ENGINE_RUNC=$(command -v runc)"
    echo "LAYERWISE_ENGINE_CACHE=$CACHE_DIR"
  } >"$STAMP.new"
  log "engine $flavor: dockerd $ver unpacked in $ENGINE_DIR/root"
}

mkdir -p "$ENGINE_DIR" "$CACHE_DIR"
if [[ $FORCE == 0 && -f $STAMP ]] && engine_ok "$ENGINE_DIR/root"; then
  log "engine already installed: $(grep -E '^LAYERWISE_ENGINE_(FLAVOR|VERSION)=' "$STAMP" | tr '\n' ' ')"
else
  rm -f "$STAMP"
  if [[ $FALLBACK_ONLY == 0 ]] && install_flavor modern trixie docker.io docker-cli containerd docker-buildx; then :
  else
    [[ $FALLBACK_ONLY == 1 ]] || log "modern engine failed; falling back to Debian 12 docker.io (20.10, BuildKit v0.8: no heredocs, no COPY --link)"
    install_flavor fallback bookworm docker.io containerd || die "no engine could be installed"
  fi
  mv "$STAMP.new" "$STAMP"
fi

# ---------------------------------------------------------------- base image rootfs tarballs
BUSYBOX_TAR="$CACHE_DIR/busybox.tar"
if [[ $FORCE == 0 && -s $BUSYBOX_TAR ]]; then
  log "busybox rootfs cached: $BUSYBOX_TAR"
else
  log "making busybox rootfs"
  bb=$(command -v busybox) || die "busybox not found"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/bin" "$tmp/etc" "$tmp/tmp" "$tmp/root" "$tmp/proc" "$tmp/sys" "$tmp/dev"
  chmod 1777 "$tmp/tmp"
  cp "$bb" "$tmp/bin/busybox"
  for a in $("$tmp/bin/busybox" --list); do [[ $a == busybox ]] || ln -sf busybox "$tmp/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$tmp/etc/passwd"
  echo 'root:x:0:' >"$tmp/etc/group"
  tar --numeric-owner --sort=name --mtime=@0 -C "$tmp" -cf "$BUSYBOX_TAR.new" .
  mv "$BUSYBOX_TAR.new" "$BUSYBOX_TAR"
  rm -rf "$tmp"; trap - EXIT
fi

PY_TAR="$CACHE_DIR/python-bookworm.tar"
if [[ $FORCE == 0 && -s $PY_TAR ]]; then
  log "python rootfs cached: $PY_TAR"
else
  log "making python rootfs with debootstrap (about a minute)"
  rootfs="$CACHE_DIR/python-rootfs"
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates \
    bookworm "$rootfs" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1 \
    || { tail -n 30 "$CACHE_DIR/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE_DIR/debootstrap.log)"; }
  # Package downloads pass a proxy whose CA only the host's bundle has.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
  ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python"
  ln -sf /usr/bin/pip3 "$rootfs/usr/local/bin/pip"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
  tar --numeric-owner --sort=name -C "$rootfs" -cf "$PY_TAR.new" .
  mv "$PY_TAR.new" "$PY_TAR"
  rm -rf "$rootfs"
fi

log "done in $((SECONDS - T0))s: $(grep -E '^LAYERWISE_ENGINE_(FLAVOR|VERSION)=' "$STAMP" | tr '\n' ' ')"

#!/usr/bin/env bash
# Installs the Debian packages the kit needs, by group:
#   deps.sh [GROUP...]   demo (the default: build box and run it — the README's
#                        first command), test (make test's peers and fixtures),
#                        docs, fuzz, bench; all: every group.
# Each make target asks for its group, so the first command installs only what
# the demo needs and `make test` the rest. Idempotent: asks apt-get only for
# what is missing. Run as root.
set -euo pipefail

declare -A group
group[demo]="
  build-essential cmake pkg-config python3 ccache
  lld
  libcli11-dev nlohmann-json3-dev catch2
  libarchive-dev libcurl4-openssl-dev libssl-dev libyaml-cpp-dev
  libcap-dev libseccomp-dev
  busybox-static
  iproute2 iputils-ping util-linux procps iptables
  libmnl-dev libnftables-dev nftables"
# build (ccache: rebuilds of the same file are free; lld links box 4x faster than
# ld.bfd), lib/ (flags, JSON; Catch2, which CMake asks for), stages 3-8 (tar, HTTP,
# sha256, YAML), stage 5 (capabilities, seccomp), the base root filesystem, the
# "try it" commands and box doctor, stage 7 (netlink, the kernel's NAT).
group[test]="
  bzip2 xz-utils
  docker-registry skopeo umoci apache2-utils
  podman"
# stage 6's tests (ADD of bzip2 and xz tars), stage 3's (a registry, interop
# peers, htpasswd; podman for save/load interop).
group[docs]="doxygen"
group[fuzz]="clang"                 # libFuzzer with ASan and UBSan
group[bench]="hyperfine crun runc"  # and the engines it compares with

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(demo)
[ "${wanted[*]}" = all ] && wanted=(demo test docs fuzz bench)
packages=()
for g in "${wanted[@]}"; do
  [ -n "${group[$g]+set}" ] || { echo "deps: no group '$g' (demo, test, docs, fuzz, bench, all)" >&2; exit 2; }
  read -r -d '' -a list <<<"${group[$g]}" || true   # words across lines
  packages+=("${list[@]}")
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps (${wanted[*]}): all ${#packages[@]} packages are installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing ${missing[*]}; run as root (sudo)" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only if they are missing or a day old.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  apt-get update -q
fi
apt-get install -y -q --no-install-recommends "${missing[@]}"

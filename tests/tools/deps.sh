#!/usr/bin/env bash
# Installs the Debian packages the kit needs (build, tests, docs, benchmark).
# Idempotent: asks apt-get only for what is missing. Run as root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config python3 ccache   # build (ccache: rebuilds of the same file are free), exercises, grader
  lld                                                # links box 4x faster than ld.bfd (the graders link once per region)
  libcli11-dev nlohmann-json3-dev catch2             # lib/: flags, JSON; tests
  libarchive-dev libcurl4-openssl-dev libssl-dev libyaml-cpp-dev   # stages 3-8: tar, HTTP, sha256, YAML
  libcap-dev libseccomp-dev                          # stage 5: capabilities, seccomp filters
  busybox-static                                     # the base root filesystem
  iproute2 iputils-ping util-linux procps iptables   # tests, "try it" commands, box doctor
  doxygen                                            # make docs
  clang                                              # make fuzz: libFuzzer with ASan and UBSan
  bzip2 xz-utils                                     # stage 6's tests: ADD of bzip2 and xz tars
  libmnl-dev libnftables-dev nftables                # stage 7: netlink requests, the kernel's NAT
  hyperfine crun runc                                # make bench (and the engines it compares with)
  docker-registry skopeo umoci apache2-utils         # stage 3's tests: a registry, interop peers, htpasswd
  podman                                             # stage 3's tests: save/load interop
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages are installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing ${missing[*]}; run as root: sudo make deps" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only if they are missing or a day old.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
  apt-get update -q
fi
apt-get install -y -q --no-install-recommends "${missing[@]}"

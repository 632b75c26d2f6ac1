#!/usr/bin/env bash
# The root filesystem of the tutorial's Compose app (Flask + redis), made offline
# from Debian's packages, since the tests may not pull python:3.7-alpine or
# redis:alpine from Docker Hub: Debian 12 (bookworm) with python3-flask,
# python3-redis and redis-server, from the mirror the machine's apt uses.
#
#   make-python-image.sh [--debootstrap] [--force]   make it (root; needs the mirror)
#   make-python-image.sh --offline                   only say whether it is made
#
# Prints one line on stdout: the path of a tar of the root filesystem, which
# `box import FILE NAME` takes. Everything else goes to stderr.
#
# The result is cached in build/tutorial-image/ ($BOX_TUTORIAL_IMAGE): rootfs/,
# rootfs.tar and info.txt. It is made in a temporary directory beside it and
# renamed into place last, so the directory is there only when it is complete;
# a rerun reuses it at once (--force makes it again).
#
# Two ways to make it, asking for the same packages (Priority: required, as
# debootstrap's minbase does, and the three above, without recommends):
#   default        apt-get downloads the dependency closure in parallel, with a
#                  private state (an empty dpkg status) so the host's installed
#                  packages do not count; dpkg-deb extracts each package on a
#                  merged-/usr skeleton; passwd/group from base-passwd, ldconfig
#                  and python's byte-compilation are the only maintainer steps
#                  the app needs and are done by hand. 22-27 s here, cold.
#   --debootstrap  debootstrap --variant=minbase --include=...: every maintainer
#                  script runs (installs debootstrap with apt-get if missing).
#                  170 s here, cold; 7 min when the machine is busy.
# Both then drop what no container reads (docs, man pages, locales, apt's caches).
#
# Exit status: 0 made or reused; 2 it cannot be made here (not root, the mirror
# unreachable, a tool missing: the reason is written to build/tutorial-image.failed
# too); 3 (--offline) not made yet. Other: a failure of the steps themselves.
set -euo pipefail

kit=$(cd -P "$(dirname "$0")/../.." && pwd)  # -P: the kit itself, also from a linked tree
cache=${BOX_TUTORIAL_IMAGE:-$kit/build/tutorial-image}
suite=bookworm
packages=(python3-flask python3-redis redis-server)
method=apt offline=0 force=0
for arg in "$@"; do
  case $arg in
    --debootstrap) method=debootstrap ;;
    --offline) offline=1 ;;
    --force) force=1 ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "make-python-image: unknown argument $arg (see --help)" >&2; exit 1 ;;
  esac
done

say() { echo "make-python-image: $*" >&2; }
# cannot REASON: this machine cannot make the image; the tests skip with REASON.
cannot() {
  { mkdir -p "$(dirname "$cache")" && echo "$*" > "$cache.failed"; } 2>/dev/null || true
  say "cannot make the image: $*"
  exit 2
}

if [ -f "$cache/rootfs.tar" ] && [ "$force" = 0 ]; then
  echo "$cache/rootfs.tar"
  exit 0
fi
if [ "$offline" = 1 ]; then
  if [ -f "$cache.failed" ]; then say "not made: $(cat "$cache.failed")"; else
    say "not made yet: run tests/tools/make-python-image.sh as root (it needs the Debian mirror)"; fi
  exit 3
fi
[ "$(id -u)" -eq 0 ] || cannot "not root (the packages' files must be owned by root)"

# The machine's Debian mirror: the first deb source (one-line or deb822 format)
# that serves the suite itself, not -updates or -security; $BOX_DEBIAN_MIRROR wins.
find_mirror() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v s="$suite" '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      if ($(i + 1) == s) { print $i; exit } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v s="$suite" 'BEGIN { RS = ""; FS = "\n" }
      { uri = ""; ok = 0; deb = 1; on = 1
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { split($i, w, " "); uri = w[2] }
          if ($i ~ /^Suites:/) { n = split($i, w, " "); for (j = 2; j <= n; j++) if (w[j] == s) ok = 1 }
          if ($i ~ /^Types:/ && $i !~ /[ \t]deb([ \t]|$)/) deb = 0
          if ($i ~ /^Enabled: *no/) on = 0 }
        if (uri != "" && ok && deb && on) { print uri; exit } }' "$f"
  done
}
mirror=${BOX_DEBIAN_MIRROR:-$(find_mirror | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}

# One lock for makers (CI's background run and a hand-run one); the loser reuses.
mkdir -p "$(dirname "$cache")"
exec 9>"$cache.lock"
flock 9
if [ -f "$cache/rootfs.tar" ] && [ "$force" = 0 ]; then echo "$cache/rootfs.tar"; exit 0; fi
rm -rf "$cache".tmp.* "$cache".old.*   # what a killed run left
# Reachable? One small file (through apt, so apt's proxy settings count), 20 s at most.
probe=$(mktemp)
trap 'rm -f "$probe"' EXIT
timeout 20 /usr/lib/apt/apt-helper -q download-file "$mirror/dists/$suite/Release" "$probe" >/dev/null 2>&1 \
  || cannot "the Debian mirror $mirror is unreachable"

tmp=$(mktemp -d "$cache.tmp.XXXXXX")
trap 'rm -f "$probe"; rm -rf "$tmp"' EXIT
root=$tmp/rootfs
start=$(date +%s)
say "making $cache from $mirror ($suite, $method)"

make_with_apt() {
  local apt=$tmp/apt
  mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/state" "$root"
  : > "$apt/state/status"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" > "$apt/sources.list"
  # A private apt: its own sources, lists, archives and an empty dpkg status
  # (so apt resolves the whole closure, and takes no lock of the host's).
  local o=(-q -o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
           -o Dir::State="$apt/state" -o Dir::State::Lists="$apt/lists" -o Dir::State::status="$apt/state/status"
           -o Dir::Cache="$apt" -o Dir::Cache::Archives="$apt/archives" -o Dir::Cache::pkgcache=
           -o Dir::Cache::srcpkgcache= -o Acquire::Languages=none -o APT::Install-Recommends=false
           -o APT::Install-Suggests=false -o APT::Sandbox::User=root -o Debug::NoLocking=true)
  apt-get "${o[@]}" update >&2 || cannot "apt-get update from $mirror failed"
  say "lists updated ($(($(date +%s) - start)) s)"
  local required
  mapfile -t required < <(apt-cache "${o[@]}" dumpavail |
    awk '/^Package:/ { p = $2 } /^Priority: required$/ { print p }' | sort -u)
  [ ${#required[@]} -gt 10 ] || { say "no Priority: required packages in $mirror's lists"; exit 1; }
  # usr-is-merged: init-system-helpers needs "usrmerge | usr-is-merged"; apt would
  # take usrmerge (the converter, with all of perl), debootstrap takes this one.
  apt-get "${o[@]}" install -y --download-only "${required[@]}" usr-is-merged "${packages[@]}" >&2
  say "downloaded $(find "$apt/archives" -name '*.deb' | wc -l) packages ($(($(date +%s) - start)) s)"
  # bookworm's layout is merged-/usr: /bin, /sbin, /lib* are links into /usr,
  # which tar keeps (--keep-directory-symlink) when a package ships /bin/...
  local d
  for d in bin sbin lib lib64; do mkdir -p "$root/usr/$d"; ln -s "usr/$d" "$root/$d"; done
  # shellcheck disable=SC2016  # $1, $2: the inner shell's
  find "$apt/archives" -name '*.deb' -print0 | xargs -0 -P "$(nproc)" -I{} \
    sh -c 'dpkg-deb --fsys-tarfile "$1" | tar -C "$2" --keep-directory-symlink -xf -' sh {} "$root"
  say "extracted ($(($(date +%s) - start)) s)"
  # The maintainer steps the app needs: users and groups (base-passwd's
  # postinst), the loader's cache (libc-bin's trigger), python's .pyc files
  # (python3's postinst; without them each start compiles Flask again).
  cp "$root/usr/share/base-passwd/passwd.master" "$root/etc/passwd"
  cp "$root/usr/share/base-passwd/group.master" "$root/etc/group"
  ldconfig -r "$root"
  chroot "$root" /usr/bin/python3 -m compileall -q /usr/lib/python3/dist-packages "/usr/lib/python3.11" >/dev/null || true
  rm -rf "$apt"
}

make_with_debootstrap() {
  if ! command -v debootstrap >/dev/null; then
    say "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2 \
      || cannot "debootstrap is missing and apt-get could not install it"
  fi
  local list
  list=$(IFS=,; echo "${packages[*]}")
  debootstrap --variant=minbase --include="$list" "$suite" "$root" "$mirror" >&2
}

"make_with_$method"

# What no container reads: documentation (its copyright files stay), manuals,
# translations, apt's caches, debootstrap's device nodes (box gives /dev).
find "${root:?}/usr/share/doc" -type f ! -name copyright -delete 2>/dev/null || true
rm -rf "${root:?}"/usr/share/{man,info,locale}/* "${root:?}"/var/cache/apt/*.bin "${root:?}"/var/cache/apt/archives/*.deb \
  "${root:?}"/var/lib/apt/lists/* "${root:?}"/var/log/* "${root:?}"/dev/*
for p in python3 flask redis-server; do
  chroot "$root" /bin/sh -c "command -v $p" >/dev/null || { say "the rootfs has no $p"; exit 1; }
done
tar -C "$root" --numeric-owner -cf "$tmp/rootfs.tar" .
{
  echo "method: $method"
  echo "mirror: $mirror $suite"
  echo "made: $(date -u +%FT%TZ) in $(($(date +%s) - start)) s"
  echo "packages: ${packages[*]} (+ Priority: required)"
} > "$tmp/info.txt"

# Into place: the old one (with --force) moves aside first, then goes.
if [ -e "$cache" ]; then mv -T "$cache" "$(mktemp -u "$cache.old.XXXXXX")"; fi
mv -T "$tmp" "$cache"
rm -rf "$cache".old.* "$cache.failed"
trap 'rm -f "$probe"' EXIT
say "made in $(($(date +%s) - start)) s: $(du -sh "$cache/rootfs.tar" | cut -f1) tar"
echo "$cache/rootfs.tar"

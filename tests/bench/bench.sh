#!/usr/bin/env bash
# bench.sh BOX ROOTFS — start-to-exit time of `/bin/true` in a fresh container:
# box against the reference engines crun and runc (/work/shared/TESTING.md,
# "Reference engines"), all on the same rootfs in the same run, timed by hyperfine
# without a shell (-N). Target: box median <= 0.5 x crun median.
# Exits non-zero only when box itself fails; a missing or broken peer is reported.
set -euo pipefail
export LC_ALL=C   # decimal points for printf

BOX=$(realpath "${1:?usage: bench.sh BOX ROOTFS}")
ROOTFS=$(realpath "${2:?usage: bench.sh BOX ROOTFS}")
RUNS=${BENCH_RUNS:-50}
TMP=$(mktemp -d /tmp/box-bench.XXXXXX)      # every state dir and the OCI bundle live here
ID=box-bench-$$                             # container ids: unique to this script run
HUGETLB0=$(awk '$1 == "hugetlb" { print $2 }' /proc/cgroups)   # hugetlb's hierarchy now
export TMP RUNS ID

# rm_cgroups DIR: remove cgroups our containers left under DIR (only if a run was cut short)
rm_cgroups() { find "$1" -mindepth 1 -type d -name "$ID-*" -exec rmdir {} + 2>/dev/null || true; }

# hugetlb_restore: if hugetlb was left bound to a v1 hierarchy of ours (see crun_hybrid),
# mount that hierarchy once more and unmount it; with no child cgroups left the kernel
# then destroys it and hugetlb goes back where it was. Removed cgroups die
# asynchronously, hence the retries.
hugetlb_restore() {
  local i
  for ((i = 0; i < 50; i++)); do
    [[ $(awk '$1 == "hugetlb" { print $2 }' /proc/cgroups) == "$HUGETLB0" ]] && return 0
    unshare -m --propagation private bash -c "$(declare -f rm_cgroups)
      mount -t cgroup -o hugetlb bench-hugetlb $TMP && { rm_cgroups $TMP; umount $TMP; }" 2>/dev/null || true
    sleep 0.1
  done
  echo "warning: hugetlb is still bound to a cgroup v1 hierarchy (see /proc/cgroups)" >&2
}
# crun copies itself to /tmp/crun.XXXXXX and unlinks it at once; a crun killed right
# there leaves the file. Only after an interrupted run: remove the ones that are new.
CRUN_TMP0=$(ls -d /tmp/crun.?????? 2>/dev/null || true)
cleanup() {
  local rc=$?
  rm_cgroups /sys/fs/cgroup; hugetlb_restore; rm -rf "$TMP"
  ((rc == 0)) || comm -13 <(echo "$CRUN_TMP0") <(ls -d /tmp/crun.?????? 2>/dev/null) | xargs -r rm -f
}
trap cleanup EXIT
trap 'exit 130' INT; trap 'exit 143' TERM   # so that cleanup sees the interruption in $?

ensure() {  # ensure CMD PKG: install PKG from Debian if CMD is missing; true if CMD is there
  command -v "$1" >/dev/null && return 0
  echo "installing $2 ..." >&2
  apt-get install -y -qq "$2" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$2" >/dev/null 2>&1; } || true
  command -v "$1" >/dev/null
}

measure() {  # measure NAME CMD...: hyperfine without a shell -> $TMP/NAME.json, stderr NAME.err
  local name=$1; shift
  hyperfine -N --warmup 3 --runs "$RUNS" --style none --export-json "$TMP/$name.json" \
    -- "$(printf '%q ' "$@")" >/dev/null 2>"$TMP/$name.err"
}

# oci_bench ENGINE: one probe run (its stderr is the reason shown if it fails), then
# hyperfine. `run` without -d deletes its container on exit, so one id serves every run;
# a failed run would show up as "container exists" and stop hyperfine.
oci_bench() {
  local e=$1 st=$TMP/$1-state rc=0
  local cmd=("$e" --root "$st" run --bundle "$TMP/bundle" "$ID-$e")
  "${cmd[@]}" </dev/null >/dev/null 2>"$TMP/$e.err" && measure "$e" "${cmd[@]}" || rc=$?
  "$e" --root "$st" delete -f "$ID-$e" &>/dev/null || true   # normally already gone
  return $rc
}

# crun_hybrid: crun 1.8 refuses this host's hybrid cgroup layout while the cgroup2 at
# /sys/fs/cgroup/unified holds hugetlb. Inside a private mount namespace, cover
# /sys/fs/cgroup with a fresh tmpfs holding the same hierarchies plus hugetlb mounted as
# v1, and run crun there. Nothing is added to the host's /sys/fs/cgroup tmpfs; the only
# global effect, hugetlb's binding to v1 while this runs, is undone by hugetlb_restore.
crun_hybrid() {
  local old=$TMP/cgroup-old c
  mkdir -p "$old" && mount --rbind /sys/fs/cgroup "$old" &&
    mount -t tmpfs -o mode=755 bench-cgroup /sys/fs/cgroup || return 1
  for c in "$old"/*; do   # from here on, /sys/fs/cgroup is our own tmpfs
    if [[ -L $c ]]; then cp -P "$c" /sys/fs/cgroup/
    else mkdir "/sys/fs/cgroup/${c##*/}" && mount --move "$c" "/sys/fs/cgroup/${c##*/}" || return 1; fi
  done
  mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb bench-hugetlb /sys/fs/cgroup/hugetlb || return 1
  local rc=0; oci_bench crun || rc=$?
  umount /sys/fs/cgroup/hugetlb   # a v1 hierarchy without children dies with its last mount
  return $rc
}

for t in hyperfine jq; do ensure $t $t || { echo "bench: $t is needed (apt-get install $t)" >&2; exit 1; }; done
printf 'bench: /bin/true start-to-exit, %s runs after 3 warmups, rootfs %s\n\n' "$RUNS" "$ROOTFS"

# box, with its own temporary state root: one probe run shows box's own error, if any
box_cmd=("$BOX" --root "$TMP/box-state" run --rootfs "$ROOTFS" /bin/true)
"${box_cmd[@]}" </dev/null >/dev/null 2>"$TMP/box.err" && measure box "${box_cmd[@]}" ||
  { echo "bench: box failed: ${box_cmd[*]}" >&2; cat "$TMP/box.err" >&2; exit 1; }

# the peers share one OCI bundle: `spec` defaults, /bin/true, the same rootfs
for e in crun runc; do ensure "$e" "$e" && spec=$e; done
if [[ -n ${spec:-} ]]; then
  mkdir "$TMP/bundle"; (cd "$TMP/bundle" && "$spec" spec)
  jq --arg r "$ROOTFS" '.root.path = $r | .process.args = ["/bin/true"] | .process.terminal = false' \
    "$TMP/bundle/config.json" >"$TMP/config.json" && mv "$TMP/config.json" "$TMP/bundle/config.json"
fi
for e in crun runc; do
  command -v "$e" >/dev/null || { echo "not installed" >"$TMP/$e.err"; continue; }
  oci_bench "$e" && continue
  if [[ $e == crun ]] && grep -q 'hybrid mode not supported' "$TMP/crun.err"; then
    unshare -m --propagation private bash -c "$(declare -f measure oci_bench crun_hybrid); crun_hybrid" || true
  fi
done

# table: milliseconds from hyperfine's JSON (seconds)
ms() { jq -r ".results[0].$2 * 1000" "$TMP/$1.json"; }
printf '%-6s %10s %10s %10s %10s %10s\n' engine median_ms mean_ms min_ms max_ms box/engine
box_med=$(ms box median)
for e in box crun runc; do
  if [[ -s $TMP/$e.json ]]; then
    printf '%-6s %10.2f %10.2f %10.2f %10.2f %10.2f\n' "$e" "$(ms "$e" median)" \
      "$(ms "$e" mean)" "$(ms "$e" min)" "$(ms "$e" max)" \
      "$(jq -n "$box_med / $(ms "$e" median)")"
  else
    printf '%-6s %s\n' "$e" "$(grep -v '^$' "$TMP/$e.err" | tail -n1 || echo failed)"
  fi
done
echo
if [[ -s $TMP/crun.json ]]; then
  crun_med=$(ms crun median)
  verdict=$(jq -rn "if $box_med <= 0.5 * $crun_med then \"PASS\" else \"MISS\" end")
  printf 'target: box median <= 0.5 x crun median (%.2f ms vs %.2f ms): %s\n' \
    "$box_med" "$(jq -n "0.5 * $crun_med")" "$verdict"
else
  echo "target: box median <= 0.5 x crun median: SKIP (crun not measured)"
fi

#!/usr/bin/env bash
# [BOX_STAGE1=STAGE1-BOX] bench.sh BOX ROOTFS — start-to-exit time of `/bin/true` in a
# fresh container: box against the reference engines crun and runc
# (/work/shared/TESTING.md, "Reference engines"), all on the same rootfs in the same
# run, timed by hyperfine without a shell (-N). Rows of the table:
#   box           BOX, plain
#   box+limits    BOX with -m 64m --pids-limit 100 (only if BOX is stage >= 2)
#   box-stage1    $BOX_STAGE1, plain (only if it is set, executable and not BOX itself)
#   box-version   `BOX --version` (and box-stage1-version, the stage-1 tool's): start-up
#                 without a container
#   box-image     `BOX run busybox /bin/true`: the image busybox, imported once from a
#                 tar of ROOTFS, run on an overlayfs of its layer (only if stage >= 3)
#   crun, runc    an OCI bundle with `runc spec` (or `crun spec`) defaults
#   crun+limits   the same with memory.limit 64 MiB and pids.limit 100; runc+limits too
#   crun-image    the plain bundle, its rootfs the layer box unpacked for box-image
#                 (only if stage >= 3)
# At stage >= 3 a second table: pull throughput of a ~107 MB image of 5 layers (the base
# and 4 of random data) from a local docker-registry, `BOX pull` against `skopeo copy`
# to a dir: (see pull_bench).
# At stage >= 4 (box has `ps`), box, box+limits and box-image pass --rm (a stage-4 `run`
# keeps its container otherwise; crun's `run` deletes its own), and rows of the first
# table also:
#   box-rm        `BOX run --rm busybox /bin/true`: a container recorded in the store,
#                 run, and removed (compared with crun-image, which also deletes its
#                 container: `crun run` without -d)
#   box-rm100     100 of those one after the other (one hyperfine run = 100 containers),
#                 against crun-100: 100 sequential `crun run` of the -image bundle
#   box-detach    `BOX run -d busybox sleep 60` then `BOX rm -f` of it: a detached
#                 container's whole cycle (start under a shim, SIGKILL, cleanup, removal)
# and a line with the resident memory (VmRSS) of one container's box-shim, and one with the
# CPU a container's health check every second costs (its monitor and probes, over 10 s).
# At stage >= 5 (box has --cap-add), box-rm is the hardened start (capabilities, a
# seccomp filter, masks, the devices cgroup), and the rows also:
#   box-stage4-rm `$BOX_STAGE4 run --rm busybox /bin/true`: the same start without chapter
#                 5 (only if BOX_STAGE4 is set and executable)
#   box-stage5-rm `$BOX_STAGE5 run --rm busybox /bin/true`: the stage-5 tool's (only if
#                 BOX_STAGE5 is set, executable and not BOX itself): against box-stage4-rm,
#                 what chapter 5 alone adds; box-rm against it, what the later stages add
#   podman-rm     `podman run --rm --network none busybox /bin/true` of the same image
#                 (saved by box, loaded into a private podman store; runc as its
#                 runtime: podman's crun refuses this host's hybrid cgroups), which also
#                 sets up caps, seccomp and masks
#   docker-rm     the same with docker, if a docker engine answers (not started here)
# At stage >= 6 (box has `build`), a build table: a Dockerfile of 10 instructions (ARG,
# FROM, ENV, WORKDIR, COPY, RUN, COPY, ENV, RUN, CMD; see build_bench) built on the image
# busybox, cached (every step from the cache) and cold (--no-cache: both RUNs run), by
#   box-build-cached, box-build-cold          `BOX build -q`
#   podman-build-cached, podman-build-cold    `podman build -q` (its store as podman-rm's)
#   classic-build-*, buildkit-build-*         `docker build -q`, DOCKER_BUILDKIT=0 and 1,
#                                             if a docker engine answers
# every one with --network none (RUN steps in a network namespace of their own).
# with targets box-build-cached <= 0.3 x classic-build-cached and box-build-cold <=
# 1.0 x buildkit-build-cold (podman's rows are shown for comparison).
# At stage >= 7 (box has `network`), every box row above passes --network none (the
# peers' rows have no network either), and a network table:
#   box-bridge      box-rm on the default bridge: veth pair, address, NAT table
#   box-publish     `BOX run -d -p 127.0.0.1:PORT:80` of busybox httpd, then GETs of
#                   127.0.0.1:PORT until the first answer (rm -f between runs, not timed)
#   podman-publish, docker-publish   the same with podman (podman-rm's store) and docker
# with targets box-bridge - box-rm <= 3 ms and box-publish <= 0.25 x podman-publish's
# and docker-publish's. `make bench` runs this script in a network namespace of its
# own (unshare -n): the bridges and rules of box and podman vanish with it; a docker
# engine outside it cannot be reached on 127.0.0.1 (docker-publish reports so).
# At stage >= 8 (box has `compose`), a compose table, COMPOSE_RUNS runs after 1 warmup:
#   box-compose-up     `BOX compose up --exit-code-from client` of a busybox app (an
#                      httpd, and a client that fetches its page by service name and
#                      exits) until the client is done (`down -t 0` between runs, not timed)
#   box-compose-noop   `BOX compose up -d` of a 10-service project already up (nothing to do)
#   docker-compose-up, docker-compose-noop   the same with docker-compose, if a docker
#                      engine answers
# with targets box-compose-up <= 0.15 x docker-compose-up and box-compose-noop <= 0.1 x
# docker-compose-noop (podman-compose is not a row: here it could not resolve a service name).
# Targets: box median <= 0.5 x crun median; box+limits median <= 0.5 x crun+limits
# median; box+limits at most 1 ms above box-stage1 (the cost of limits);
# box-image median <= 0.5 x crun-image median; pull throughput >= 1.0 x skopeo's;
# box-rm100 median <= 0.5 x crun-100 median; box-shim RSS <= 1 MiB; box-rm median at most
# 1 ms above box-stage4-rm (the cost of chapter 5: box-stage5-rm's where it is measured,
# else box-rm's); box-rm median <= 0.25 x podman-rm's
# and docker-rm's; box and box-version
# medians <= 1.15 x box-stage1's and box-stage1-version's (later stages must not slow
# every start).
# The three "at most N ms above" targets (limits, chapter 5, the bridge) compare two box
# rows measured again in BENCH_PAIRED_RUNS pairs (default 2 x BENCH_RUNS), the two runs of
# a pair one right after the other (pair_bench, paired.py): the median of the pairs'
# differences. Two rows' medians are measured minutes apart, and this machine's speed
# drifts by more than the milliseconds in question over that time.
# Exits non-zero only when box itself fails; a missing or broken peer is reported.
# The box rows run in cgroups of the script's own (see own_cgroups), so that box's
# cgroups never mix with those of a box someone else runs meanwhile.
# Leaves the host as found: state dirs, cgroups, hugetlb's binding (see crun_hybrid),
# the registry (stopped by its PID) and its storage, skopeo's blob-info cache (see
# skopeo_pull).
set -euo pipefail
export LC_ALL=C   # decimal points for printf

BOX=$(realpath "${1:?usage: bench.sh BOX ROOTFS}")
ROOTFS=$(realpath "${2:?usage: bench.sh BOX ROOTFS}")
RUNS=${BENCH_RUNS:-50}
PULL_RUNS=${BENCH_PULL_RUNS:-5}             # pulls of the ~107 MB image, per tool
PUBLISH_RUNS=${BENCH_PUBLISH_RUNS:-20}      # run -d -p to the first HTTP answer, per engine
PAIRED_RUNS=${BENCH_PAIRED_RUNS:-$((2 * RUNS))}  # pairs of runs for the targets "X adds <= N ms"
BUILD_RUNS=${BENCH_BUILD_RUNS:-10}          # builds of each kind, per tool
COMPOSE_RUNS=${BENCH_COMPOSE_RUNS:-10}      # compose up of each kind, per tool
LIMITS=(-m 64m --pids-limit 100)            # box's limits; bundle-limits has the same
TMP=$(mktemp -d /tmp/box-bench.XXXXXX)      # every state dir and the OCI bundles live here
ID=box-bench-$$                             # container ids: unique to this script run
HUGETLB0=$(awk '$1 == "hugetlb" { print $2 }' /proc/cgroups)   # hugetlb's hierarchy now
REG_PID=                                    # the pull bench's docker-registry, once started
export TMP RUNS PULL_RUNS ID

# rm_cgroups DIR: remove the cgroups named $ID-* under DIR, with everything below them:
# the peers' containers' (only if a run was cut short) and OWN_CG (see below).
rm_cgroups() {
  find "$1" -mindepth 1 -depth -type d \( -name "$ID-*" -o -path "*/$ID-*/*" \) \
    -exec rmdir {} + 2>/dev/null || true
}

# A stage-2 box makes each container's cgroup as PARENT/box/<64-hex id> in the v1
# hierarchies it uses, PARENT being the cgroup box itself runs in, and removes `box` once
# empty. Every box on the host shares that `box`, and boxes that create and remove it at
# the same time can fail each other's runs; others may well run box while we do. So the
# box rows run in cgroups of our own, $ID-box, one per hierarchy box uses (OWN_CG): their
# `box` is ours alone, and cleanup removes that whole subtree. The path is box's own
# choice: the hierarchy's first mount point plus our cgroup in /proc/self/cgroup.
own_cgroups() {
  local c mnt self
  for c in cpu cpuacct memory pids; do   # box's v1 controllers, --cpuset-cpus aside
    mnt=$(awk -v c="$c" '{ for (i = 7; $i != "-"; i++) ;
      if ($(i + 1) == "cgroup" && index("," $(i + 3) ",", "," c ",")) { print $5; exit } }' /proc/self/mountinfo)
    self=$(awk -F: -v c="$c" 'index("," $2 ",", "," c ",") { print $3; exit }' /proc/self/cgroup)
    [[ -n $mnt && -n $self ]] && echo "$mnt${self%/}/$ID-box"
  done | sort -u
}
# in_own_cgroups CMD...: run CMD in a subshell that first joins OWN_CG
in_own_cgroups() {
  (
    for d in "${OWN_CG[@]}"; do echo "$BASHPID" >"$d/cgroup.procs" || true; done
    "$@"
  )
}

# Where box's cgroups do not nest (cgroup v2: `box` sits at the root), a run cut short
# may leave a container's cgroup and `box` itself. box_cgroups lists those that exist;
# BOX_CG0 are the ones that were there before this run, which rm_box_cgroups leaves alone.
box_cgroups() {
  find /sys/fs/cgroup -type d -regextype posix-extended -regex '.*/box(/[0-9a-f]{64})?' \
    2>/dev/null | sort || true
}
BOX_CG0=$(box_cgroups)
# rm_box_cgroups: remove the box cgroups that appeared during this run and are still
# there, container cgroups before their `box` parent. Removed cgroups die
# asynchronously (EBUSY for a moment), hence the retries; one that still holds
# processes belongs to a box started meanwhile by someone else, and stays.
rm_box_cgroups() {
  local i new
  for ((i = 0; i < 20; i++)); do
    new=$(comm -13 <(echo "$BOX_CG0") <(box_cgroups))
    [[ -z $new ]] && return 0
    sort -r <<<"$new" | xargs -r -d '\n' rmdir 2>/dev/null || true
    sleep 0.1
  done
  echo "warning: box cgroups still there (a box running meanwhile?): ${new//$'\n'/ }" >&2
}

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
# skopeo (containers/image) run as root keeps a blob-info cache in SKOPEO_CACHE and would
# record the bench's throwaway image there. Where that directory exists, skopeo_pull
# hides it behind a tmpfs in a private mount namespace. Where it does not, skopeo makes
# it: SKOPEO_CACHE_NEW is then the topmost directory skopeo is about to make, and
# cleanup removes it.
SKOPEO_CACHE=/var/lib/containers/cache SKOPEO_CACHE_NEW=
cleanup() {
  local rc=$? i
  if [[ -n $REG_PID ]]; then   # the registry first: it has its storage in $TMP open
    kill "$REG_PID" 2>/dev/null || true; wait "$REG_PID" 2>/dev/null || true
  fi
  if [[ -n $SKOPEO_CACHE_NEW ]]; then rm -rf "$SKOPEO_CACHE_NEW"; fi
  for ((i = 0; i < 20; i++)); do   # retries: as in rm_box_cgroups
    rm_cgroups /sys/fs/cgroup
    [[ -z $(find /sys/fs/cgroup -name "$ID-*" -print -quit 2>/dev/null) ]] && break
    sleep 0.1
  done
  ((rc == 0)) || rm_box_cgroups   # after a normal run, box has removed its own
  # podman's store keeps its overlay directory bound onto itself
  if [[ -d $TMP/podman-root ]]; then umount -R "$TMP/podman-root/overlay" 2>/dev/null || true; fi
  hugetlb_restore; rm -rf "$TMP"
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

# box_bench NAME BIN RUN-ARGS...: `BIN run RUN-ARGS` with its own temporary state root
# $TMP/NAME-state. One probe run first: if it (or hyperfine) fails, show box's own error
# and stop.
box_bench() {
  local name=$1 bin=$2; shift 2
  # From stage 4 on, `run` keeps its container unless --rm; crun's `run` deletes its own,
  # so BOX's rows pass --rm to compare like with like (and to not pile up containers).
  local rm=(); [[ -n $lifecycle && $bin == "$BOX" ]] && rm=(--rm)
  # From stage 7 on the default is a bridge: the rows that compare with engines run
  # without a network (as podman-rm's --network none); box-bridge is the one with.
  local net=(); [[ -n $networks && $bin == "$BOX" && $name != box-bridge ]] && net=(--network none)
  local cmd=("$bin" --root "$TMP/$name-state" run "${rm[@]}" "${net[@]}" "$@")
  printf '%s\0' "${cmd[@]}" >"$TMP/$name.cmd"   # for pair_bench
  "${cmd[@]}" </dev/null >/dev/null 2>"$TMP/$name.err" && measure "$name" "${cmd[@]}" ||
    { echo "bench: $name failed: ${cmd[*]}" >&2; cat "$TMP/$name.err" >&2; exit 1; }
}

# pair_bench A B: the box rows A and B (measured already by box_bench) again, in
# PAIRED_RUNS pairs of one run each, one right after the other, alternating which goes
# first (paired.py) -> $TMP/A--B.json. The targets "B adds <= N ms to A" take the median
# of the pairs' differences: the two rows' medians were measured minutes apart, and this
# machine's speed drifts by more than the milliseconds they differ by.
pair_bench() {
  [[ -s $TMP/$1.cmd && -s $TMP/$2.cmd ]] || return 0
  local a b; mapfile -d '' a <"$TMP/$1.cmd"; mapfile -d '' b <"$TMP/$2.cmd"
  python3 "$(dirname "${BASH_SOURCE[0]}")/paired.py" --runs "$PAIRED_RUNS" --json "$TMP/$1--$2.json" \
    -- "${a[@]}" --vs "${b[@]}" 2>"$TMP/$1--$2.err" ||
    { echo "bench: pairs of $1 and $2 failed" >&2; cat "$TMP/$1--$2.err" >&2; exit 1; }
}

# engine NAME: the OCI engine of peer row NAME (crun-image -> crun, runc+limits -> runc)
engine() { local e=${1%+limits}; e=${e%-100}; echo "${e%-image}"; }
# oci_bench NAME: NAME is an engine (crun, runc), with bundle $TMP/bundle, or
# ENGINE+limits, with $TMP/bundle-limits, or ENGINE-image, with $TMP/bundle-image. One
# probe run (its stderr is the reason shown if it fails), then hyperfine. `run` without
# -d deletes its container on exit, so one id serves every run; a failed run would show
# up as "container exists" and stop hyperfine.
oci_bench() {
  local name=$1 e bundle=$TMP/bundle rc=0
  e=$(engine "$name")
  [[ $name == *+limits ]] && bundle=$TMP/bundle-limits
  [[ $name == *-image || $name == *-100 ]] && bundle=$TMP/bundle-image
  local st=$TMP/$e-state id=$ID-${name/+/-}   # ids: box-bench-PID-crun, ...-crun-limits
  local cmd=("$e" --root "$st" run --bundle "$bundle" "$id")
  if [[ $name == *-100 ]]; then
    "${cmd[@]}" </dev/null >/dev/null 2>"$TMP/$name.err" && crun_loop "$st" "$bundle" "$id" || rc=$?
  else
    "${cmd[@]}" </dev/null >/dev/null 2>"$TMP/$name.err" && measure "$name" "${cmd[@]}" || rc=$?
  fi
  "$e" --root "$st" delete -f "$id" &>/dev/null || true   # normally already gone
  return $rc
}

# crun_hybrid NAME...: crun 1.8 refuses this host's hybrid cgroup layout while the cgroup2
# at /sys/fs/cgroup/unified holds hugetlb. Inside a private mount namespace, cover
# /sys/fs/cgroup with a fresh tmpfs holding the same hierarchies plus hugetlb mounted as
# v1, and run oci_bench NAME (crun, crun+limits) there. Nothing is added to the host's
# /sys/fs/cgroup tmpfs; the only global effect, hugetlb's binding to v1 while this runs,
# is undone by hugetlb_restore.
crun_hybrid() {
  local old=$TMP/cgroup-old c name
  mkdir -p "$old" && mount --rbind /sys/fs/cgroup "$old" &&
    mount -t tmpfs -o mode=755 bench-cgroup /sys/fs/cgroup || return 1
  for c in "$old"/*; do   # from here on, /sys/fs/cgroup is our own tmpfs
    if [[ -L $c ]]; then cp -P "$c" /sys/fs/cgroup/
    else mkdir "/sys/fs/cgroup/${c##*/}" && mount --move "$c" "/sys/fs/cgroup/${c##*/}" || return 1; fi
  done
  mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb bench-hugetlb /sys/fs/cgroup/hugetlb || return 1
  local rc=0
  for name; do oci_bench "$name" || rc=$?; done
  umount /sys/fs/cgroup/hugetlb   # a v1 hierarchy without children dies with its last mount
  return $rc
}

# --- Pull throughput (stage >= 3) ---------------------------------------------------
# start_registry: Debian's docker-registry on 127.0.0.1, on a port the kernel picks
# (addr :0), storing in $TMP/registry. REG_PID: its PID, which cleanup stops; REG_ADDR:
# HOST:PORT as ss shows it once it listens. False if it does not within 5 s.
start_registry() {
  local i
  mkdir -p "$TMP/registry/data"
  cat >"$TMP/registry/config.yml" <<EOF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $TMP/registry/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:0}
EOF
  docker-registry serve "$TMP/registry/config.yml" </dev/null >/dev/null 2>"$TMP/registry/log" &
  REG_PID=$!
  for ((i = 0; i < 100; i++)); do
    REG_ADDR=$(ss -Hltnp | awk -v p="pid=$REG_PID," 'index($0, p) { print $4; exit }')
    [[ -n $REG_ADDR ]] && return 0
    kill -0 "$REG_PID" 2>/dev/null || break
    sleep 0.05
  done
  return 1
}

# big_image REF: put the image REF into the registry: a docker-archive made with tar, of
# 5 layers, the base tar and 4 of 25 MiB from /dev/urandom each (random, so no
# compression shrinks them), `box load`ed into a scratch state root and `box push`ed from
# there. box keeps and pushes such layers uncompressed, so PULL_BYTES, the sum of the
# layer tars' sizes, is what a pull downloads (plus a manifest and a config of ~1 KB).
big_image() {
  local a=$TMP/big-archive i layers=(base.tar)
  mkdir "$a" && cp "$TMP/base.tar" "$a/"
  for i in 1 2 3 4; do
    mkdir -p "$TMP/big-layer/data" && head -c 25M /dev/urandom >"$TMP/big-layer/data/random-$i"
    tar -C "$TMP/big-layer" -cf "$a/layer-$i.tar" . && rm -rf "$TMP/big-layer"
    layers+=("layer-$i.tar")
  done
  jq -n --arg arch "$(dpkg --print-architecture)" \
    '{architecture: $arch, os: "linux", config: {Cmd: ["sh"]}}' >"$a/config.json"
  jq -n --arg ref "$1" '[{Config: "config.json", RepoTags: [$ref], Layers: $ARGS.positional}]' \
    --args "${layers[@]}" >"$a/manifest.json"
  PULL_BYTES=$( (cd "$a" && stat -c %s "${layers[@]}") | awk '{ n += $1 } END { print n }')
  tar -C "$a" -cf "$TMP/big.tar" . && rm -rf "$a"
  "$BOX" --root "$TMP/push-state" load -q -i "$TMP/big.tar" >/dev/null 2>"$TMP/box-pull.err" &&
    "$BOX" --root "$TMP/push-state" push "$1" >/dev/null 2>"$TMP/box-pull.err" ||
    { echo "bench: box load or push of $1 failed" >&2; cat "$TMP/box-pull.err" >&2; exit 1; }
  rm -rf "$TMP/push-state" "$TMP/big.tar"   # the registry has it now
}

# measure_pull NAME DIR CMD...: hyperfine as measure does, PULL_RUNS runs after one
# warmup, DIR removed before each, so that every run starts from nothing.
measure_pull() {
  local name=$1 dir=$2; shift 2
  hyperfine -N --warmup 1 --runs "$PULL_RUNS" --prepare "$(printf '%q ' rm -rf "$dir")" \
    --style none --export-json "$TMP/$name.json" -- "$(printf '%q ' "$@")" >/dev/null 2>"$TMP/$name.err"
}
# skopeo_measure REF: one probe run of `skopeo copy` REF to a dir: (its stderr is the
# reason shown if it fails), then measure_pull skopeo-pull.
skopeo_measure() {
  local cmd=(skopeo copy -q --src-tls-verify=false "docker://$1" "dir:$TMP/skopeo-pull-dir")
  "${cmd[@]}" </dev/null >/dev/null 2>"$TMP/skopeo-pull.err" &&
    measure_pull skopeo-pull "$TMP/skopeo-pull-dir" "${cmd[@]}"
}
# skopeo_pull REF: skopeo_measure REF, with skopeo's blob-info cache out of the way (see
# SKOPEO_CACHE): a private mount namespace with a tmpfs over it, or, where it does not
# exist yet, note what skopeo will make, for cleanup to remove.
skopeo_pull() {
  local d
  if [[ -d $SKOPEO_CACHE ]]; then
    unshare -m --propagation private bash -c "$(declare -f measure_pull skopeo_measure)
      mount -t tmpfs -o mode=700 bench-skopeo-cache $SKOPEO_CACHE && skopeo_measure $(printf %q "$1")"
  else
    for d in /var/lib/containers "$SKOPEO_CACHE"; do [[ -e $d ]] || { SKOPEO_CACHE_NEW=$d; break; }; done
    skopeo_measure "$1"
  fi
}

# pull_bench: start the registry, put the image into it, then time `BOX pull` of it
# (fresh state root each run) and `skopeo copy` of it to a dir: (fresh dir each run).
# Not quite the same work: box pull also unpacks every layer into its store (writing
# the image twice: blobs and files), skopeo to a dir: only writes the blobs.
# PULL_WHY says why there is no pull table, if there is none.
pull_bench() {
  ensure docker-registry docker-registry || { PULL_WHY="docker-registry is not installed"; return; }
  start_registry ||
    { PULL_WHY="docker-registry did not start: $(tail -n1 "$TMP/registry/log")"; return; }
  PULL_REF=$REG_ADDR/bench/big:v1
  big_image "$PULL_REF"
  local cmd=("$BOX" --root "$TMP/box-pull-state" pull "$PULL_REF")
  "${cmd[@]}" </dev/null >/dev/null 2>"$TMP/box-pull.err" &&
    measure_pull box-pull "$TMP/box-pull-state" "${cmd[@]}" ||
    { echo "bench: box-pull failed: ${cmd[*]}" >&2; cat "$TMP/box-pull.err" >&2; exit 1; }
  rm -rf "$TMP/box-pull-state"
  if ensure skopeo skopeo; then skopeo_pull "$PULL_REF" || true
  else echo "not installed" >"$TMP/skopeo-pull.err"; fi
  rm -rf "$TMP/skopeo-pull-dir"
}

# image_rootfs: the image busybox's one layer as box unpacked it for box-image,
# STATE/layers/<hex of its diffID>; should a box keep it elsewhere, the same tar
# unpacked by tar.
image_rootfs() {
  local st=$TMP/box-image-state diff dir
  diff=$("$BOX" --root "$st" image inspect busybox 2>/dev/null | jq -r '.[0].RootFS.Layers[0] // empty') || true
  dir=$st/layers/${diff#sha256:}
  if [[ -n $diff && -d $dir ]]; then echo "$dir"; return; fi
  mkdir -p "$TMP/image-rootfs" && tar -C "$TMP/image-rootfs" -xf "$TMP/base.tar" && echo "$TMP/image-rootfs"
}

# measure_loop NAME RUNS CMD: hyperfine of a shell command line CMD (loops, pipes),
# RUNS runs after one warmup; the shell's own start is in the figure (~1 ms).
measure_loop() {
  local name=$1 runs=$2; shift 2
  hyperfine --shell=bash --warmup 1 --runs "$runs" --style none --export-json "$TMP/$name.json" \
    -- "$1" >/dev/null 2>"$TMP/$name.err"
}
# lifecycle_bench: the stage-4 rows (see the top), in box-image's state root, which
# holds the image busybox; then $TMP/shim-rss, the VmRSS (KiB) of one detached container's shim.
lifecycle_bench() {
  local st=$TMP/box-image-state b
  b="$(printf '%q --root %q' "$BOX" "$st")"
  measure_loop box-rm100 5 "for i in {1..100}; do $b run --rm $NONE busybox /bin/true || exit 1; done" ||
    { echo "bench: box-rm100 failed" >&2; cat "$TMP/box-rm100.err" >&2; return 1; }
  measure_loop box-detach "$RUNS" "id=\$($b run -d $NONE busybox sleep 60) && $b rm -f \$id >/dev/null" ||
    { echo "bench: box-detach failed" >&2; cat "$TMP/box-detach.err" >&2; return 1; }
  local id pid shim
  id=$("$BOX" --root "$st" run -d busybox sleep 60) || return 1
  pid=$("$BOX" --root "$st" inspect -f '{{.State.Pid}}' "$id")
  shim=$(awk '$1 == "PPid:" { print $2 }' "/proc/$pid/status")
  # (a file, not a variable: this runs in in_own_cgroups' subshell)
  [[ $(cat "/proc/$shim/comm") == box-shim ]] && awk '$1 == "VmRSS:" { print $2 }' "/proc/$shim/status" >"$TMP/shim-rss"
  "$BOX" --root "$st" rm -f "$id" >/dev/null
  health_bench "$st"
}
# health_bench STATE: $TMP/health-cpu, the CPU time (percent of one core) that a container
# with `--health-cmd true --health-interval 1s` costs its host over 10 s: its monitor's
# utime+stime and its reaped children's (each probe's fork and the probe itself).
health_bench() {
  local st=$1 id monitor t0 t1 hz p
  id=$("$BOX" --root "$st" run -d $NONE --health-cmd true --health-interval 1s busybox sleep 60) || return 1
  sleep 0.5
  for p in $(pgrep -f -- "__health $id"); do
    [[ $(cat "/proc/$(awk '$1 == "PPid:" { print $2 }' "/proc/$p/status")/comm") == box-shim ]] && monitor=$p
  done
  if [[ -n ${monitor:-} ]]; then
    hz=$(getconf CLK_TCK)
    t0=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$monitor/stat")
    sleep 10
    t1=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$monitor/stat")
    jq -n "($t1 - $t0) / $hz / 10 * 100" >"$TMP/health-cpu"
  fi
  "$BOX" --root "$st" rm -f "$id" >/dev/null
}
hard() { local v; v=$(ulimit -H"$1"); [[ $v == unlimited ]] && v=-1; echo "$v"; }   # hard n|u: a hard rlimit
# podman's nproc: 32768 (TESTING.md's value, which works here), or less if the hard limit is
# lower (at the hard limit itself runc's setrlimit was refused here)
nproc_limit() { local h; h=$(hard u); if [[ $h == -1 || $h -gt 32768 ]]; then echo 32768; else echo "$h"; fi; }
# peer_rm_bench NAME: podman-rm or docker-rm (see the top), on the image box-image runs.
peer_rm_bench() {
  local name=$1 p=()
  if [[ $name == podman-rm ]]; then
    command -v podman >/dev/null || { echo "not installed" >"$TMP/$name.err"; return 0; }
    # This sandbox cannot raise rlimits: podman's defaults must fit under ours.
    printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' \
      "$(hard n)" "$(hard n)" "$(nproc_limit)" "$(nproc_limit)" >"$TMP/podman.conf"
    export CONTAINERS_CONF=$TMP/podman.conf
    p=(podman --root "$TMP/podman-root" --runroot "$TMP/podman-run" --runtime runc)
  else
    command -v docker >/dev/null || { echo "not installed" >"$TMP/$name.err"; return 0; }
    docker info >/dev/null 2>&1 || { echo "no docker engine answers" >"$TMP/$name.err"; return 0; }
    p=(docker)
  fi
  [[ -s $TMP/busybox.tar ]] || "$BOX" --root "$TMP/box-image-state" save busybox >"$TMP/busybox.tar"
  "${p[@]}" load -i "$TMP/busybox.tar" >/dev/null 2>"$TMP/$name.err" || return 0
  local cmd=("${p[@]}" run --rm --network none busybox:latest /bin/true)
  "${cmd[@]}" </dev/null >/dev/null 2>"$TMP/$name.err" && measure "$name" "${cmd[@]}" || true
  [[ $name == docker-rm ]] && docker rmi busybox:latest >/dev/null 2>&1 || true
}
# publish_bench NAME: `run -d -p 127.0.0.1:PORT:80` of busybox httpd, then GETs until
# the first answer comes (at most 5 s): box-publish, podman-publish (podman-rm's store
# and config) or docker-publish (a docker engine that answers, with a bridge). Not timed:
# `rm -f` of the container after each run (hyperfine's --cleanup).
publish_bench() {
  local name=$1 p port
  case $name in
    box-publish) p="$(printf '%q --root %q' "$BOX" "$TMP/box-image-state")" port=18080 ;;
    podman-publish)
      [[ -n ${CONTAINERS_CONF:-} ]] || { echo "podman-rm was not measured" >"$TMP/$name.err"; return 0; }
      p="podman --root $TMP/podman-root --runroot $TMP/podman-run --runtime runc" port=18081 ;;
    docker-publish)
      command -v docker >/dev/null && docker info >/dev/null 2>&1 ||
        { echo "no docker engine answers" >"$TMP/$name.err"; return 0; }
      docker image inspect busybox:latest >/dev/null 2>&1 || docker load -i "$TMP/busybox.tar" >/dev/null 2>&1
      p=docker port=18082 ;;
  esac
  mkdir -p "$TMP/www" && echo published >"$TMP/www/index.html"
  local c="$name-$ID" get="env -u http_proxy -u HTTP_PROXY busybox wget -q -O /dev/null http://127.0.0.1:$port/"
  local start="$p run -d --name $c -p 127.0.0.1:$port:80 -v $TMP/www:/www busybox:latest httpd -f -p 80 -h /www >/dev/null"
  local cmd="$start && for i in {1..5000}; do $get 2>/dev/null && exit 0; done; exit 1"
  # one probe run: its failure is the reason shown
  if ! bash -c "$cmd" >/dev/null 2>"$TMP/$name.err"; then $p rm -f "$c" >/dev/null 2>&1; return 0; fi
  $p rm -f "$c" >/dev/null 2>&1
  hyperfine --shell=bash --warmup 1 --runs "$PUBLISH_RUNS" --style none --export-json "$TMP/$name.json" \
    --prepare "$p rm -f $c >/dev/null 2>&1 || true" -- "$cmd" >/dev/null 2>"$TMP/$name.err" || true
  $p rm -f "$c" >/dev/null 2>&1 || true
  [[ $name == docker-publish ]] && docker rmi busybox:latest >/dev/null 2>&1 || true
}
# compose_bench NAME: box-compose-{up,noop} or docker-compose-{up,noop} (see the top),
# on the image busybox that box-image imported (docker: loaded from its saved tar).
compose_bench() {
  local name=$1 c dir=$TMP/compose-${1%-*} project=bench$$
  case $name in
    box-*) c="$(printf '%q --root %q compose -p %s' "$BOX" "$TMP/box-image-state" "$project")" ;;
    docker-*)
      command -v docker-compose >/dev/null || { echo "not installed" >"$TMP/$name.err"; return 0; }
      command -v docker >/dev/null && docker info >/dev/null 2>&1 ||
        { echo "no docker engine answers" >"$TMP/$name.err"; return 0; }
      docker image inspect busybox:latest >/dev/null 2>&1 || docker load -i "$TMP/busybox.tar" >/dev/null 2>&1
      c="docker-compose -p $project" ;;
  esac
  mkdir -p "$dir"
  if [[ $name == *-up ]]; then
    cat >"$dir/docker-compose.yml" <<'YAML'
services:
  web:
    image: busybox:latest
    command: httpd -f -p 80 -h /etc
  client:
    image: busybox:latest
    depends_on: [web]
    command: sh -c 'for i in $$(seq 100); do wget -q -O /dev/null http://web/hostname && exit 0; usleep 20000; done; exit 1'
YAML
    local cmd="cd $dir && $c up --exit-code-from client -t 0 >/dev/null 2>&1"
    if ! bash -c "$cmd" 2>"$TMP/$name.err"; then
      echo "up --exit-code-from client failed" >>"$TMP/$name.err"; bash -c "cd $dir && $c down -t 0" >/dev/null 2>&1; return 0
    fi
    hyperfine --shell=bash --warmup 1 --runs "$COMPOSE_RUNS" --style none --export-json "$TMP/$name.json" \
      --prepare "cd $dir && $c down -t 0 >/dev/null 2>&1 || true" -- "$cmd" >/dev/null 2>"$TMP/$name.err" || true
  else
    { echo "services:"; for i in $(seq 10); do printf '  s%d:\n    image: busybox:latest\n    command: sleep 600\n' "$i"; done; } >"$dir/docker-compose.yml"
    bash -c "cd $dir && $c up -d" >/dev/null 2>"$TMP/$name.err" || { bash -c "cd $dir && $c down -t 0" >/dev/null 2>&1; return 0; }
    measure_loop "$name" "$COMPOSE_RUNS" "cd $dir && $c up -d >/dev/null 2>&1" || true
  fi
  bash -c "cd $dir && $c down -t 0" >/dev/null 2>&1 || true
}
# build_bench: the build table's rows (see the top), on the image busybox that box-image
# imported and the peers loaded; BUILD_RUNS runs of each after 1 warmup.
build_bench() {
  local ctx=$TMP/build-context st=$TMP/box-image-state
  mkdir -p "$ctx/data/sub"
  echo app >"$ctx/app.txt"; echo one >"$ctx/data/one"; echo two >"$ctx/data/sub/two"
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
ARG VERSION=1
FROM busybox
ENV APP=/app
WORKDIR /app
COPY app.txt ./
RUN echo "built $VERSION" > build.txt
COPY data/ ./data/
ENV MODE=production
RUN ls -R /app > listing.txt
CMD ["cat", "/app/build.txt"]
DOCKERFILE
  local b p=() name
  b="$(printf '%q --root %q build -q --network none' "$BOX" "$st")"   # no network, as the peers' builds
  measure_loop box-build-cached "$BUILD_RUNS" "$b $(printf %q "$ctx") >/dev/null" ||
    { echo "bench: box build failed" >&2; cat "$TMP/box-build-cached.err" >&2; return 1; }
  measure_loop box-build-cold "$BUILD_RUNS" "$b --no-cache $(printf %q "$ctx") >/dev/null" ||
    { echo "bench: box build --no-cache failed" >&2; cat "$TMP/box-build-cold.err" >&2; return 1; }
  if [[ -s $TMP/podman-rm.json && -n ${CONTAINERS_CONF:-} ]]; then
    p="$(printf '%q ' podman --root "$TMP/podman-root" --runroot "$TMP/podman-run" --runtime runc) build -q --network none"
    measure_loop podman-build-cached "$BUILD_RUNS" "$p $(printf %q "$ctx") >/dev/null" || true
    measure_loop podman-build-cold "$BUILD_RUNS" "$p --no-cache $(printf %q "$ctx") >/dev/null" || true
  else
    for name in podman-build-cached podman-build-cold; do echo "no podman-rm row: podman not set up" >"$TMP/$name.err"; done
  fi
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    docker load -i "$TMP/busybox.tar" >/dev/null 2>&1 || true
    local kit client found
    for kit in classic:0 buildkit:1; do
      # A newer docker client does BuildKit only with the buildx plugin; Debian's
      # docker.io client (/usr/bin/docker) has it built in. The first that builds.
      found=
      for client in docker /usr/bin/docker; do
        command -v "$client" >/dev/null || continue
        p="DOCKER_BUILDKIT=${kit#*:} $(printf %q "$client") build -q --network none"
        if eval "$p $(printf %q "$ctx")" >/dev/null 2>"$TMP/${kit%:*}-build-cached.err"; then found=1; break; fi
      done
      if [[ -z $found ]]; then cp "$TMP/${kit%:*}-build-cached.err" "$TMP/${kit%:*}-build-cold.err"; continue; fi
      measure_loop "${kit%:*}-build-cached" "$BUILD_RUNS" "$p $(printf %q "$ctx") >/dev/null" || true
      measure_loop "${kit%:*}-build-cold" "$BUILD_RUNS" "$p --no-cache $(printf %q "$ctx") >/dev/null" || true
    done
    docker image prune -f >/dev/null 2>&1 || true
  else
    for name in classic-build-cached classic-build-cold buildkit-build-cached buildkit-build-cold; do
      echo "no docker engine answers" >"$TMP/$name.err"
    done
  fi
}
# crun_loop: crun-100, 100 sequential `crun run` of the -image bundle, as oci_bench
# runs one (called from oci_bench for the row crun-100).
crun_loop() {
  local st=$1 bundle=$2 id=$3 c
  c="$(printf '%q --root %q run --bundle %q %q' crun "$st" "$bundle" "$id")"
  measure_loop crun-100 5 "for i in {1..100}; do $c >/dev/null || exit 1; done"
}

for t in hyperfine jq; do ensure $t $t || { echo "bench: $t is needed (apt-get install $t)" >&2; exit 1; }; done

# Which box rows: box+limits if BOX has the limit flags (stage >= 2); box-stage1 if
# BOX_STAGE1 is another executable. STAGE1_WHY says why there is no box-stage1 row.
box_help=$("$BOX" run --help 2>&1 || true)
[[ $box_help == *--pids-limit* ]] && limits=1 || limits=
# box-image, crun-image and the pull bench if BOX has images (stage >= 3).
[[ $("$BOX" --help 2>&1 || true) == *' pull '* ]] && images=1 || images=
# box-rm, box-rm100, box-detach, crun-100 and the shim's RSS if BOX keeps containers (stage >= 4).
[[ $("$BOX" --help 2>&1 || true) == *' ps '* ]] && lifecycle=1 || lifecycle=
# The build table if BOX has `build` (stage >= 6).
[[ $("$BOX" --help 2>&1 || true) == *' build '* ]] && builds=1 || builds=
# The network table if BOX has `network` (stage >= 7); the other box rows pass NONE.
[[ $("$BOX" --help 2>&1 || true) == *' network '* ]] && networks=1 || networks=
NONE=; [[ -n $networks ]] && NONE="--network none"
# box-stage4-rm, podman-rm and docker-rm if BOX has chapter 5's flags (stage >= 5).
[[ $box_help == *--cap-add* ]] && security=1 || security=
STAGE4=${BOX_STAGE4:-} STAGE4_WHY=
if [[ -z $STAGE4 ]]; then STAGE4_WHY="BOX_STAGE4 not set"
elif [[ ! -x $STAGE4 ]]; then STAGE4_WHY="BOX_STAGE4=$STAGE4 is not an executable"
else STAGE4=$(realpath "$STAGE4"); fi
[[ -n $security && -n $STAGE4_WHY ]] && echo "not measured: $STAGE4_WHY" >"$TMP/box-stage4-rm.err"
STAGE5=${BOX_STAGE5:-}
[[ -n $STAGE5 && -x $STAGE5 ]] && STAGE5=$(realpath "$STAGE5") || STAGE5=
[[ $STAGE5 == "$BOX" ]] && STAGE5=
STAGE1=${BOX_STAGE1:-} STAGE1_WHY=
if [[ -z $STAGE1 ]]; then STAGE1_WHY="BOX_STAGE1 not set"
elif [[ ! -f $STAGE1 || ! -x $STAGE1 ]]; then
  STAGE1_WHY="BOX_STAGE1=$STAGE1 is not an executable"; echo "not measured: $STAGE1_WHY" >"$TMP/box-stage1.err"
elif [[ $(realpath "$STAGE1") == "$BOX" ]]; then STAGE1_WHY="BOX is the stage-1 box"
else STAGE1=$(realpath "$STAGE1"); fi

printf 'bench: /bin/true start-to-exit, %s runs after 3 warmups, rootfs %s\n' "$RUNS" "$ROOTFS"
printf 'box: %s%s\n' "$BOX" "${limits:+ (stage >= 2: box+limits adds ${LIMITS[*]})}"
[[ -n $images ]] && echo "box-image: the image busybox, imported from a tar of the rootfs; crun-image: its unpacked layer"
[[ -z $STAGE1_WHY ]] && printf 'box-stage1: %s\n' "$STAGE1"
echo

# The box rows first, while hugetlb is where the host keeps it, in our own cgroups.
mapfile -t OWN_CG < <(own_cgroups)
if ((${#OWN_CG[@]})) && ! mkdir "${OWN_CG[@]}"; then
  echo "warning: box runs in the shared cgroups" >&2; OWN_CG=()
fi
in_own_cgroups box_bench box "$BOX" --rootfs "$ROOTFS" /bin/true || exit 1
if [[ -n $limits ]]; then
  in_own_cgroups box_bench box+limits "$BOX" "${LIMITS[@]}" --rootfs "$ROOTFS" /bin/true || exit 1
fi
if [[ -z $STAGE1_WHY ]]; then
  in_own_cgroups box_bench box-stage1 "$STAGE1" --rootfs "$ROOTFS" /bin/true || exit 1
  [[ -n $limits ]] && { in_own_cgroups pair_bench box-stage1 box+limits || exit 1; }
fi
# box-version: `BOX --version`, box's own start-up (loading, the command line) without a
# container; against the stage-1 tool's, it shows what later stages add to every command.
measure box-version "$BOX" --version || { echo "bench: box --version failed" >&2; exit 1; }
if [[ -z $STAGE1_WHY ]]; then measure box-stage1-version "$STAGE1" --version || true; fi
# box-image: the image busybox, imported once (not timed) from a tar of ROOTFS into
# box-image's state root; each run mounts an overlayfs of its one layer.
if [[ -n $images ]]; then
  tar -C "$ROOTFS" -cf "$TMP/base.tar" .
  "$BOX" --root "$TMP/box-image-state" import -c 'CMD ["sh"]' "$TMP/base.tar" busybox:latest \
    >/dev/null 2>"$TMP/box-image.err" ||
    { echo "bench: box import failed" >&2; cat "$TMP/box-image.err" >&2; exit 1; }
  in_own_cgroups box_bench box-image "$BOX" busybox /bin/true || exit 1
fi
if [[ -n $lifecycle ]]; then
  ln -s box-image-state "$TMP/box-rm-state"   # the store that holds the image busybox
  in_own_cgroups box_bench box-rm "$BOX" --rm busybox /bin/true || exit 1
  # box-bridge right after box-rm, before the peers' rows leave the kernel work of
  # their namespaces' teardown behind (it takes the lock a veth's creation needs).
  if [[ -n $networks ]]; then
    ln -s box-image-state "$TMP/box-bridge-state"
    in_own_cgroups box_bench box-bridge "$BOX" busybox /bin/true || exit 1
    in_own_cgroups pair_bench box-rm box-bridge || exit 1
  fi
  in_own_cgroups lifecycle_bench || exit 1
fi
if [[ -n $security ]]; then
  if [[ -z $STAGE4_WHY ]]; then
    ln -s box-image-state "$TMP/box-stage4-rm-state"
    in_own_cgroups box_bench box-stage4-rm "$STAGE4" --rm busybox /bin/true || exit 1
    in_own_cgroups pair_bench box-stage4-rm box-rm || exit 1
    if [[ -n $STAGE5 ]]; then
      ln -s box-image-state "$TMP/box-stage5-rm-state"
      in_own_cgroups box_bench box-stage5-rm "$STAGE5" --rm busybox /bin/true || exit 1
      in_own_cgroups pair_bench box-stage4-rm box-stage5-rm || exit 1
      in_own_cgroups pair_bench box-stage5-rm box-rm || exit 1
    fi
  fi
  peer_rm_bench podman-rm
  peer_rm_bench docker-rm
fi
if [[ -n $builds ]]; then in_own_cgroups build_bench || exit 1; fi
if [[ -n $networks ]]; then
  in_own_cgroups publish_bench box-publish || exit 1
  publish_bench podman-publish
  publish_bench docker-publish
fi
[[ $("$BOX" --help 2>&1 || true) == *' compose '* ]] && composes=1 || composes=
if [[ -n $composes ]]; then
  for r in box-compose-up box-compose-noop; do in_own_cgroups compose_bench "$r" || exit 1; done
  for r in docker-compose-up docker-compose-noop; do compose_bench "$r"; done
fi

# The peers share one OCI bundle: `spec` defaults, /bin/true, the same rootfs; the
# +limits peers a second one, the same with box's limits (64m = 67108864 bytes); the
# -image peer a third one, the first with the image's unpacked layer as its rootfs (see
# image_rootfs), read-only (as `spec` has it anyway), which keeps box's store intact.
for e in crun runc; do ensure "$e" "$e" && spec=$e; done
if [[ -n ${spec:-} ]]; then
  mkdir "$TMP/bundle" "$TMP/bundle-limits"; (cd "$TMP/bundle" && "$spec" spec)
  jq --arg r "$ROOTFS" '.root.path = $r | .process.args = ["/bin/true"] | .process.terminal = false' \
    "$TMP/bundle/config.json" >"$TMP/config.json" && mv "$TMP/config.json" "$TMP/bundle/config.json"
  jq '.linux.resources.memory.limit = 67108864 | .linux.resources.pids.limit = 100' \
    "$TMP/bundle/config.json" >"$TMP/bundle-limits/config.json"
  if [[ -n $images ]]; then
    mkdir "$TMP/bundle-image"
    jq --arg r "$(image_rootfs)" '.root.path = $r | .root.readonly = true' \
      "$TMP/bundle/config.json" >"$TMP/bundle-image/config.json"
  fi
fi
PEERS=(crun runc crun+limits runc+limits)
[[ -n $images ]] && PEERS+=(crun-image)
[[ -n $lifecycle ]] && PEERS+=(crun-100)
hybrid=()   # the crun rows that need crun_hybrid
for name in "${PEERS[@]}"; do
  command -v "$(engine "$name")" >/dev/null || { echo "not installed" >"$TMP/$name.err"; continue; }
  oci_bench "$name" && continue
  [[ $name == crun* ]] && grep -q 'hybrid mode not supported' "$TMP/$name.err" && hybrid+=("$name")
done
if ((${#hybrid[@]})); then   # one private namespace, one binding of hugetlb, for all of them
  unshare -m --propagation private bash -c \
    "$(declare -f measure measure_loop crun_loop engine oci_bench crun_hybrid); crun_hybrid ${hybrid[*]}" || true
fi

PULL_WHY="box is stage < 3" PULL_BYTES=0
if [[ -n $images ]]; then PULL_WHY=; pull_bench; fi

# Table: milliseconds from hyperfine's JSON (seconds). The ratio compares like with
# like: plain rows against plain box, +limits rows against box+limits, -image rows
# against box-image.
ms() { jq -r ".results[0].$2 * 1000" "$TMP/$1.json"; }
measured() { [[ -s $TMP/$1.json ]]; }
rows=(box)
[[ -n $limits ]] && rows+=(box+limits)
[[ -z $STAGE1_WHY || -s $TMP/box-stage1.err ]] && rows+=(box-stage1)
rows+=(box-version); [[ -z $STAGE1_WHY ]] && rows+=(box-stage1-version)
[[ -n $images ]] && rows+=(box-image)
[[ -n $lifecycle ]] && rows+=(box-rm box-rm100 box-detach)
[[ -n $security ]] && rows+=(box-stage4-rm)
[[ -n $security && -n $STAGE5 ]] && rows+=(box-stage5-rm)
rows+=("${PEERS[@]}")
[[ -n $security ]] && rows+=(podman-rm docker-rm)
printf '%-12s %10s %10s %10s %10s  %s\n' engine median_ms mean_ms min_ms max_ms \
  "box/engine (medians; +limits rows: box+limits/engine${images:+; -image rows: box-image/engine})"
for r in "${rows[@]}"; do
  if measured "$r"; then
    ref=box; [[ $r == *+limits ]] && ref=box+limits; [[ $r == *-image ]] && ref=box-image
    [[ $r == crun-100 ]] && ref=box-rm100; [[ $r == box-detach || $r == box-rm* || $r == *-version ]] && ref=$r
    [[ $r == podman-rm || $r == docker-rm || $r == box-stage[45]-rm ]] && ref=box-rm
    if measured "$ref"; then ratio=$(printf '%5.2f  %s/%s' "$(jq -n "$(ms "$ref" median) / $(ms "$r" median)")" "$ref" "$r")
    else ratio="    -  (no $ref: box is stage 1)"; fi
    printf '%-12s %10.2f %10.2f %10.2f %10.2f  %s\n' "$r" "$(ms "$r" median)" \
      "$(ms "$r" mean)" "$(ms "$r" min)" "$(ms "$r" max)" "$ratio"
  else
    printf '%-12s %s\n' "$r" "$(grep -v '^$' "$TMP/$r.err" | tail -n1 || echo failed)"
  fi
done
echo

# Pull table: milliseconds as above; MB/s = PULL_BYTES / median (MB = 10^6 bytes); the
# ratio is box's throughput over the row's.
mbps() { jq -n "$PULL_BYTES / $(ms "$1" median) / 1000"; }   # mbps NAME: MB/s at the median
if [[ -z $PULL_WHY ]]; then
  printf 'pull: %s, 5 layers, %.1f MB (10^6 bytes) of layer blobs, %s runs after 1 warmup, each from an empty store\n' \
    "$PULL_REF" "$(jq -n "$PULL_BYTES / 1e6")" "$PULL_RUNS"
  printf '%-12s %10s %10s %10s %10s %8s  %s\n' tool median_ms mean_ms min_ms max_ms MB/s 'box/tool (throughput)'
  for r in box-pull skopeo-pull; do
    if measured "$r"; then
      printf '%-12s %10.2f %10.2f %10.2f %10.2f %8.1f  %5.2f  box-pull/%s\n' "$r" "$(ms "$r" median)" \
        "$(ms "$r" mean)" "$(ms "$r" min)" "$(ms "$r" max)" "$(mbps "$r")" \
        "$(jq -n "$(ms "$r" median) / $(ms box-pull median)")" "$r"
    else
      printf '%-12s %s\n' "$r" "$(grep -v '^$' "$TMP/$r.err" | tail -n1 || echo failed)"
    fi
  done
  echo "box-pull: \`box pull\` also unpacks each layer into box's store (the image is written twice,"
  echo "blobs and files); skopeo-pull: \`skopeo copy\` to a dir: only writes the blobs."
  echo
fi

BUILD_ROWS=(box-build-cached box-build-cold podman-build-cached podman-build-cold classic-build-cached
  classic-build-cold buildkit-build-cached buildkit-build-cold)
if [[ -n $builds ]]; then
  printf 'build: a Dockerfile of 10 instructions (2 RUN, 2 COPY), %s runs after 1 warmup; cold = --no-cache\n' "$BUILD_RUNS"
  printf '%-21s %10s %10s %10s %10s  %s\n' tool median_ms mean_ms min_ms max_ms 'box/tool (medians, cached and cold apart)'
  for r in "${BUILD_ROWS[@]}"; do
    ref=box-build-cached; [[ $r == *-cold ]] && ref=box-build-cold
    if measured "$r"; then
      printf '%-21s %10.2f %10.2f %10.2f %10.2f  %5.2f  %s/%s\n' "$r" "$(ms "$r" median)" "$(ms "$r" mean)" \
        "$(ms "$r" min)" "$(ms "$r" max)" "$(jq -n "$(ms "$ref" median) / $(ms "$r" median)")" "$ref" "$r"
    else
      printf '%-21s %s\n' "$r" "$(grep -v '^$' "$TMP/$r.err" | tail -n1 || echo failed)"
    fi
  done
  echo
fi

if [[ -n $networks ]]; then
  printf 'network: box-bridge = box-rm on the default bridge (veth, address, NAT); publish = run -d -p then\n'
  printf 'GETs of 127.0.0.1 until the first answer, %s runs after 1 warmup (rm -f between runs, not timed)\n' "$PUBLISH_RUNS"
  printf '%-15s %10s %10s %10s %10s  %s\n' row median_ms mean_ms min_ms max_ms 'box/row (medians)'
  for r in box-rm box-bridge box-publish podman-publish docker-publish; do
    ref=box-publish; [[ $r == box-rm || $r == box-bridge ]] && ref=$r
    if measured "$r"; then
      printf '%-15s %10.2f %10.2f %10.2f %10.2f  %5.2f  %s/%s\n' "$r" "$(ms "$r" median)" "$(ms "$r" mean)" \
        "$(ms "$r" min)" "$(ms "$r" max)" "$(jq -n "$(ms "$ref" median) / $(ms "$r" median)")" "$ref" "$r"
    else
      printf '%-15s %s\n' "$r" "$(grep -v '^$' "$TMP/$r.err" | tail -n1 || echo failed)"
    fi
  done
  echo
fi

verdict() { jq -rn "if $1 then \"PASS\" else \"MISS\" end"; }   # verdict JQ-CONDITION
# added_target WHAT A B LIMIT: target line "B - A <= LIMIT ms", from the pairs of
# pair_bench where they were measured, else from the two rows' medians.
added_target() {
  local what=$1 a=$2 b=$3 limit=$4 d
  if [[ -s $TMP/$a--$b.json ]]; then
    d=$(jq -r '.difference.median * 1000' "$TMP/$a--$b.json")
    printf 'target: %s (%s - %s = %.2f ms: median of %s pairs; of the rows: %.2f ms): %s\n' "$what" "$b" "$a" \
      "$d" "$PAIRED_RUNS" "$(jq -n "$(ms "$b" median) - $(ms "$a" median)")" "$(verdict "$d <= $limit")"
  else
    d=$(jq -n "$(ms "$b" median) - $(ms "$a" median)")
    printf 'target: %s (%s - %s = %.2f ms, of the rows): %s\n' "$what" "$b" "$a" "$d" "$(verdict "$d <= $limit")"
  fi
}
# half_target A B [WHY]: target line "A median <= 0.5 x B median"; WHY: why A may be
# missing (default: box is stage 1)
half_target() {
  local what="$1 median <= 0.5 x $2 median"
  if ! measured "$1"; then echo "target: $what: SKIP ($1 not measured: ${3:-box is stage 1})"
  elif ! measured "$2"; then echo "target: $what: SKIP ($2 not measured)"
  else
    local a b; a=$(ms "$1" median) b=$(ms "$2" median)
    printf 'target: %s (%.2f ms vs %.2f ms): %s\n' "$what" "$a" "$(jq -n "0.5 * $b")" \
      "$(verdict "$a <= 0.5 * $b")"
  fi
}
half_target box crun
half_target box+limits crun+limits
what="limits add <= 1 ms to box's start"
if ! measured box+limits; then echo "target: $what: SKIP (no box+limits: box is stage 1)"
elif ! measured box-stage1; then echo "target: $what: SKIP (no box-stage1: $STAGE1_WHY)"
else added_target "$what" box-stage1 box+limits 1; fi
half_target box-image crun-image "box is stage < 3"
# stage1_target A B: "A median <= 1.15 x B median": what the later stages add to box's
# start-up (the command line must not grow with the stages).
stage1_target() {
  local what="$1 median <= 1.15 x $2 median"
  if ! measured "$1" || ! measured "$2"; then echo "target: $what: SKIP (${STAGE1_WHY:-not measured})"
  else
    local a b; a=$(ms "$1" median) b=$(ms "$2" median)
    printf 'target: %s (%.2f ms vs %.2f ms, %.2fx): %s\n' "$what" "$a" "$b" "$(jq -n "$a / $b")" \
      "$(verdict "$a <= 1.15 * $b")"
  fi
}
stage1_target box-version box-stage1-version
stage1_target box box-stage1
half_target box-rm100 crun-100 "box is stage < 4"
SHIM_RSS=$(cat "$TMP/shim-rss" 2>/dev/null || true)
what="box-shim RSS <= 1 MiB"
if [[ -z $lifecycle ]]; then echo "target: $what: SKIP (box is stage < 4)"
elif [[ -z ${SHIM_RSS:-} ]]; then echo "target: $what: SKIP (no shim found)"
else printf 'target: %s (%s KiB): %s\n' "$what" "$SHIM_RSS" "$(verdict "$SHIM_RSS <= 1024")"; fi
HEALTH_CPU=$(cat "$TMP/health-cpu" 2>/dev/null || true)
what="a health check every 1 s costs <= 1% of one core"
if [[ -z $lifecycle ]]; then echo "target: $what: SKIP (box is stage < 4)"
elif [[ -z ${HEALTH_CPU:-} ]]; then echo "target: $what: SKIP (no health monitor found)"
else printf 'target: %s (%.2f%%): %s\n' "$what" "$HEALTH_CPU" "$(verdict "$HEALTH_CPU <= 1")"; fi
what="chapter 5 adds <= 1 ms to box-rm's start"
if [[ -z $security ]]; then echo "target: $what: SKIP (box is stage < 5)"
elif ! measured box-stage4-rm; then echo "target: $what: SKIP (no box-stage4-rm: ${STAGE4_WHY:-not measured})"
elif measured box-stage5-rm; then
  added_target "$what" box-stage4-rm box-stage5-rm 1
  # Not a target: what the stages after 5 add to the same start (box-rm passes --network none).
  printf 'stages 6 and later add to box-rm: %.2f ms (box-rm - box-stage5-rm, median of %s pairs); chapters 5 and later: %.2f ms\n' \
    "$(jq -r '.difference.median * 1000' "$TMP/box-stage5-rm--box-rm.json")" "$PAIRED_RUNS" \
    "$(jq -r '.difference.median * 1000' "$TMP/box-stage4-rm--box-rm.json")"
else added_target "$what" box-stage4-rm box-rm 1; fi
for peer in podman-rm docker-rm; do
  what="box-rm median <= 0.25 x $peer median"
  if [[ -z $security ]]; then echo "target: $what: SKIP (box is stage < 5)"
  elif ! measured "$peer"; then echo "target: $what: SKIP ($peer: $(tail -n1 "$TMP/$peer.err" 2>/dev/null))"
  else
    printf 'target: %s (%.2f ms vs %.2f ms): %s\n' "$what" "$(ms box-rm median)" "$(jq -n "0.25 * $(ms "$peer" median)")" \
      "$(verdict "$(ms box-rm median) <= 0.25 * $(ms "$peer" median)")"
  fi
done
# build_target BOX-ROW PEER-ROW FACTOR
build_target() {
  local what="$1 median <= $3 x $2 median"
  if [[ -z $builds ]]; then echo "target: $what: SKIP (box is stage < 6)"
  elif ! measured "$2"; then echo "target: $what: SKIP ($2: $(tail -n1 "$TMP/$2.err" 2>/dev/null))"
  else
    printf 'target: %s (%.2f ms vs %.2f ms): %s\n' "$what" "$(ms "$1" median)" "$(jq -n "$3 * $(ms "$2" median)")" \
      "$(verdict "$(ms "$1" median) <= $3 * $(ms "$2" median)")"
  fi
}
build_target box-build-cached classic-build-cached 0.3
build_target box-build-cold buildkit-build-cold 1.0
what="the default bridge adds <= 3 ms to box-rm's start"
if [[ -z $networks ]]; then echo "target: $what: SKIP (box is stage < 7)"
elif ! measured box-bridge; then echo "target: $what: SKIP (box-bridge not measured)"
else added_target "$what" box-rm box-bridge 3; fi
for peer in podman-publish docker-publish; do
  what="box-publish median <= 0.25 x $peer median"
  if [[ -z $networks ]]; then echo "target: $what: SKIP (box is stage < 7)"
  elif ! measured "$peer" || ! measured box-publish; then
    echo "target: $what: SKIP ($peer: $(tail -n1 "$TMP/$peer.err" 2>/dev/null))"
  else
    printf 'target: %s (%.2f ms vs %.2f ms): %s\n' "$what" "$(ms box-publish median)" \
      "$(jq -n "0.25 * $(ms "$peer" median)")" "$(verdict "$(ms box-publish median) <= 0.25 * $(ms "$peer" median)")"
  fi
done
what="pull throughput >= 1.0 x skopeo's"
if [[ -n $PULL_WHY ]]; then echo "target: $what: SKIP ($PULL_WHY)"
elif ! measured skopeo-pull; then echo "target: $what: SKIP (skopeo-pull not measured)"
else
  printf 'target: %s (%.1f MB/s vs %.1f MB/s): %s\n' "$what" "$(mbps box-pull)" "$(mbps skopeo-pull)" \
    "$(verdict "$(ms box-pull median) <= $(ms skopeo-pull median)")"
fi
if [[ -n $composes ]]; then
  printf '\ncompose: up = `compose up --exit-code-from client` of an httpd and a client that fetches it by\n'
  printf 'service name (down between runs, not timed); noop = `compose up -d` of 10 services already up;\n'
  printf '%s runs after 1 warmup\n' "$COMPOSE_RUNS"
  printf '%-20s %10s %10s %10s %10s  %s\n' row median_ms mean_ms min_ms max_ms 'box/row (medians)'
  for r in box-compose-up docker-compose-up box-compose-noop docker-compose-noop; do
    ref=box-compose-up; [[ $r == *noop ]] && ref=box-compose-noop
    if measured "$r" && measured "$ref"; then
      printf '%-20s %10.2f %10.2f %10.2f %10.2f  %5.2f\n' "$r" "$(ms "$r" median)" "$(ms "$r" mean)" \
        "$(ms "$r" min)" "$(ms "$r" max)" "$(jq -n "$(ms "$ref" median) / $(ms "$r" median)")"
    else
      printf '%-20s %s\n' "$r" "$(grep -v '^$' "$TMP/$r.err" 2>/dev/null | tail -n1 || echo failed)"
    fi
  done
  for pair in "box-compose-up docker-compose-up 0.15" "box-compose-noop docker-compose-noop 0.1"; do
    set -- $pair
    what="$1 median <= $3 x $2 median"
    if ! measured "$1" || ! measured "$2"; then
      echo "target: $what: SKIP ($2: $(tail -n1 "$TMP/$2.err" 2>/dev/null))"
    else
      printf 'target: %s (%.2f ms vs %.2f ms): %s\n' "$what" "$(ms "$1" median)" "$(jq -n "$3 * $(ms "$2" median)")" \
        "$(verdict "$(ms "$1" median) <= $3 * $(ms "$2" median)")"
    fi
  done
fi

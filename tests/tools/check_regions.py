#!/usr/bin/env python3
"""Per-region honesty: each exercise region, stubbed alone, must fail a test.

    check_regions.py [--stages "1 2 3 4"] [--track both|basic|advanced] [--jobs 2]
                     [--timeout 300] [--only STAGE:N,...]

For every region of the chosen tracks (cut_exercises.py --list), builds the
tool with that region alone cut (everything else from solutions/) and runs its
stage's tests until the first one fails (Catch2 -x 1; [given] tests, which no
exercise touches, are left out). A region no test notices is either untested
behaviour or code that does not matter; the check exits 1 if there is one.

Kept cheap so CI can afford it: each worker (--jobs) has one build of the
highest stage, configured once, whose stage sources are a copy of solutions/
(built one after the other, so that ccache compiles each file once); a
region's stub rewrites one file, so a step recompiles that file and links the
tool and the stage's test binary. Regions of one file go to one worker, in a
row. Prints a table region -> first failing test, and the time taken.
"""
import argparse
import concurrent.futures
import os
import pathlib
import queue
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cut_exercises  # noqa: E402

ROOT = cut_exercises.ROOT


def sh(cmd, **kw):
    return subprocess.run(cmd, text=True, capture_output=True, **kw)


class Worker:
    def __init__(self, k, stage):
        self.k = k
        # A tree of the worker's own that looks like the kit from its build
        # directory: lib/, tests/, CMakeLists.txt link to the kit's, solutions/
        # is a copy the worker stubs, and the build directory sits two levels
        # down as `make test`'s does. Every compile command is then the same as
        # `make test`'s (../../lib/include, ../../solutions/stage1, ...), and
        # ccache hands back what that build compiled: only stubbed files compile.
        self.tree = ROOT / "build" / "regions" / f"w{k}"
        self.src = self.tree / "solutions"
        self.build = self.tree / "build" / f"stage{stage}"
        self.stage = stage

    def prepare(self, stages):
        """Configures and builds once, from the solutions unchanged."""
        self.tree.mkdir(parents=True, exist_ok=True)
        for name in ("CMakeLists.txt", "lib", "tests", "chapters"):
            link = self.tree / name
            if not link.is_symlink():
                link.symlink_to(ROOT / name)
        cut_exercises.copy_solutions(self.src)
        # The flags of make's build (warnings as errors in CI, as the Makefile
        # sets them), so that ccache can reuse what that build compiled.
        werror = "ON" if os.environ.get("CI") else "OFF"
        cfg = sh(["cmake", "-S", str(self.tree), "-B", str(self.build), f"-DBOX_STAGE={self.stage}",
                  "-DBOX_FROM=solutions", "-DBOX_SOLVED=", f"-DBOX_WERROR={werror}"])
        if cfg.returncode != 0:
            raise RuntimeError(f"cmake: {cfg.stdout[-2000:]}{cfg.stderr[-2000:]}")
        self.make(["box"] + [f"box-stage{s}" for s in stages])

    def make(self, targets):
        b = sh(["cmake", "--build", str(self.build), f"-j{os.cpu_count() or 2}", "--target", *targets])
        if b.returncode != 0:
            text = b.stdout + b.stderr
            err = next((l for l in text.splitlines() if "error" in l.lower()), text[-500:])
            raise RuntimeError(err.strip()[:400])

    def check(self, region, timeout):
        """The first test of the region's stage that fails with it stubbed:
        (test name or None, seconds)."""
        start = time.monotonic()
        cut_exercises.stub_one(region["stage"], region["number"], self.src)
        self.make(["box", f"box-stage{region['stage']}"])
        env = dict(os.environ, BOX_BIN=str(self.build / "box"),
                   BOX_BASE_ROOTFS=str(ROOT / "build" / "base-rootfs"))
        with tempfile.NamedTemporaryFile(suffix=".xml") as report:
            try:
                sh([str(self.build / f"box-stage{region['stage']}"), "~[given]", "-x", "1", "-r", "junit",
                    "-o", report.name], env=env, timeout=timeout)
            except subprocess.TimeoutExpired:
                return "(a test hung: cut off after %d s)" % timeout, time.monotonic() - start
            try:
                tree = ET.parse(report.name)
            except ET.ParseError:
                return "(the test binary died: its report is cut short)", time.monotonic() - start
        for case in tree.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                return case.get("name"), time.monotonic() - start
        return None, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stages", default="")
    ap.add_argument("--track", choices=["both", "basic", "advanced"], default="both")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=300, help="seconds for one region's test run")
    ap.add_argument("--only", default="", help="STAGE:N,... (default: every region)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("check_regions: the tests create namespaces and mounts; run as root")
    table = cut_exercises.region_table()
    stages = sorted({r["stage"] for r in table})
    if args.stages:
        stages = [int(s) for s in args.stages.replace(",", " ").split()]
    chosen = [r for r in table if r["stage"] in stages and args.track in ("both", r["track"])]
    if args.only:
        wanted = {tuple(int(x) for x in item.split(":")) for item in args.only.split(",")}
        chosen = [r for r in chosen if (r["stage"], r["number"]) in wanted]
    if not chosen:
        print("check_regions: no regions to check")
        return 0
    if not (ROOT / "build" / "base-rootfs").exists():
        sys.exit("check_regions: build/base-rootfs is missing (make rootfs, or make test once)")
    began = time.monotonic()
    top = max(stages)
    workers = [Worker(k, top) for k in range(max(1, min(args.jobs, len(chosen))))]
    print(f"check_regions: {len(chosen)} regions of stages {', '.join(map(str, stages))}, "
          f"{len(workers)} worker(s)", flush=True)
    for w in workers:  # one after the other: the first fills ccache, the others hit it
        w.prepare(stages)
        print(f"  build {w.k} ready ({time.monotonic() - began:.0f} s)", flush=True)

    # One file's regions in a row on one worker: one file recompiles per step.
    groups = {}
    for r in chosen:
        groups.setdefault(r["file"], []).append(r)
    work = queue.Queue()
    for file in sorted(groups, key=lambda f: -len(groups[f])):
        work.put(groups[file])
    results, lock = [], threading.Lock()

    def run(worker):
        while True:
            try:
                group = work.get_nowait()
            except queue.Empty:
                return
            for r in group:
                try:
                    failing, took = worker.check(r, args.timeout)
                    error = None
                except RuntimeError as e:
                    failing, took, error = None, 0.0, str(e)
                with lock:
                    results.append((r, failing, took, error))
                    mark = "ok  " if failing else "FAIL"
                    print(f"  {mark} stage {r['stage']} #{r['number']} {r['function']} ({r['track']}, {took:.0f} s): "
                          f"{error or failing or 'no test fails'}", flush=True)

    with concurrent.futures.ThreadPoolExecutor(len(workers)) as pool:
        for f in [pool.submit(run, w) for w in workers]:
            f.result()
    for w in workers:  # leave each build as the solutions: the next run starts clean
        cut_exercises.copy_solutions(w.src)

    results.sort(key=lambda x: (x[0]["stage"], x[0]["number"]))
    print(f"\n{'region':<46}{'track':<10}first failing test")
    for r, failing, _, error in results:
        name = f"stage {r['stage']} #{r['number']} {r['function']}"
        print(f"{name:<46}{r['track']:<10}{('BUILD: ' + error) if error else (failing or '— NONE —')}")
    bad = [x for x in results if not x[1]]
    print(f"\ncheck_regions: {len(results) - len(bad)} of {len(results)} regions fail a test when stubbed alone "
          f"({time.monotonic() - began:.0f} s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

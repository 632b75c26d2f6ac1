#!/usr/bin/env python3
"""make grade: score a student's work, stage by stage.

    grade.py --from PATH|exercises [--stages "1 2"] [--out grade] [--timeout 120]

For each stage N, builds box from the student's exercises/stageN (earlier stages
from solutions/, so each stage is scored on its own) with the kit's own lib/ and
tests, runs each of the stage's tests in its own process with a time limit, and
prints a table with a reason for each failure and `Score: X/Y` per stage and
overall. Writes OUT/junit.xml and OUT/results.json (Gradescope's format).
A test that hangs is cut off and scores 0; a stage that does not compile scores 0.
Tests tagged [given] check code the kit gives (no exercise is in their path, so
a student's work cannot change their outcome): `make test` runs them, grading
does not count them. Tests tagged [advanced] check code that is an exercise on
the advanced track only: they count when the tree graded is that track.
"""
import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parents[2]
POINTS = re.compile(r"\[(\d+)pts?\]")


def sh(cmd, **kw):
    return subprocess.run(cmd, text=True, capture_output=True, **kw)


def build(stage, source, solved):
    """Builds stage `stage` from `source`; returns (build dir, error text or None)."""
    tag = hashlib.md5(f"{source}|{solved}".encode()).hexdigest()[:8]
    # Two levels below the kit, as `make test`'s build: the same compile
    # commands for lib/ and the tests, so ccache compiles them once.
    out = ROOT / "build" / f"grade-stage{stage}-{tag}"
    # One build at a time per directory: graders run in parallel (make
    # grade-class) share the solutions' reference build of a stage.
    with locked(out / ".grade.lock"):
        return _build(out, stage, source, solved)


@contextlib.contextmanager
def locked(path):
    """An exclusive lock on `path` (made if missing), held while in the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def _build(out, stage, source, solved):
    cfg = sh(["cmake", "-S", str(ROOT), "-B", str(out), f"-DBOX_STAGE={stage}",
              f"-DBOX_FROM={source}", f"-DBOX_SOLVED={solved}"])
    if cfg.returncode != 0:
        return out, first_error(cfg.stdout + cfg.stderr) or "cmake failed"
    # Only what grading stage N runs: the tool and stage N's tests (with their fixtures).
    b = sh(["cmake", "--build", str(out), f"-j{os.cpu_count() or 2}", "--target", "box", f"box-stage{stage}"])
    if b.returncode != 0:
        return out, first_error(b.stdout + b.stderr) or "build failed"
    return out, None


def first_error(text):
    """The line that says what went wrong: the compiler's `file:line: error:`,
    CMake's `CMake Error`, the linker's; not a progress line that names a file
    such as lib/src/error.cpp."""
    lines = text.splitlines()
    for pat in (r"\berror:", r"CMake Error", r"undefined reference", r"(?i)\berror\b(?!\.\w)"):
        for line in lines:
            if re.search(pat, line):
                return line.strip()[:300]
    return None


def list_tests(binary, track=""):
    """[(name, points)]: names one per line from --list-test-names-only (never
    wrapped, unlike --list-tests), points from a [Npts] tag (1 if none)."""
    # [given]: code the kit gives on every track; [advanced]: code that is an
    # exercise on the advanced track only (on the basic one, given).
    spec = "~[given]" if track.startswith(("advanced", "solutions")) else "~[given]~[advanced]"
    names = [n for n in sh([str(binary), spec, "--list-test-names-only"]).stdout.splitlines() if n.strip()]
    tests = []
    for name in names:
        points = 1
        # Tags are per test only in a listing of that test alone.
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
            f.write(catch_spec(name) + "\n")
            f.flush()
            alone = sh([str(binary), "-f", f.name, "--list-tests", "--use-colour", "no"]).stdout
        m = POINTS.search(alone)
        if m:
            points = int(m.group(1))
        tests.append((name, points))
    return tests


def track_of(source):
    """Which exercises a tree holds: the TRACK file `make exercises` writes
    ("basic" or "advanced"), or "solutions"."""
    if source == "solutions":
        return "solutions"
    base = ROOT / "exercises" if source == "exercises" else pathlib.Path(source)
    for f in (base / "TRACK", base / "exercises" / "TRACK"):
        if f.is_file():
            return f.read_text().strip() + " track"
    return "basic track (no TRACK file)"


def catch_spec(name):
    """A Catch2 test spec matching exactly `name` (given in a -f file, so a
    name that starts with '-' is not taken for an option)."""
    return re.sub(r'([\\,\[\]"])', r"\\\1", name)


def reason_from(text):
    """The most telling line of a failure: a stub's message if there is one."""
    m = re.search(r"not implemented yet: [^\n]*?exercise \d+", text.replace("\n  ", " ").replace("\n", " "), re.S)
    if m:
        return "box: " + re.sub(r"\s+", " ", m.group(0)).replace("chapters/01- namespaces", "chapters/01-namespaces")
    for pat in (r"stderr: (box: [^\n]+)", r"(left behind by the test: [^\n]+)",
                r"(?m)^\s*((?:REQUIRE|CHECK)\w*\(.*)$"):
        m = re.search(pat, text)
        if m:
            return m.group(1).strip()
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    return lines[0][:200] if lines else "failed"


def run_test(binary, name, timeout, env):
    """(passed, reason, seconds) for one test case, run alone."""
    with tempfile.NamedTemporaryFile(suffix=".xml") as report, \
            tempfile.NamedTemporaryFile("w", suffix=".txt") as names:
        names.write(catch_spec(name) + "\n")
        names.flush()
        start = time.monotonic()
        # --warn NoTests: a name that matches nothing is a failure, never a pass.
        proc = subprocess.Popen([str(binary), "-f", names.name, "--warn", "NoTests", "-r", "junit",
                                 "-o", report.name, "--use-colour", "no"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=env, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return False, f"timed out after {timeout} s (cut off)", timeout
        took = time.monotonic() - start
        if proc.returncode == 0:
            return True, "", took
        try:
            tree = ET.parse(report.name)
            texts = [(f.get("message") or "") + "\n" + (f.text or "")
                     for f in tree.iter() if f.tag in ("failure", "error")]
            detail = "\n".join(texts)
        except ET.ParseError:
            detail = output
        return False, reason_from(detail or output) if (detail or output) else f"exit {proc.returncode}", took


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="source", default="exercises",
                    help="'exercises', 'solutions', or the path to a student's copy of the kit")
    ap.add_argument("--stages", default="1")
    ap.add_argument("--out", default=str(ROOT / "grade"))
    ap.add_argument("--timeout", type=int, default=120, help="seconds per test")
    ap.add_argument("--require-all-fail", action="store_true",
                    help="exit 1 if any test passes (CI: the stubs must fail every test)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("make grade: the tests create namespaces and mounts; run as root (sudo make grade)")

    source = args.source
    if source not in ("exercises", "solutions"):
        source = str(pathlib.Path(source).resolve())
        if not pathlib.Path(source).is_dir():
            sys.exit(f"make grade: FROM={args.source}: no such directory")
    stages = [int(s) for s in args.stages.replace(",", " ").split()]
    base = ROOT / "build" / "base-rootfs"
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    results, suites, total, possible = [], [], 0, 0
    track = track_of(source)
    print(f"Grading {args.source} ({track})\n")
    for stage in stages:
        chapter = next((ROOT / "chapters").glob(f"{stage:02d}-*"), None)
        print(f"stage {stage} — {chapter.relative_to(ROOT) if chapter else '?'}")
        solved = ",".join(str(s) for s in range(1, stage))
        bdir, err = build(stage, source, solved)
        binary = bdir / f"box-stage{stage}"
        tests = list_tests(binary, track) if not err else []
        if err:  # the test list comes from the solutions' build then
            ref, ref_err = build(stage, "solutions", "")
            if ref_err:
                sys.exit(f"make grade: the solutions of stage {stage} do not build: {ref_err}")
            tests = list_tests(ref / f"box-stage{stage}", track)
        with locked(base.parent / "base-rootfs.lock"):  # parallel graders make it once
            if not base.exists():
                helper = bdir / "box" if not err else ref / "box"
                sh([str(helper), "base-rootfs", "--force", str(base)], check=True)
        env = dict(os.environ, BOX_BIN=str(bdir / "box"), BOX_BASE_ROOTFS=str(base))
        score = 0
        suite = ET.Element("testsuite", name=f"stage{stage}", tests=str(len(tests)))
        failures = 0
        for name, points in tests:
            if err:
                ok, reason, took = False, f"does not build: {err}", 0.0
            else:
                ok, reason, took = run_test(binary, name, args.timeout, env)
            got = points if ok else 0
            score += got
            case = ET.SubElement(suite, "testcase", classname=f"stage{stage}", name=name, time=f"{took:.3f}")
            if not ok:
                failures += 1
                ET.SubElement(case, "failure", message=reason).text = reason
            results.append({"name": f"stage {stage}: {name}", "score": got, "max_score": points,
                            "status": "passed" if ok else "failed", "output": reason,
                            "visibility": "visible"})
            print(f"  {'PASS' if ok else 'FAIL'}  {got}/{points}  {name}")
            if not ok:
                print(f"              {reason}")
        suite.set("failures", str(failures))
        suites.append(suite)
        stage_max = sum(p for _, p in tests)
        print(f"  Score: {score}/{stage_max}\n")
        total += score
        possible += stage_max

    print(f"Score: {total}/{possible} ({track})")
    root = ET.Element("testsuites", name="box grade", tests=str(len(results)),
                      failures=str(sum(1 for r in results if r["status"] == "failed")))
    root.extend(suites)
    ET.ElementTree(root).write(out_dir / "junit.xml", encoding="utf-8", xml_declaration=True)
    (out_dir / "results.json").write_text(json.dumps(
        {"score": total, "max_score": possible, "tests": results, "stdout_visibility": "visible",
         "output": f"graded: {args.source}, {track}"}, indent=2) + "\n")
    print(f"Reports: {out_dir / 'junit.xml'}, {out_dir / 'results.json'}")
    if args.require_all_fail:
        passing = [r["name"] for r in results if r["status"] == "passed"]
        print(f"honesty check: {len(results) - len(passing)} of {len(results)} stage tests fail against the stubs")
        if passing:
            print("these pass against the stubs, so they test nothing:\n  " + "\n  ".join(passing))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

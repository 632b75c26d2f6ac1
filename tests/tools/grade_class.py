#!/usr/bin/env python3
"""make grade-class: grade a directory of submissions, a few at a time.

    grade_class.py SUBMISSIONS [--stages "1 2"] [--jobs 2] [--out grade-class] [--timeout 120]

Each subdirectory of SUBMISSIONS is one student's copy of the kit (its name is
the student's: SUBMISSIONS/alice/exercises/stage1, ...; a bare exercises tree,
SUBMISSIONS/alice/stage1, is accepted too). Runs grade.py on each, --jobs at a
time, into OUT/<student>/ (junit.xml, results.json, and grade.log: grade.py's
table), then writes OUT/summary.csv, one row per student and stage:
student, stage, score, max, reason — and prints the same as a table.
A submission that does not build scores 0 on that stage with the compiler's
first error as the reason; an entry that is not a kit (no exercises/stageN)
scores 0 on every stage with that reason. Neither stops the others.
Grading runs the students' code as root: do it on a throwaway machine.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import pathlib
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
GRADE = pathlib.Path(__file__).resolve().parent / "grade.py"


def missing_stages(sub, stages):
    """The stages a submission has no directory for (grade.py's BOX_FROM rule:
    SUB/exercises/stageN, else SUB/stageN)."""
    base = sub / "exercises" if (sub / "exercises").is_dir() else sub
    return [s for s in stages if not (base / f"stage{s}").is_dir()]


def grade_one(sub, stages, out, timeout):
    """Runs grade.py on one submission; returns {stage: (score, max, reason)}."""
    out.mkdir(parents=True, exist_ok=True)
    if not sub.is_dir():
        return {s: (0, None, "not a directory (unpack it into SUBMISSIONS/NAME/)") for s in stages}
    missing = missing_stages(sub, stages)
    if missing:
        why = f"not a kit: no exercises/stage{missing[0]} in {sub}"
        (out / "grade.log").write_text(why + "\n")
        return {s: (0, None, why) for s in stages}
    results = out / "results.json"
    results.unlink(missing_ok=True)  # a report of an earlier run must not stand in for this one
    cmd = [sys.executable, str(GRADE), "--from", str(sub), "--stages", " ".join(map(str, stages)),
           "--out", str(out), "--timeout", str(timeout)]
    with open(out / "grade.log", "w") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0 or not results.is_file():
        lines = [l.strip() for l in (out / "grade.log").read_text(errors="replace").splitlines() if l.strip()]
        why = f"grade.py failed (exit {proc.returncode}): {lines[-1][:200] if lines else 'no output'}"
        return {s: (0, None, why) for s in stages}
    tests = json.loads(results.read_text())["tests"]
    by_stage = {}
    for s in stages:
        mine = [t for t in tests if t["name"].startswith(f"stage {s}: ")]
        score = sum(t["score"] for t in mine)
        top = sum(t["max_score"] for t in mine)
        failed = [t for t in mine if t["status"] != "passed"]
        build = next((t["output"] for t in failed if t["output"].startswith("does not build:")), None)
        if build:
            reason = build
        elif failed:
            reason = f"{len(failed)} of {len(mine)} tests failed"
        else:
            reason = ""
        by_stage[s] = (score, top, reason)
    return by_stage


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("submissions", nargs="?", default="",
                    help="a directory with one copy of the kit per student (SUBMISSIONS/NAME/)")
    ap.add_argument("--stages", default="1")
    ap.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    ap.add_argument("--out", default=str(ROOT / "grade-class"))
    ap.add_argument("--timeout", type=int, default=120, help="seconds per test (grade.py's --timeout)")
    args = ap.parse_args()
    if not args.submissions:
        sys.exit("make grade-class: say which submissions: SUBMISSIONS=DIR (one subdirectory per student)")
    if os.geteuid() != 0:
        sys.exit("make grade-class: the tests create namespaces and mounts; run as root (sudo make grade-class)")
    if args.jobs < 1:
        sys.exit(f"make grade-class: --jobs {args.jobs}: at least 1")
    subs_dir = pathlib.Path(args.submissions).resolve()
    if not subs_dir.is_dir():
        sys.exit(f"make grade-class: SUBMISSIONS={args.submissions}: no such directory")
    try:
        stages = [int(s) for s in args.stages.replace(",", " ").split()]
    except ValueError:
        sys.exit(f"make grade-class: STAGES={args.stages!r}: stage numbers, e.g. \"1 2\"")
    if not stages or any(not 1 <= s <= 8 for s in stages):
        sys.exit(f"make grade-class: STAGES={args.stages!r}: stages 1 to 8")
    out = pathlib.Path(args.out).resolve()
    subs = sorted(p for p in subs_dir.iterdir() if not p.name.startswith(".") and p != out)
    if not subs:
        sys.exit(f"make grade-class: {subs_dir} is empty: expected one subdirectory per student")
    out.mkdir(parents=True, exist_ok=True)

    jobs = min(args.jobs, len(subs))
    print(f"Grading {len(subs)} submissions of {subs_dir}, stages {' '.join(map(str, stages))}, "
          f"{jobs} at a time, into {out}/", flush=True)
    began = time.monotonic()
    rows, lock = {}, threading.Lock()

    def work(sub):
        start = time.monotonic()
        try:
            got = grade_one(sub, stages, out / sub.name, args.timeout)
        except Exception as e:  # one submission's trouble never stops the class
            got = {s: (0, None, f"grading failed: {e}") for s in stages}
        with lock:
            rows[sub.name] = got
            score = sum(v[0] for v in got.values())
            top = "?" if any(v[1] is None for v in got.values()) else sum(v[1] for v in got.values())
            note = next((v[2] for v in got.values() if v[2].startswith(("does not", "not a", "grade.py", "grading"))), "")
            print(f"  {sub.name}: {score}/{top} ({time.monotonic() - start:.0f} s){'  ' + note if note else ''}",
                  flush=True)

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for f in [pool.submit(work, s) for s in subs]:
            f.result()

    # A stage's maximum is the same for every student of one track: where a row
    # has none (not a kit, grade.py failed), take the one the others got.
    known = {}
    for got in rows.values():
        for s, (_, top, _) in got.items():
            if top is not None:
                known.setdefault(s, top)
    summary = out / "summary.csv"
    with open(summary, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "stage", "score", "max", "reason"])
        for name in sorted(rows):
            for s in stages:
                score, top, reason = rows[name][s]
                w.writerow([name, s, score, top if top is not None else known.get(s, ""), reason])

    width = max(len("student"), *(len(n) for n in rows))
    print(f"\n{'student':<{width}}  " + "  ".join(f"{'stage ' + str(s):>9}" for s in stages) + f"  {'total':>9}")
    for name in sorted(rows):
        cells, score, top = [], 0, 0
        for s in stages:
            got, mx, _ = rows[name][s]
            mx = mx if mx is not None else known.get(s, 0)
            cells.append(f"{got}/{mx}")
            score, top = score + got, top + mx
        print(f"{name:<{width}}  " + "  ".join(f"{c:>9}" for c in cells) + f"  {f'{score}/{top}':>9}")
    print(f"\nSummary: {summary}; each student's junit.xml, results.json and grade.log in {out}/NAME/ "
          f"({time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""What one command costs more than another, measured in pairs.

    paired.py --runs N [--warmup W] --json OUT -- CMD-A... --vs CMD-B...

Runs A and B one right after the other N times, alternating which goes first
(A B, B A, A B, ...), each without a shell, its output thrown away, and
writes OUT: the wall-clock times of each (seconds), and the difference B - A
of each pair with its median. The bench's targets "X adds <= N ms" use that
median: the speed of this machine drifts 2-3x over a day and by tens of
percent within a minute, and two rows measured minutes apart (hyperfine runs
one command's runs, then the other's) carry that drift in their difference,
where a pair's two runs, a few milliseconds apart, share it.

A run that fails stops the measurement: exit status 1, its stderr shown.
"""
import argparse
import json
import statistics
import subprocess
import sys
import time


def run(cmd):
    start = time.perf_counter_ns()
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter_ns() - start) / 1e9
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode(errors="replace"))
        sys.exit(f"paired: exit status {done.returncode}: {' '.join(cmd)}")
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--json", required=True)
    ap.add_argument("commands", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    words = args.commands[1:] if args.commands[:1] == ["--"] else args.commands
    if "--vs" not in words:
        ap.error("expected -- CMD-A... --vs CMD-B...")
    cut = words.index("--vs")
    a, b = words[:cut], words[cut + 1:]
    if not a or not b or args.runs < 1:
        ap.error("two commands and --runs >= 1 are needed")
    for _ in range(args.warmup):
        run(a)
        run(b)
    times_a, times_b = [], []
    for i in range(args.runs):
        if i % 2 == 0:
            times_a.append(run(a))
            times_b.append(run(b))
        else:
            times_b.append(run(b))
            times_a.append(run(a))
    diffs = [y - x for x, y in zip(times_a, times_b)]
    out = {
        "results": [
            {"command": " ".join(a), "median": statistics.median(times_a), "times": times_a},
            {"command": " ".join(b), "median": statistics.median(times_b), "times": times_b},
        ],
        "difference": {"median": statistics.median(diffs), "mean": statistics.mean(diffs), "times": diffs},
    }
    with open(args.json, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()

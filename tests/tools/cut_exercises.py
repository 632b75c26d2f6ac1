#!/usr/bin/env python3
"""Generates exercises/ from solutions/ by cutting the marked regions.

In a solution file, the body a student writes sits between

    // BEGIN EXERCISE 3: make_mounts_private()
    ...the solution...
    // END EXERCISE

(a region of the basic track) or

    // BEGIN ADVANCED EXERCISE 12: start_container()
    ...the solution, which may hold basic regions...
    // END EXERCISE

(a region of the advanced track: a stage's mechanisms, numbered after the
stage's basic regions). Cut, a region becomes a stub that fails with a message
naming the function, the chapter and the exercise number. Every other line is
kept, so the exercise compiles exactly as the solution does.

    cut_exercises.py --write [--track basic|advanced] [--into DIR]
                         rewrite exercises/ (or DIR/exercises/) from solutions/: the basic track cuts
                         basic regions; the advanced track cuts both kinds (an
                         advanced region takes the basic ones inside it along).
                         exercises/TRACK says which.
    cut_exercises.py --check   exit 1 if exercises/ is not what --write makes
                               (the committed tree is the basic track)
    cut_exercises.py --list    the regions as JSON lines (stage, number, track,
                               function, file, first and last line, lines)
    cut_exercises.py --stats   lines a student writes per stage and track
    cut_exercises.py --stub-one STAGE:N --into DIR
                               DIR/stageK/... = solutions/, with only region N
                               of stage STAGE cut (the per-region honesty check)

It also checks that every exercise is described in its chapter (a heading
"Exercise N" naming the function), so a student can do it from the chapter.
"""
import argparse
import difflib
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
BEGIN = re.compile(r"^(\s*)// BEGIN (ADVANCED )?EXERCISE (\d+): (\S+)\s*$")
END = re.compile(r"^\s*// END EXERCISE\s*$")


class CutError(Exception):
    pass


def chapter_of(stage: int) -> pathlib.Path:
    found = sorted((ROOT / "chapters").glob(f"{stage:02d}-*"))
    if len(found) != 1:
        raise CutError(f"stage {stage}: expected one chapters/{stage:02d}-* directory, found {len(found)}")
    return found[0]


def regions(text: str, path: str) -> list:
    """The regions of one file: dicts with number, track, function, indent,
    begin and end (line numbers of the markers) and parent (the number of the
    advanced region it sits in, or None). Only a basic region may sit inside an
    advanced one."""
    found, stack = [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        m = BEGIN.match(line)
        if m:
            track = "advanced" if m.group(2) else "basic"
            if stack and (track == "advanced" or stack[-1]["track"] == "basic"):
                raise CutError(f"{path}:{lineno}: BEGIN EXERCISE inside the exercise begun at line {stack[-1]['begin']}"
                               " (only a basic region may sit in an advanced one)")
            region = {"number": int(m.group(3)), "track": track, "function": m.group(4), "indent": m.group(1),
                      "begin": lineno, "end": None, "parent": stack[-1]["number"] if stack else None}
            found.append(region)
            stack.append(region)
        elif END.match(line):
            if not stack:
                raise CutError(f"{path}:{lineno}: END EXERCISE without BEGIN")
            stack.pop()["end"] = lineno
    if stack:
        raise CutError(f"{path}:{stack[-1]['begin']}: BEGIN EXERCISE without END")
    return found


def cut(text: str, path: str, chapter: str, seen: dict, stub=lambda r: r["track"] == "basic") -> str:
    """`text` with each region `stub` picks replaced by a stub (markers of the
    others dropped, their code kept). `seen` collects the regions by number."""
    found = regions(text, path)
    for r in found:
        if r["number"] in seen:
            raise CutError(f"{path}:{r['begin']}: exercise {r['number']} already used at {seen[r['number']]['where']}")
        seen[r["number"]] = dict(r, where=f"{path}:{r['begin']}")
    if found and '#include "box/error.hpp"' not in text:
        raise CutError(f'{path}: has exercises but does not #include "box/error.hpp" (the stubs need it)')
    lines = text.splitlines(keepends=True)
    out, skip_to = [], 0
    markers = {r["begin"]: r for r in found}
    ends = {r["end"] for r in found}
    for lineno, line in enumerate(lines, 1):
        if lineno <= skip_to:
            continue
        r = markers.get(lineno)
        if r and stub(r):
            i, n, f = r["indent"], r["number"], r["function"]
            out.append(f"{i}// EXERCISE {n}: write {f} — see {chapter}/README.md, exercise {n}.\n")
            out.append(f"{i}// Replace the line below with your code.\n")
            out.append(f'{i}box::not_implemented("{f}", "{chapter}", {n});\n')
            skip_to = r["end"]
        elif r or lineno in ends:
            continue  # the marker of a region kept whole
        else:
            out.append(line)
    return "".join(out)


def solution_files():
    """[(stage, chapter path relative to ROOT, source path)] of every solution file."""
    out = []
    for stage_dir in sorted((ROOT / "solutions").glob("stage*"), key=lambda d: int(d.name[len("stage"):])):
        stage = int(stage_dir.name[len("stage"):])
        chapter = chapter_of(stage).relative_to(ROOT).as_posix()
        for src in sorted(p for p in stage_dir.rglob("*") if p.is_file()):
            out.append((stage, chapter, src))
    return out


def region_table() -> list:
    """Every region of every stage (as regions() gives them, with stage, file and lines)."""
    table = []
    for stage, chapter, src in solution_files():
        if src.suffix not in {".cpp", ".hpp"}:
            continue
        rel = src.relative_to(ROOT).as_posix()
        for r in regions(src.read_text(), rel):
            table.append(dict(r, stage=stage, file=rel, lines=r["end"] - r["begin"] - 1))
    # A region's own lines: not those of the basic regions inside it.
    for r in table:
        if r["track"] == "advanced":
            r["lines"] -= sum(q["lines"] + 2 for q in table if q["parent"] == r["number"] and q["stage"] == r["stage"])
    return table


def generate(track: str = "basic") -> dict:
    """{relative path under exercises/: content} for every solution file."""
    files = {"TRACK": track + "\n"}
    stub = (lambda r: r["track"] == "basic") if track == "basic" else (lambda r: True)
    by_stage = {}
    for stage, chapter, src in solution_files():
        seen = by_stage.setdefault(stage, (chapter, {}))[1]
        rel = src.relative_to(ROOT / "solutions").as_posix()
        text = src.read_text()
        files[rel] = cut(text, f"solutions/{rel}", chapter, seen, stub) if src.suffix in {".cpp", ".hpp"} else text
    for stage, (chapter, seen) in by_stage.items():
        if not seen:
            continue
        numbers = sorted(seen)
        if numbers != list(range(1, len(numbers) + 1)):
            raise CutError(f"stage {stage}: exercises are numbered {numbers}, expected 1..{len(numbers)}")
        basic = [n for n in numbers if seen[n]["track"] == "basic"]
        if basic and max(basic) > min((n for n in numbers if seen[n]["track"] == "advanced"), default=max(basic) + 1):
            raise CutError(f"stage {stage}: advanced exercises must be numbered after the basic ones")
        readme_path = ROOT / chapter / "README.md"
        readme = readme_path.read_text() if readme_path.exists() else ""
        for number, r in seen.items():
            name = r["function"].rstrip("()")
            if not re.search(rf"^#+ .*Exercise {number}\b.*{re.escape(name)}", readme, re.M):
                raise CutError(f"{r['where']}: {chapter}/README.md has no heading 'Exercise {number}' naming {name}")
    return files


def copy_solutions(into: pathlib.Path) -> None:
    """Writes solutions/ into `into` unchanged (only files that differ are
    written, so a build there recompiles only what changed)."""
    wanted = set()
    for _, _, src in solution_files():
        dst = into / src.relative_to(ROOT / "solutions")
        wanted.add(dst)
        text = src.read_text()
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists() or dst.read_text() != text:
            dst.write_text(text)
    for old in [p for p in into.rglob("*") if p.is_file() and p not in wanted]:
        old.unlink()  # a file solutions/ no longer has (the build globs the directories)


# Prepended to a file with one region cut for the per-region check: a stub
# leaves parameters and helpers unused, and that build uses the flags of the
# solutions' (with -Werror in CI) so that ccache can reuse what they compiled.
RELAX = "".join(f'#pragma GCC diagnostic ignored "-W{w}"\n' for w in
                ("unused-parameter", "unused-function", "unused-variable", "unused-but-set-variable"))


def stub_one(stage: int, number: int, into: pathlib.Path) -> str:
    """Writes solutions/ into `into` with only region `number` of `stage` cut
    (that file relaxed about unused names: RELAX); returns the file that holds
    it (relative to solutions/)."""
    hit = None
    for s, chapter, src in solution_files():
        rel = src.relative_to(ROOT / "solutions").as_posix()
        text = src.read_text()
        if s == stage and src.suffix in {".cpp", ".hpp"} and any(r["number"] == number for r in regions(text, rel)):
            text = RELAX + cut(text, f"solutions/{rel}", chapter, {}, lambda r: r["number"] == number)
            hit = rel
        dst = into / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists() or dst.read_text() != text:
            dst.write_text(text)
    if hit is None:
        raise CutError(f"stage {stage} has no exercise {number}")
    return hit


def print_stats() -> None:
    """Lines a student writes (a region's lines between its markers, without
    blank and comment-only lines), per stage and track, against the stage's code."""
    table = region_table()
    def code_lines(path, first=None, last=None):
        lines = pathlib.Path(ROOT / path).read_text().splitlines()
        lines = lines[first:last] if first is not None else lines
        return sum(1 for l in lines if l.strip() and not l.strip().startswith("//"))
    print(f"{'stage':<6}{'basic':>8}{'advanced':>10}{'both':>8}{'stage code':>12}{'share':>8}  regions (basic+advanced)")
    for stage in sorted({r["stage"] for r in table} | {s for s, _, _ in solution_files()}):
        mine = [r for r in table if r["stage"] == stage]
        counted = {}
        for r in mine:
            own = code_lines(r["file"], r["begin"], r["end"] - 1)
            inner = sum(code_lines(q["file"], q["begin"], q["end"] - 1) for q in mine if q["parent"] == r["number"])
            counted[r["number"]] = own - inner if r["track"] == "advanced" else own
        basic = sum(v for n, v in counted.items() if next(r for r in mine if r["number"] == n)["track"] == "basic")
        advanced = sum(v for n, v in counted.items() if next(r for r in mine if r["number"] == n)["track"] == "advanced")
        total = sum(code_lines(src.relative_to(ROOT).as_posix()) for s, _, src in solution_files()
                    if s == stage and src.suffix in {".cpp", ".hpp"})
        nb = sum(1 for r in mine if r["track"] == "basic")
        print(f"{stage:<6}{basic:>8}{advanced:>10}{basic + advanced:>8}{total:>12}{(basic + advanced) / max(total, 1):>8.0%}"
              f"  {nb}+{len(mine) - nb}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    group.add_argument("--list", action="store_true")
    group.add_argument("--stats", action="store_true")
    group.add_argument("--stub-one", metavar="STAGE:N")
    ap.add_argument("--track", choices=["basic", "advanced"], default="basic")
    ap.add_argument("--into", type=pathlib.Path)
    args = ap.parse_args()
    try:
        if args.list:
            for r in region_table():
                print(json.dumps({k: r[k] for k in ("stage", "number", "track", "function", "file", "begin", "end",
                                                     "lines", "parent")}))
            return 0
        if args.stats:
            print_stats()
            return 0
        if args.stub_one:
            if not args.into:
                ap.error("--stub-one needs --into DIR")
            stage, number = (int(x) for x in args.stub_one.split(":"))
            print(stub_one(stage, number, args.into))
            return 0
        wanted = generate(args.track if args.write else "basic")
    except CutError as e:
        print(f"cut_exercises: {e}", file=sys.stderr)
        return 1
    ex = (args.into if args.write and args.into else ROOT) / "exercises"
    have = {p.relative_to(ex).as_posix(): p.read_text() for p in ex.rglob("*") if p.is_file()} if ex.exists() else {}
    if args.write:
        for rel in set(have) - set(wanted):
            (ex / rel).unlink()
        for rel, text in wanted.items():
            (ex / rel).parent.mkdir(parents=True, exist_ok=True)
            if have.get(rel) != text:
                (ex / rel).write_text(text)
                print(f"wrote {ex.relative_to(ROOT) if ex.is_relative_to(ROOT) else ex}/{rel}")
        return 0
    bad = 0
    for rel in sorted(set(have) | set(wanted)):
        if have.get(rel) != wanted.get(rel):
            bad += 1
            sys.stdout.writelines(difflib.unified_diff(
                have.get(rel, "").splitlines(keepends=True), wanted.get(rel, "").splitlines(keepends=True),
                f"exercises/{rel}", f"exercises/{rel} (from solutions/{rel})"))
    if bad:
        print(f"\ncheck-exercises: {bad} file(s) out of sync with solutions/ — run 'make exercises'"
              " (the committed exercises/ is the basic track)", file=sys.stderr)
        return 1
    print(f"check-exercises: exercises/ matches solutions/ ({len(wanted)} files, basic track)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

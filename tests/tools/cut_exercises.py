#!/usr/bin/env python3
"""Generates exercises/ from solutions/ by cutting the marked regions.

In a solution file, the body a student writes sits between

    // BEGIN EXERCISE 3: make_mounts_private()
    ...the solution...
    // END EXERCISE

and becomes, in exercises/, a stub that fails with a message naming the
function, the chapter and the exercise number. Every other line is kept, so
the exercise compiles exactly as the solution does.

    cut_exercises.py --write   rewrite exercises/ from solutions/
    cut_exercises.py --check   exit 1 if exercises/ is not what --write makes

It also checks that every exercise is described in its chapter (a heading
"Exercise N" naming the function), so a student can do it from the chapter.
"""
import argparse
import difflib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
BEGIN = re.compile(r"^(\s*)// BEGIN EXERCISE (\d+): (\S+)\s*$")
END = re.compile(r"^\s*// END EXERCISE\s*$")


class CutError(Exception):
    pass


def chapter_of(stage: int) -> pathlib.Path:
    found = sorted((ROOT / "chapters").glob(f"{stage:02d}-*"))
    if len(found) != 1:
        raise CutError(f"stage {stage}: expected one chapters/{stage:02d}-* directory, found {len(found)}")
    return found[0]


def cut(text: str, path: str, chapter: str, seen: dict) -> str:
    out, region, cuts = [], None, 0
    for lineno, line in enumerate(text.splitlines(keepends=True), 1):
        if region is None:
            m = BEGIN.match(line)
            if m:
                indent, number, function = m.group(1), int(m.group(2)), m.group(3)
                if number in seen:
                    raise CutError(f"{path}:{lineno}: exercise {number} already used at {seen[number]}")
                seen[number] = (f"{path}:{lineno}", function)
                region = lineno
                cuts += 1
                out.append(f"{indent}// EXERCISE {number}: write {function} — see {chapter}/README.md, exercise {number}.\n")
                out.append(f"{indent}// Replace the line below with your code.\n")
                out.append(f'{indent}box::not_implemented("{function}", "{chapter}", {number});\n')
            elif END.match(line):
                raise CutError(f"{path}:{lineno}: END EXERCISE without BEGIN")
            else:
                out.append(line)
        elif END.match(line):
            region = None
        elif BEGIN.match(line):
            raise CutError(f"{path}:{lineno}: BEGIN EXERCISE inside the exercise begun at line {region}")
    if region is not None:
        raise CutError(f"{path}:{region}: BEGIN EXERCISE without END")
    if cuts and '#include "box/error.hpp"' not in text:
        raise CutError(f'{path}: has exercises but does not #include "box/error.hpp" (the stubs need it)')
    return "".join(out)


def generate() -> dict:
    """{relative path under exercises/: content} for every solution file."""
    files = {}
    for stage_dir in sorted((ROOT / "solutions").glob("stage*")):
        stage = int(stage_dir.name[len("stage"):])
        chapter = chapter_of(stage)
        chapter_rel = chapter.relative_to(ROOT).as_posix()
        seen = {}
        for src in sorted(p for p in stage_dir.rglob("*") if p.is_file()):
            rel = src.relative_to(ROOT / "solutions").as_posix()
            text = src.read_text()
            files[rel] = cut(text, f"solutions/{rel}", chapter_rel, seen) if src.suffix in {".cpp", ".hpp"} else text
        if seen:
            numbers = sorted(seen)
            if numbers != list(range(1, len(numbers) + 1)):
                raise CutError(f"stage {stage}: exercises are numbered {numbers}, expected 1..{len(numbers)}")
            readme = (chapter / "README.md").read_text() if (chapter / "README.md").exists() else ""
            for number, (where, function) in seen.items():
                name = function.rstrip("()")
                if not re.search(rf"^#+ .*Exercise {number}\b.*{re.escape(name)}", readme, re.M):
                    raise CutError(f"{where}: {chapter_rel}/README.md has no heading 'Exercise {number}' naming {name}")
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    args = ap.parse_args()
    try:
        wanted = generate()
    except CutError as e:
        print(f"cut_exercises: {e}", file=sys.stderr)
        return 1
    ex = ROOT / "exercises"
    have = {p.relative_to(ex).as_posix(): p.read_text() for p in ex.rglob("*") if p.is_file()} if ex.exists() else {}
    if args.write:
        for rel in set(have) - set(wanted):
            (ex / rel).unlink()
        for rel, text in wanted.items():
            (ex / rel).parent.mkdir(parents=True, exist_ok=True)
            if have.get(rel) != text:
                (ex / rel).write_text(text)
                print(f"wrote exercises/{rel}")
        return 0
    bad = 0
    for rel in sorted(set(have) | set(wanted)):
        if have.get(rel) != wanted.get(rel):
            bad += 1
            sys.stdout.writelines(difflib.unified_diff(
                have.get(rel, "").splitlines(keepends=True), wanted.get(rel, "").splitlines(keepends=True),
                f"exercises/{rel}", f"exercises/{rel} (from solutions/{rel})"))
    if bad:
        print(f"\ncheck-exercises: {bad} file(s) out of sync with solutions/ — run 'make exercises'", file=sys.stderr)
        return 1
    print(f"check-exercises: exercises/ matches solutions/ ({len(wanted)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

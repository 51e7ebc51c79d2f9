#!/usr/bin/env python3
"""Check that kiln's source folders are layered without include cycles.

Contract
--------
Every C++/CUDA source file (.h .hpp .cuh .cpp .cc .cu) under the root is scanned, except
inside hidden folders (.git, ...) and folders named build*. A file belongs to the folder that
contains it, relative to the root ("engine/gpu", "layers/conv", "base"). Only quoted includes
on their own line (^\\s*#\\s*include\\s*"...") count; kiln writes them as paths from the root,
so `#include "a/b/c.h"` is a dependency on folder "a/b". <...> includes, commented-out
includes and quoted includes that name no file under the root are ignored (the last ones
are listed with --verbose).

Rules (a folder "X" below means X and its subfolders, unless stated otherwise):
  1. No two folders include each other, unless one is an ancestor of the other
     ("layers" <-> "layers/conv" is fine). A folder including itself is fine.
  2. "base" includes nothing outside "base".
  3. "formats" includes only "formats" and "base".
  4. "engine/gpu" includes no file of an op folder "layers/<op>"; files directly in
     "layers/" (the layer contract, the registry) are allowed.
Rules 2-4 are skipped, with a note, while their folder does not exist (the restructuring
that introduces base/ is in progress).

Exit status: 0 and a summary (files, folders, folder dependency edges) when clean;
1 and one line per violation otherwise; 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Set, Tuple

SOURCE_EXTENSIONS = (".h", ".hpp", ".cuh", ".cpp", ".cc", ".cu")
QUOTED_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
ROOT_FOLDER = "."


class Example(NamedTuple):
    """One include that makes a folder depend on another: the first found, for the report."""

    including_file: str
    included_path: str

    def __str__(self) -> str:
        return "{} -> {}".format(self.including_file, self.included_path)


# (including folder, included folder) -> first include that creates the dependency.
Edges = Dict[Tuple[str, str], Example]


class Scan(NamedTuple):
    files: List[str]
    edges: Edges
    unresolved: List[Example]


# ---------------------------------------------------------------------------------------------
# Folders


def is_excluded_dir(name: str) -> bool:
    # Build trees hold generated copies and hidden folders hold tooling (.git, .baseline, ...);
    # neither is part of the layering.
    return name.startswith(".") or name.startswith("build")


def folder_of(relative_path: str) -> str:
    return os.path.dirname(relative_path) or ROOT_FOLDER


def is_within(folder: str, area: str) -> bool:
    """True when folder is area itself or one of its subfolders, at any depth."""
    return folder == area or folder.startswith(area + "/")


def is_ancestor(ancestor: str, folder: str) -> bool:
    # The root is not treated as an ancestor: it is not a layer, and exempting it would hide
    # cycles through files at the top level.
    return ancestor != ROOT_FOLDER and folder.startswith(ancestor + "/")


def to_posix(path: str) -> str:
    return path.replace(os.sep, "/")


# ---------------------------------------------------------------------------------------------
# Scanning


def find_source_files(root: str) -> List[str]:
    found = []
    for directory, subdirs, filenames in os.walk(root):
        subdirs[:] = [d for d in subdirs if not is_excluded_dir(d)]
        for filename in filenames:
            if filename.endswith(SOURCE_EXTENSIONS):
                found.append(to_posix(os.path.relpath(os.path.join(directory, filename), root)))
    return sorted(found)


def quoted_includes(path: str) -> Iterator[str]:
    with open(path, encoding="utf-8", errors="replace") as source:
        for line in source:
            match = QUOTED_INCLUDE.match(line)
            if match:
                yield match.group(1)


def resolve_include(root: str, included_path: str) -> Optional[str]:
    """The include as a root-relative path, or None when it names no scannable file."""
    relative = to_posix(os.path.normpath(included_path))
    if os.path.isabs(included_path) or relative == ".." or relative.startswith("../"):
        return None
    if any(is_excluded_dir(part) for part in relative.split("/")[:-1]):
        return None
    if not os.path.isfile(os.path.join(root, relative)):
        return None
    return relative


def scan(root: str) -> Scan:
    files = find_source_files(root)
    edges: Edges = {}
    unresolved: List[Example] = []
    for relative_file in files:
        for included_path in quoted_includes(os.path.join(root, relative_file)):
            resolved = resolve_include(root, included_path)
            if resolved is None:
                unresolved.append(Example(relative_file, included_path))
                continue
            edge = (folder_of(relative_file), folder_of(resolved))
            # Files are visited sorted and lines in order, so the kept example is stable.
            edges.setdefault(edge, Example(relative_file, included_path))
    return Scan(files, edges, unresolved)


# ---------------------------------------------------------------------------------------------
# Rules


def mutual_include_violations(edges: Edges) -> List[str]:
    violations = []
    for (source, target), example in sorted(edges.items()):
        # Each pair once, from the side that sorts first.
        if source >= target or (target, source) not in edges:
            continue
        if is_ancestor(source, target) or is_ancestor(target, source):
            continue
        back_example = edges[(target, source)]
        violations.append(
            "rule 1 (no mutual includes): {} <-> {}: {}; {}".format(
                source, target, example, back_example))
    return violations


def only_base(target: str) -> bool:
    return is_within(target, "base")


def only_formats_and_base(target: str) -> bool:
    return is_within(target, "formats") or is_within(target, "base")


def no_op_folder(target: str) -> bool:
    # Files directly in layers/ are the contract every layer implements; the op folders below
    # it are implementations the GPU runtime must reach only through the registry.
    return not target.startswith("layers/")


class LayerRule(NamedTuple):
    number: int
    subject: str  # the folder, with its subfolders, whose includes the rule restricts
    description: str
    allows: Callable[[str], bool]  # whether subject may include a file of that folder


LAYER_RULES = (
    LayerRule(2, "base", "base includes only base", only_base),
    LayerRule(3, "formats", "formats includes only formats and base", only_formats_and_base),
    LayerRule(4, "engine/gpu", "engine/gpu includes no op folder layers/<op>", no_op_folder),
)


def layer_rule_violations(rule: LayerRule, edges: Edges) -> List[str]:
    violations = []
    for (source, target), example in sorted(edges.items()):
        if is_within(source, rule.subject) and not rule.allows(target):
            violations.append("rule {} ({}): {} -> {}: {}".format(
                rule.number, rule.description, source, target, example))
    return violations


def check(root: str, edges: Edges, notes: List[str]) -> List[str]:
    violations = mutual_include_violations(edges)
    for rule in LAYER_RULES:
        if not os.path.isdir(os.path.join(root, rule.subject)):
            notes.append("note: {}/ does not exist; rule {} skipped".format(
                rule.subject, rule.number))
            continue
        violations.extend(layer_rule_violations(rule, edges))
    return violations


# ---------------------------------------------------------------------------------------------
# Report


def dependency_lines(edges: Edges) -> List[str]:
    targets_by_source: Dict[str, Set[str]] = {}
    for source, target in edges:
        if source != target:
            targets_by_source.setdefault(source, set()).add(target)
    return ["{} -> {}".format(source, ", ".join(sorted(targets)))
            for source, targets in sorted(targets_by_source.items())]


def print_summary(result: Scan) -> None:
    folders = {folder_of(path) for path in result.files}
    print("layering ok: {} files scanned in {} folders".format(len(result.files), len(folders)))
    print("folder dependencies:")
    for line in dependency_lines(result.edges):
        print("  " + line)


def default_root() -> str:
    # The script lives in <root>/tests/layering/.
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_arguments(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=default_root(),
                        help="repository root (default: two levels above this script)")
    parser.add_argument("--verbose", action="store_true",
                        help="also list quoted includes that resolve to no file")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    arguments = parse_arguments(argv)
    root = os.path.abspath(arguments.root)
    if not os.path.isdir(root):
        print("error: --root {} is not a folder".format(root), file=sys.stderr)
        return 2

    result = scan(root)
    if arguments.verbose:
        for example in result.unresolved:
            print("ignored (no such file under the root): {}".format(example))

    notes: List[str] = []
    violations = check(root, result.edges, notes)
    for note in notes:
        print(note)
    if violations:
        for violation in violations:
            print(violation)
        print("{} layering violation(s) in {} files".format(len(violations), len(result.files)))
        return 1
    print_summary(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Turn Flair's training tutorial into tagkit code, through docs/porting.md, and run it.

Used by ``tests/test_seed_tutorial.py``. Why the rules live in docs/porting.md and not here:
the page users read to port their code is then the very mapping CI proves, so the two cannot
drift apart. This module only reads that page's tables:

* *Import mapping*: ``flair.X.Name`` -> ``tagkit_module.Name`` (or ``—``: the import is dropped);
* *Tutorial blocks*: block number, the block it runs after, its status (``runs`` or ``#N``:
  marked, issue N will make it run);
* *Substitutions*: exact texts replaced in a block so it runs here (fewer epochs, tiny data,
  tiny local models).

Run as a script (``python seed_tutorial.py PLAN.json RESULTS.json``) it executes a chain of
prepared blocks in one namespace, in the current folder, one result per block.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from markdown_blocks import code_blocks

__all__ = ["Porting", "Block", "Substitution", "PortingError", "read_porting", "python_blocks",
           "rewrite_imports", "substitute", "run_plan"]

FROM_IMPORT = re.compile(r"^(?P<indent>\s*)from\s+(?P<module>flair(?:\.\w+)*)\s+import\s+"
                         r"(?P<names>[^#(]+?)\s*(?P<comment>#.*)?$")
ANY_FLAIR_IMPORT = re.compile(r"^\s*(?:import\s+flair\b|from\s+flair\b)")
MARK = re.compile(r"^#(\d+)\b")
NONE = "—"


class PortingError(ValueError):
    """docs/porting.md or the tutorial is not what the test expects (names the table/row)."""


@dataclass(frozen=True)
class Block:
    number: int
    section: str
    runs_after: int | None
    issue: int | None  # None: the block runs; else the issue that will make it run


@dataclass(frozen=True)
class Substitution:
    block: int
    which: str  # "all", "1st" or "last"
    old: str
    new: str


@dataclass(frozen=True)
class Porting:
    mapping: dict[str, str | None]  # "flair.data.Corpus" -> "tagkit_core.corpus.Corpus"
    blocks: list[Block]
    substitutions: list[Substitution]


def table(markdown: str, heading: str) -> list[list[str]]:
    """The body rows (cells stripped) of the first table after ``## heading``."""
    match = re.search(rf"^## {re.escape(heading)}\s*$", markdown, re.M)
    if match is None:
        raise PortingError(f"docs/porting.md has no section '## {heading}'")
    rows: list[list[str]] = []
    for line in markdown[match.end():].splitlines():
        if line.startswith("## "):
            break
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    if len(rows) < 3:
        raise PortingError(f"docs/porting.md, '## {heading}': no table with a body")
    return rows[2:]  # past the header and the |---| line


def code(cell: str, where: str) -> str:
    """A cell's `code span`, with ``\\n`` as a line break."""
    if not (len(cell) >= 2 and cell.startswith("`") and cell.endswith("`")):
        raise PortingError(f"{where}: expected a `code` cell, got {cell!r}")
    return cell[1:-1].replace("\\n", "\n")


def read_porting(markdown: str) -> Porting:
    mapping: dict[str, str | None] = {}
    for row in table(markdown, "Import mapping"):
        flair = code(row[0], f"Import mapping row {row}")
        mapping[flair] = None if row[1] == NONE else code(row[1], f"Import mapping row {row}")
    blocks = []
    for row in table(markdown, "Tutorial blocks"):
        where = f"Tutorial blocks row {row[0]!r}"
        if len(row) < 4 or not row[0].isdigit():
            raise PortingError(f"{where}: expected | number | section | runs after | status |")
        after = None if row[2] == NONE else int(row[2])
        mark = MARK.match(row[3])
        if row[3] != "runs" and mark is None:
            raise PortingError(f"{where}: status must be 'runs' or '#ISSUE ...', got {row[3]!r}")
        blocks.append(Block(int(row[0]), row[1], after, int(mark.group(1)) if mark else None))
    substitutions = []
    for row in table(markdown, "Substitutions that only make the tutorial run here"):
        number, _, which = row[0].partition(",")
        which = which.strip() or "all"
        if not number.strip().isdigit() or which not in ("all", "1st", "last"):
            raise PortingError(f"Substitutions row {row}: block must be 'N', 'N, 1st' or "
                               f"'N, last'")
        substitutions.append(Substitution(int(number), which, code(row[1], f"Substitutions {row}"),
                                          code(row[2], f"Substitutions {row}")))
    return Porting(mapping, blocks, substitutions)


def python_blocks(markdown: str) -> list[str]:
    return code_blocks(markdown)


def substitute(source: str, block: int, substitutions: list[Substitution],
               fill: dict[str, str]) -> str:
    """Apply the block's substitutions in table order; one that finds nothing is an error."""
    for sub in (s for s in substitutions if s.block == block):
        count = source.count(sub.old)
        if count == 0:
            raise PortingError(f"block {block}: substitution text {sub.old!r} is not in the "
                               f"tutorial block any more (docs/porting.md, Substitutions)")
        new = sub.new
        for key, value in fill.items():
            new = new.replace("{" + key + "}", value)
        if sub.which == "all":
            source = source.replace(sub.old, new)
        elif sub.which == "1st":
            source = source.replace(sub.old, new, 1)
        else:
            head, _, tail = source.rpartition(sub.old)
            source = head + new + tail
    return source


def rewrite_imports(source: str, mapping: dict[str, str | None]) -> str:
    """Rewrite every ``from flair... import ...`` line; nothing else is touched."""
    out = []
    for number, line in enumerate(source.splitlines(), start=1):
        match = FROM_IMPORT.match(line)
        if match is None:
            if ANY_FLAIR_IMPORT.match(line):
                raise PortingError(f"line {number}: {line.strip()!r}: only 'from flair.X import "
                                   f"A, B' lines on one line are rewritten")
            out.append(line)
            continue
        targets: dict[str, list[str]] = {}
        for item in match["names"].split(","):
            name, _, alias = (part.strip() for part in item.partition(" as "))
            key = f"{match['module']}.{name}"
            if key not in mapping:
                raise PortingError(f"line {number}: {key} is not in docs/porting.md's import "
                                   f"mapping")
            if mapping[key] is None:
                continue  # no tagkit equivalent: dropped (a use is then a NameError)
            module, _, new_name = mapping[key].rpartition(".")
            targets.setdefault(module, []).append(
                new_name if not alias and new_name == name else f"{new_name} as {alias or name}")
        for module, names in targets.items():
            out.append(f"{match['indent']}from {module} import {', '.join(names)}")
    return "\n".join(out) + "\n"


def run_plan(plan: list[dict], results_path: Path) -> None:
    """Execute the blocks of ``plan`` in one namespace; stop at the first that raises."""
    namespace: dict = {"__name__": "__main__"}
    results = []
    for step in plan:
        stdout, start = io.StringIO(), time.perf_counter()
        try:
            with contextlib.redirect_stdout(stdout):
                exec(compile(step["code"], f"tutorial block {step['block']}", "exec"), namespace)
            results.append({"block": step["block"], "ok": True, "stdout": stdout.getvalue(),
                            "seconds": round(time.perf_counter() - start, 2)})
        except BaseException:  # noqa: BLE001 - reported to the test, which fails on it
            results.append({"block": step["block"], "ok": False, "stdout": stdout.getvalue(),
                            "error": traceback.format_exc()})
            break
    results_path.write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    run_plan(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")), Path(sys.argv[2]))

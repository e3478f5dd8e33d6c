"""A mutation pass: small wrong changes to the code, one at a time; which ones does the suite let through?

    python bench/mutation.py [--modules ranking,searching,query,dedup,dates] [--per-module 60] [--seed 1]
                             [--workdir /tmp/mutation] [--timeout 300]

For each module it lists every place where a one-token change makes plausible wrong code (a comparison
turned around or made inclusive, `+`/`-` and `*`/`/` swapped, `and`/`or` swapped, a `not` dropped, an
integer constant moved by one, a float constant halved, `True`/`False` swapped), draws `--per-module` of
them with a fixed seed, and for each one runs the module's tests (`tests/test_<module>.py` and the tests
that exercise it most, see TESTS) in a copy of the checkout with that one change. A mutant is killed when
the tests fail (or time out), survived when they pass. Survivors are printed with their place, to be read:
each is either a missing test or an equivalent change (one that cannot change behaviour).
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = {
    "ranking": ["tests/test_ranking.py", "tests/test_searching.py", "tests/test_query.py"],
    "searching": [
        "tests/test_searching.py",
        "tests/test_ranking.py",
        "tests/test_index.py",
        "tests/test_query.py",
    ],
    "query": ["tests/test_query.py", "tests/test_searching.py", "tests/test_fuzz.py"],
    "dedup": ["tests/test_dedup.py", "tests/test_indexer.py"],
    "dates": ["tests/test_dates.py", "tests/test_query.py"],
}
SWAPS = {
    ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">", ast.Eq: "!=", ast.NotEq: "==",
    ast.Add: "-", ast.Sub: "+", ast.Mult: "/", ast.Div: "*", ast.And: "or", ast.Or: "and",
}  # fmt: skip
SYMBOLS = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.And: "and", ast.Or: "or",
}  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    module: str
    line: int
    before: str
    after: str

    def describe(self) -> str:
        return f"{self.module}.py:{self.line}: {self.before.strip()} -> {self.after.strip()}"


def mutants(module: str) -> list[Mutant]:
    """Every one-token mutant of a module, as (line, line before, line after)."""
    path = REPO / "src" / "statementsearch" / f"{module}.py"
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found: list[Mutant] = []
    docstrings = _docstring_lines(ast.parse(source))
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", None)
        if line is None or line in docstrings or getattr(node, "end_lineno", line) != line:
            continue
        text = lines[line - 1]
        for old, new in _replacements(node):
            if text.count(old) == 1:
                found.append(Mutant(module, line, text, text.replace(old, new)))
    return sorted(set(found), key=lambda m: (m.line, m.after))


def _docstring_lines(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                out.update(range(value.lineno, (value.end_lineno or value.lineno) + 1))
    return out


def _replacements(node: ast.AST) -> list[tuple[str, str]]:
    """Textual (old, new) pairs for one node; applied only where `old` is unique on its line."""
    out = []
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) in SWAPS:
                out.append((f" {SYMBOLS[type(op)]} ", f" {SWAPS[type(op)]} "))
    elif isinstance(node, (ast.BinOp, ast.BoolOp)) and type(node.op) in SWAPS:
        out.append((f" {SYMBOLS[type(node.op)]} ", f" {SWAPS[type(node.op)]} "))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append(("not ", ""))
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        out.append((str(node.value), str(not node.value)))
    elif isinstance(node, ast.Constant) and type(node.value) is int and node.value < 10**7:
        out.append((repr(node.value), repr(node.value + 1)))
    elif isinstance(node, ast.Constant) and type(node.value) is float:
        out.append((repr(node.value), repr(node.value / 2)))
    return out


def run(mutant: Mutant, workdir: Path, timeout: float) -> str:
    """'killed' or 'survived' for one mutant, applied in the work copy and undone afterwards."""
    path = workdir / "src" / "statementsearch" / f"{mutant.module}.py"
    original = path.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    ending = "\n" if lines[mutant.line - 1].endswith("\n") else ""
    lines[mutant.line - 1] = mutant.after + ending
    path.write_text("".join(lines), encoding="utf-8")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *TESTS[mutant.module]],
            cwd=workdir,
            capture_output=True,
            timeout=timeout,
            env={**os.environ, "PYTHONPATH": str(workdir / "src"), "FUZZ_EXAMPLES": "20"},
        )
        return "survived" if done.returncode == 0 else "killed"
    except subprocess.TimeoutExpired:
        return "killed (timeout)"
    finally:
        path.write_text(original, encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", default=",".join(TESTS))
    ap.add_argument("--per-module", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/mutation"))
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args()
    if args.workdir.exists():
        shutil.rmtree(args.workdir)
    shutil.copytree(
        REPO, args.workdir, ignore=shutil.ignore_patterns(".venv*", ".git", "__pycache__", "*.egg-info")
    )
    totals = {}
    for module in args.modules.split(","):
        every = mutants(module)
        chosen = random.Random(f"{args.seed}:{module}").sample(every, min(args.per_module, len(every)))
        killed, survivors = 0, []
        started = time.perf_counter()
        for mutant in sorted(chosen, key=lambda m: m.line):
            verdict = run(mutant, args.workdir, args.timeout)
            if verdict.startswith("killed"):
                killed += 1
            else:
                survivors.append(mutant)
            print(f"{verdict:>16}  {mutant.describe()}", flush=True)
        totals[module] = (len(every), len(chosen), killed, survivors, time.perf_counter() - started)
    print("\n| module | mutants | tried | killed | survived |\n|---|---:|---:|---:|---:|")
    for module, (every_count, tried, killed, survivors, _) in totals.items():
        print(f"| {module} | {every_count} | {tried} | {killed} | {len(survivors)} |")
    for _, _, _, survivors, _ in totals.values():
        for mutant in survivors:
            print(f"survived: {mutant.describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The README's Embedding example runs as written, and its two set-up commands stay what CI runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_embedding_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    section = README.split("## Embedding", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    shutil.copytree(ROOT / "documents", tmp_path / "documents")
    monkeypatch.chdir(tmp_path)
    exec(compile(code.group(1), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "<mark>Quds</mark> <mark>Force</mark>" in out
    assert "000_fb62ce4d62dc1888.txt#1" in out


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.findall(r"```sh\n(.*?)\n```", README)
    assert len(commands) >= 2
    test_command = commands[1]
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_guarantees_name_tests_that_exist() -> None:
    """Each test the Guarantees section names exists; the known gaps it lists are marked xfail."""
    section = README.split("## Guarantees", 1)[1].split("\n## ", 1)[0]
    promises, gaps = section.split("Known gaps", 1)
    for part, must_be_xfail in ((promises, False), (gaps, True)):
        named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", part)
        assert named or must_be_xfail
        for path, name in named:
            source = (ROOT / path).read_text(encoding="utf-8")
            match = re.search(rf"((?:@.*\n|    .*\n|\)\n)*)def {name}\(", source)
            assert match is not None, f"{path}::{name} does not exist"
            assert ("xfail" in match.group(1)) == must_be_xfail, f"{path}::{name}"

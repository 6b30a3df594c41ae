"""The README's commands and example must stay true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def fenced_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.MULTILINE | re.DOTALL)


def test_readme_commands_are_the_ones_ci_runs() -> None:
    commands = [block.strip() for block in fenced_blocks("bash")]
    assert "pip install '.[demo]' && daskgd demo" in commands
    assert "pip install '.[test]' && python -m pytest -x -q" in commands
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^python -m pytest -x -q$", ci, re.MULTILINE)


@pytest.mark.slow
def test_readme_example_runs(tmp_path: Path) -> None:
    (example,) = fenced_blocks("python")
    assert len(example.strip().splitlines()) <= 11
    script = tmp_path / "readme_example.py"
    script.write_text(example, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # Five predicted labels, the iteration count and a finite objective.
    assert re.match(r"^\[[\d.\s]+\] \S+ \d+\.\d+", result.stdout), result.stdout

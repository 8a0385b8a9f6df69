"""docs/cli.md stays true: its ``tagkit init`` commands run, its ``tagkit train`` commands
validate (``--check``), and each error it shows is the error tagkit prints."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tagkit_core.cli import main

PAGE = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
CONSOLE = re.compile(r"^```console\n(.*?)^```", re.S | re.M)


def documented_runs() -> list[tuple[list[str], list[str]]]:
    """Each ``$ tagkit ...`` line of the console blocks, with the output lines shown after it."""
    runs: list[tuple[list[str], list[str]]] = []
    for block in CONSOLE.findall(PAGE.read_text(encoding="utf-8")):
        for line in block.splitlines():
            if line.startswith("$ tagkit "):
                runs.append((shlex.split(line[2:], comments=True)[1:], []))
            elif runs:
                runs[-1][1].append(line)
    return runs


def test_cli_page_commands_run_and_its_errors_are_real(cli_runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(PAGE.parents[1] / "examples")
    checked = 0
    for args, shown in documented_runs():
        if args[0] == "resume":
            continue  # needs a trained run; tests/test_cli_init_resume.py covers it
        if args[0] == "train":
            args = [*args, "--check"]
        result = cli_runner.invoke(main, args)
        errors = [line for line in shown if line.startswith("Error: ")]
        if errors:
            assert result.exit_code == 1
            assert result.stderr.splitlines() == errors
        else:
            assert result.exit_code == 0, (args, result.output)
        checked += 1
    assert checked >= 5

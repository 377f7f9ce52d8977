"""ruff (pyflakes, bugbear, import order, pyupgrade, simplify, returns) and ruff format over the code base,
and the pre-commit configuration that runs them (with mypy) before every commit."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

from testkit import REPO

BIN = Path(sys.executable).parent
CODE = ["layers", "functions", "tests", "scripts", "benchmarks"]


def _run(*command: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, env={**os.environ, **env})


def test_ruff_is_clean():
    result = _run(str(BIN / "ruff"), "check", "--output-format", "concise", *CODE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_nothing_to_change():
    result = _run(str(BIN / "ruff"), "format", "--check", *CODE)
    assert result.returncode == 0, result.stdout + result.stderr + "\nrun `.venv/bin/ruff format " + " ".join(CODE) + "`"


def test_the_pre_commit_hooks_are_the_tools_ci_runs(tmp_path):
    """Valid for pre-commit, local (offline: the project's .venv) and the same three tools: a hook cannot
    drift to a tool or a rule set CI does not run. (Not run here: ruff's hooks fix files in place.)"""
    result = _run(str(BIN / "pre-commit"), "validate-config", ".pre-commit-config.yaml", PRE_COMMIT_HOME=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    [repo] = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())["repos"]
    assert repo["repo"] == "local"
    entries = {hook["id"]: hook["entry"] for hook in repo["hooks"]}
    assert entries == {"ruff-format": ".venv/bin/ruff format", "ruff-check": ".venv/bin/ruff check --fix", "mypy": ".venv/bin/mypy"}

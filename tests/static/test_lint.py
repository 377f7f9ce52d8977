"""ruff (pyflakes, bugbear, import order) over the code base: unused names and likely bugs fail CI."""

import subprocess
import sys
from pathlib import Path

from testkit import REPO


def test_ruff_is_clean():
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run([str(ruff), "check", "--output-format", "concise", "layers", "functions", "tests", "scripts", "benchmarks"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

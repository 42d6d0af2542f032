"""The ``spikenet`` console script."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from spikenet.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_cli_requires_a_command(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "demo" in capsys.readouterr().err


def test_cli_help_lists_demo_and_bench(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "demo" in out and "bench" in out


def test_console_script_entry_point_runs_as_module():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "spikenet.cli", "--help"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "demo" in proc.stdout

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


def test_cli_aot_rejects_unknown_dtypes(capsys, tmp_path):
    assert main(["aot", "--out", str(tmp_path), "--dtypes", "float64,float16"]) == 2
    assert "dtypes" in capsys.readouterr().err
    assert not (tmp_path / "manifest.json").exists()


def test_cli_aot_reports_an_unwritable_folder(capsys, tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    assert main(["aot", "--out", str(not_a_folder / "aot")]) == 2
    assert "writable folder" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_aot_builds_the_common_configurations(tmp_path, monkeypatch, capsys):
    import json

    import numpy as np

    from spikenet.sim import LIF, Network, PSCFilter, aot

    assert main(["aot", "--out", str(tmp_path), "--dtypes", "float64"]) == 0
    assert str(tmp_path) in capsys.readouterr().out
    kernels = json.loads((tmp_path / "manifest.json").read_text())["kernels"]
    assert len(kernels) == 6  # recording or not x uniform, per-synapse or dense weights
    # A CUBA-like network of another size is served by the module.
    monkeypatch.setenv(aot.ENV_VAR, str(tmp_path))
    net = Network(dt=1e-4, seed=0)
    E = net.add_population(80, LIF(), bias=1.1, init={"v": np.linspace(0, 1, 80)})
    net.connect(E, E, 1e-4, synapse=PSCFilter(0.005), p=0.1)
    net.run(0.01)
    assert aot.lookup(net._kernel_key) is not None

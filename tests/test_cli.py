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
    assert aot.lookup(net.kernel_key) is not None


def _pyproject_version():
    import re

    text = (ROOT / "pyproject.toml").read_text()
    return re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE).group(1)


def test_cli_version_is_the_installed_package_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out == f"spikenet {version('spikenet')}"
    assert out == f"spikenet {_pyproject_version()}"


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"], ["aot", "--help"], ["bench", "--help"]])
def test_cli_help_is_plain_text_without_markup(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ")
    assert "`" not in out and ":func:" not in out and ":mod:" not in out


@pytest.mark.parametrize("cold", [True, False])
def test_cli_demo_announces_compilation_only_on_a_cold_cache(monkeypatch, capsys, tmp_path, cold):
    import spikenet.cli as cli
    import spikenet.demo

    calls = []
    monkeypatch.setattr(cli, "kernel_cache_is_empty", lambda: cold)
    monkeypatch.setattr(spikenet.demo, "run_demo", lambda out, quick: calls.append(out))
    assert main(["demo", "--out", str(tmp_path), "--quick"]) == 0
    assert calls == [tmp_path]
    captured = capsys.readouterr()
    assert (cli.COMPILE_NOTICE in captured.err) is cold
    assert captured.err.count("compiling") == int(cold)
    assert "compiling" not in captured.out


_CACHE_PROBE = """
import sys
from spikenet.cli import kernel_cache_is_empty
print(kernel_cache_is_empty())
if sys.argv[1] == "compile":
    from spikenet.sim.kernels.hh import hh_rates_array
    import numpy as np
    hh_rates_array(np.zeros(3))
"""


def test_kernel_cache_is_empty_until_a_kernel_is_compiled(tmp_path):
    # An empty NUMBA_CACHE_DIR is a fresh installation's cache; compiling one
    # cached kernel there makes the next process see a warm cache.
    env = dict(os.environ, PYTHONPATH=str(ROOT), NUMBA_CACHE_DIR=str(tmp_path / "numba"))

    def probe(action):
        proc = subprocess.run([sys.executable, "-c", _CACHE_PROBE, action], env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.split()

    assert probe("compile") == ["True"]
    assert any((tmp_path / "numba").rglob("*.nbi"))
    assert probe("look") == ["False"]


def test_readme_says_how_to_get_the_cpu_build_of_torch_and_keeps_the_two_commands():
    from packaging.specifiers import SpecifierSet

    readme = (ROOT / "README.md").read_text()
    assert 'python -m pip install "torch==2.13.0" -e . && spikenet demo' in readme
    assert 'python -m pip install "torch==2.13.0" -e ".[test]" && python -m pytest' in readme
    assert '"torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu' in readme
    # the note's claim: the CPU wheel's local version satisfies the commands' pin (PEP 440)
    assert "2.13.0+cpu" in SpecifierSet("==2.13.0")

"""The speed regression check runs an earlier revision's package with this checkout's workers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from benchmarks import regression as R


def _has_git_history() -> bool:
    probe = subprocess.run(["git", "-C", str(R.REPO), "rev-parse", "HEAD"], capture_output=True)
    return probe.returncode == 0


needs_git = pytest.mark.skipif(not _has_git_history(), reason="needs the git repository")


@needs_git
def test_extracted_baseline_package_is_the_one_a_worker_imports(tmp_path):
    dest = R.extract_package("HEAD", tmp_path / "base")
    env = dict(os.environ, PYTHONPATH=str(dest) + os.pathsep + str(R.REPO))
    out = subprocess.run([sys.executable, "-c", "import spikenet, benchmarks; print(spikenet.__file__);"
                          "print(benchmarks.__file__)"], env=env, capture_output=True, text=True, check=True,
                         cwd=tmp_path)
    spikenet_file, benchmarks_file = out.stdout.split()
    assert spikenet_file.startswith(str(dest))
    assert benchmarks_file.startswith(str(R.REPO))


@needs_git
def test_unknown_revision_is_refused_naming_the_baseline(tmp_path):
    with pytest.raises(ValueError, match="baseline 'no-such-revision-xyz'"):
        R.extract_package("no-such-revision-xyz", tmp_path / "base")


def test_case_names_are_parsed_or_refused():
    case = R.parse_case("cuba-4000")
    assert (case.kind, case.n) == ("cuba", 4000)
    for bad in ("cuba", "izh-100", "lif-x"):
        with pytest.raises(ValueError, match="case"):
            R.parse_case(bad)


def test_verdict_allows_exactly_the_tolerance():
    assert R.verdict({"median": 1.049, "min": 1.0, "max": 1.1, "n": 4}, 0.05) == "pass"
    assert R.verdict({"median": 1.051, "min": 1.0, "max": 1.1, "n": 4}, 0.05) == "FAIL"
    assert R.verdict(None, 0.05) == "no data"


def test_exit_status_fails_on_a_slow_check_and_is_invalid_on_loaded_runs():
    ok = {"valid": True, "verdict": "pass"}
    slow = {"valid": True, "verdict": "FAIL"}
    loaded = {"valid": False, "verdict": "pass"}
    assert R.exit_status({"checks": [ok, ok]}) == 0
    assert R.exit_status({"checks": [ok, slow]}) == 1
    assert R.exit_status({"checks": [slow, loaded]}) == 2


@needs_git
def test_regression_run_against_head_measures_both_sides(tmp_path):
    report = R.run_regression("HEAD", ["lif-200"], rounds=2, cold_rounds=0, workdir=tmp_path,
                              log=lambda s: None)
    (check,) = report["checks"]
    assert check["valid"], check["runs"]
    assert [r["side"] for r in check["runs"]] == ["baseline", "new", "new", "baseline"]
    assert check["ratio"]["n"] == 2 and check["ratio"]["median"] > 0
    # each side really ran its own package
    for r in check["runs"]:
        expected = tmp_path / "baseline-src" if r["side"] == "baseline" else R.REPO
        assert r["package"].startswith(str(expected)), r
    assert "lif-200" in R.format_report(report)

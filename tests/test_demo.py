"""``spikenet demo`` end to end, as a user runs it from a shell."""

import os
import subprocess
import sys
from pathlib import Path

from spikenet.demo import STEPS

ROOT = Path(__file__).resolve().parents[1]


def test_demo_command_runs_every_step_and_writes_figures(tmp_path):
    out = tmp_path / "demo"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-m", "spikenet.cli", "demo", "--quick", "--out", str(out)],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    # Every registered step announces itself, in order, and the tour ends by
    # saying where the figures are.
    positions = [proc.stdout.find(f"== {title}") for title, _ in STEPS]
    assert all(p >= 0 for p in positions), proc.stdout
    assert positions == sorted(positions)
    assert f"Figures written to {out.resolve()}" in proc.stdout
    pngs = sorted(out.glob("*.png"))
    # At least one figure per step, none of them empty.
    assert len(pngs) >= len(STEPS)
    assert all(p.stat().st_size > 1000 for p in pngs)

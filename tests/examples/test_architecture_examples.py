"""Run the architecture example scripts with --quick (one subprocess for all of them)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = {
    "hopfield.py": ("hopfield_letters.png", "hopfield_capacity.png"),
    "autoencoder.py": ("autoencoder_binary_world.png", "autoencoder_denoising.png"),
    "vae.py": ("vae_latent_grid.png",),
    "rnn.py": ("rnn.png",),
    "gan.py": ("gan.png",),
    "adversarial.py": ("adversarial_digits.png", "adversarial_robustness.png"),
}

# Importing torch costs seconds, so one interpreter runs every script in turn, each exactly as
# ``python examples/<script> --quick --out <dir>`` would.
DRIVER = """
import runpy, sys, time
import torch
torch.set_num_threads(1)
out = sys.argv[1]
for script in sys.argv[2:]:
    t0 = time.perf_counter()
    sys.argv = [script, "--quick", "--out", out]
    runpy.run_path(script, run_name="__main__")
    print(f"== {script} took {time.perf_counter() - t0:.1f} s", flush=True)
"""


def test_architecture_examples_run_quick_and_save_figures(tmp_path):
    scripts = [str(ROOT / "examples" / name) for name in SCRIPTS]
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp_path), *scripts],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for figures in SCRIPTS.values():
        for figure in figures:
            assert (tmp_path / figure).stat().st_size > 5_000, figure
    # Each script prints the numbers behind its claims.
    for text in ("recall rate", "orthogonal set: X W == 3 X: True", "bits wrong", "denoising",
                 "test ELBO", "next element of 0, 2, 4, 6", "delayed recall", "modes covered",
                 "targeted success rate", "CNN: test accuracy"):
        assert text in proc.stdout, text

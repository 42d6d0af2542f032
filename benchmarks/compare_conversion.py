"""The converted digits network: this checkout's bridge against another commit's, in alternating rounds.

Loads ``spikenet/rate/convert.py`` of ``--commit`` (git must be available)
beside the current one, in one process, and times ``run`` on the 450 test
images for each case in turn, round after round, so that both sides see
the same load. Prints accuracy, the median wall and CPU time per case, and
the load average before and after. Ratios measured under load hold only
against each other, not against other machines or libraries.

Run ``python -m benchmarks.compare_conversion --commit REV [--threads N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_convert(commit):
    """``spikenet/rate/convert.py`` of ``commit`` as a module (it imports the current ``spikenet.sim``)."""
    src = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{commit}:spikenet/rate/convert.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "convert_at_commit.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("convert_at_commit", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", required=True, help="git revision of the other side")
    parser.add_argument("--threads", type=int, default=1, help="Numba and torch threads")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    import numba
    import torch

    from spikenet.rate import to_spiking
    from spikenet.rate._digits_model import accuracy, trained_digits_model

    numba.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    other = load_convert(args.commit)
    model, (_, _, X, y) = trained_digits_model(hidden=(128,), epochs=30, seed=0)
    x = X.numpy()
    old, new = other.to_spiking(model), to_spiking(model)
    cases = {
        "commit, 200 steps": (old, 0.2),
        "commit, 25 steps": (old, 0.025),
        "this, 5 steps": (new, 0.005),
        "this, 10 steps": (new, 0.010),
        "this, 25 steps": (new, 0.025),
        "this, 200 steps": (new, 0.2),
    }
    acc = {k: accuracy(m.run(x, T), y) for k, (m, T) in cases.items()}  # also warms up
    wall = {k: [] for k in cases}
    cpu = {k: [] for k in cases}
    load0 = os.getloadavg()[0]
    for _ in range(args.rounds):
        for k, (m, T) in cases.items():
            t0, c0 = time.perf_counter(), time.process_time()
            m.run(x, T)
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.process_time() - c0)
    load1 = os.getloadavg()[0]
    print(f"{args.threads} thread(s), {args.rounds} rounds, "
          f"load average {load0:.2f} before, {load1:.2f} after")
    for k in cases:
        w, c = statistics.median(wall[k]), statistics.median(cpu[k])
        print(
            f"{k:18s} accuracy {100 * acc[k]:5.1f}%  wall {1e3 * w:8.2f} ms ({len(x) / w:8.0f} images/s)"
            f"  cpu {1e3 * c:8.2f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``spikenet demo``: a short guided tour of the toolkit.

Each step simulates something real, saves its figure(s) into the output
folder and returns lines for the printed summary. Steps live in
``spikenet/_demo_steps/`` (one module per topic) and are listed in ``STEPS``.
"""

from __future__ import annotations

import time
from pathlib import Path

# (title, "module:function") in the order the tour runs them.
STEPS: list[tuple[str, str]] = [
    ("Single neurons: Hodgkin-Huxley and LIF", "spikenet._demo_steps.neurons:step"),
    ("Networks: a CUBA network of LIF populations", "spikenet._demo_steps.network:step"),
    ("Rate models: learning by gradient descent", "spikenet._demo_steps.rate_learning:step"),
    # The bridge stays last: it builds on every earlier topic.
    ("The bridge: a digits rate network run as spiking LIF neurons", "spikenet._demo_steps.bridge:step"),
]


def run_demo(out: Path | str = "spikenet-demo", quick: bool = False) -> list[str]:
    """Run every demo step, write figures into ``out`` and print a summary.

    Parameters
    ----------
    out : path-like
        Output folder, created if missing.
    quick : bool
        Use smaller sizes (for tests).

    Returns
    -------
    list of str
        The summary lines that were printed.
    """
    import importlib

    import matplotlib

    matplotlib.use("Agg")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary: list[str] = []
    for title, target in STEPS:
        module, func = target.split(":")
        t0 = time.perf_counter()
        print(f"== {title}", flush=True)
        lines = getattr(importlib.import_module(module), func)(out, quick=quick)
        lines = [f"  {line}" for line in lines]
        lines.append(f"  ({time.perf_counter() - t0:.1f} s)")
        print("\n".join(lines), flush=True)
        summary += [f"== {title}", *lines]
    print(f"Figures written to {out.resolve()}")
    return summary

"""Demo step: a small CUBA network (Brette et al. 2007) and its spike raster."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def step(out: Path, quick: bool) -> list[str]:
    """Simulate a CUBA network, save its raster, return summary lines.

    Parameters
    ----------
    out : pathlib.Path
        Folder for the figure ``network_raster.png``.
    quick : bool
        1000 neurons for 0.2 s instead of 4000 for 1 s.

    Returns
    -------
    list of str
        Summary lines (sizes, rates, CVs, run time, file name).
    """
    import matplotlib.pyplot as plt

    from spikenet import plot
    from spikenet.plot import save_figure
    from spikenet.sim import cv
    from spikenet.sim.cuba import cuba_network

    n, T = (1000, 0.2) if quick else (4000, 1.0)
    net = cuba_network(n=n, p=80 / n, seed=1)
    t0 = time.perf_counter()
    res = net.run(T)
    elapsed = time.perf_counter() - t0
    fig, ax = plt.subplots(figsize=(8, 4))
    lines = [f"CUBA network: {n} LIF neurons, ~80 synapses each, {T:g} s in {elapsed:.2f} s"]
    for name in ("exc", "inh"):
        lines.append(f"{name}: {res.rates(name).size} neurons, mean rate {res.rates(name).mean():.2f} Hz, "
                     f"mean ISI CV {np.nanmean(cv(res.spike_times[name])):.2f}")
    plot.raster(res, ["exc", "inh"], max_neurons=[200, 50], ax=ax, colors=["tab:blue", "tab:red"])
    ax.set_ylabel("neuron (first 200 exc, 50 inh)")
    ax.set_title("CUBA network raster")
    path = save_figure(fig, Path(out) / "network_raster.png", quick=quick)
    lines.append(f"figure: {path.name}")
    return lines

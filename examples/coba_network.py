"""The COBA network of Brette et al. (2007): conductance synapses, spike raster, rates and ISI CVs.

Benchmark 1 of Brette et al. (2007), after Vogels & Abbott (2005): 4000 LIF
neurons (80 % excitatory), each pair connected with probability 0.02
through exponential *conductances* (5 ms excitatory towards 0 mV, 10 ms
inhibitory towards -80 mV), no external drive: the activity, started by
random initial voltages and conductances, sustains itself. The published
parameters are mapped to the normalised LIF model as documented in
``spikenet.sim.coba``. Saves a raster of a subset of neurons with the
population rates, and the distributions of the neurons' rates and ISI CVs.

Run ``python examples/coba_network.py [--out DIR] [--quick] [--seed S]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikenet import plot
from spikenet.plot import save_figure
from spikenet.sim import cv
from spikenet.sim.coba import coba_network


def main(argv=None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="1000 neurons for 0.3 s")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    n, T = (1000, 0.3) if args.quick else (4000, 1.0)
    net = coba_network(n=n, p=80 / n, seed=args.seed)  # about 80 synapses per neuron
    t0 = time.perf_counter()
    res = net.run(T)
    elapsed = time.perf_counter() - t0

    pops, colors = ["exc", "inh"], ["tab:blue", "tab:red"]
    fig, (ax_r, ax_p) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, height_ratios=(3, 1))
    plot.raster(res, pops, max_neurons=[400, 100], ax=ax_r, colors=colors)
    plot.population_rate(res, pops, bin_width=1e-3, smooth=0.005, ax=ax_p, colors=colors)
    summary = []
    for name in pops:
        mean = res.rates(name).mean()
        cvs = np.nanmean(cv(res.spike_times[name]))
        summary.append(f"{name} {mean:.1f} Hz, CV {cvs:.2f}")
        print(f"{name}: mean rate {mean:.2f} Hz, mean ISI CV {cvs:.2f}")
    ax_r.set_ylabel("neuron (first 400 exc, 100 inh)")
    ax_r.set_xlabel("")
    ax_r.set_title(f"COBA network, {n} neurons, {T:g} s simulated in {elapsed:.2f} s")
    ax_p.set_title("population rates (Gaussian smoothing, 5 ms): " + "; ".join(summary), fontsize="medium")
    paths = [save_figure(fig, args.out / "coba_network_raster.png", quick=args.quick, dpi=100)]

    fig, (ax_f, ax_c) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, color in zip(pops, colors):
        ax_f.hist(res.rates(name), bins=30, histtype="step", color=color, density=True, label=name)
        cvs = np.asarray(cv(res.spike_times[name]))
        ax_c.hist(cvs[np.isfinite(cvs)], bins=30, histtype="step", color=color, density=True, label=name)
    ax_f.set_xlabel("firing rate (Hz)")
    ax_f.set_ylabel("density")
    ax_f.set_title("rates of single neurons")
    ax_c.set_xlabel("ISI coefficient of variation")
    ax_c.set_title("irregularity (CV 1: Poisson-like)")
    ax_f.legend()
    fig.tight_layout()
    paths.append(save_figure(fig, args.out / "coba_network_stats.png", quick=args.quick, dpi=100))
    for path in paths:
        print(f"wrote {path}")
    return paths


if __name__ == "__main__":
    main()

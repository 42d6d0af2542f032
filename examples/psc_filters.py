"""Post-synaptic current filters and a spike train filtered into a current.

Synapses as filters (Dayan & Abbott 2001, ch. 5): the PSC kernels
``h(t) = t^n e^{-t/tau_s} / (n! tau_s^{n+1})`` for n = 0, 1, 2 with a fast
AMPA-like (tau_s = 5 ms) and a slow NMDA-like (tau_s = 100 ms) time constant,
each with unit area, and a spike train ``a(t) = sum_p delta(t - t_p)`` turned
into the current ``s(t) = (a * h)(t) = sum_p h(t - t_p)``.

Run ``python examples/psc_filters.py [--out DIR] [--quick]``; figures go to
``DIR`` (default ``examples/output/``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikenet.plot import save_figure
from spikenet.sim import PSCFilter, poisson_spikes

FAST_TAU = 0.005  # AMPA-like
SLOW_TAU = 0.100  # NMDA-like


def plot_kernels(out: Path) -> Path:
    """Kernels n = 0, 1, 2 for the fast and the slow synapse (the same with or without --quick)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), layout="constrained")
    for ax, tau, label, T in ((axes[0], FAST_TAU, "AMPA-like", 0.05), (axes[1], SLOW_TAU, "NMDA-like", 1.0)):
        t = np.linspace(0, T, 1000)
        for n in (0, 1, 2):
            ax.plot(t * 1e3, PSCFilter(tau, n).kernel(t), label=f"n = {n}")
        ax.set_title(f"{label}: tau_s = {tau * 1e3:g} ms")
        ax.set_xlabel("time since the spike (ms)")
        ax.set_ylabel("h(t) (1/s)")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper", title="kernel order")
    return save_figure(fig, out / "psc_filters_kernels.png", dpi=100)


def plot_filtered_train(out: Path, quick: bool) -> Path:
    """A Poisson spike train and its currents through the fast and slow filters, n = 0, 1, 2."""
    dt = 1e-4
    T = 0.5 if quick else 2.0
    raster = poisson_spikes(20.0, T, dt, n=1, seed=0)[:, 0]
    t = np.arange(raster.size) * dt
    fig, axes = plt.subplots(3, 1, figsize=(11, 6), sharex=True, layout="constrained")
    axes[0].eventplot(t[raster], colors="k")
    axes[0].set_ylabel("spikes")
    axes[0].set_yticks([])
    for ax, tau, label in ((axes[1], FAST_TAU, "AMPA-like"), (axes[2], SLOW_TAU, "NMDA-like")):
        for n in (0, 1, 2):
            ax.plot(t, PSCFilter(tau, n).apply(raster, dt), label=f"n = {n}")
        ax.set_ylabel(f"{label}\ncurrent (1/s)")
    fig.legend(*axes[1].get_legend_handles_labels(), loc="outside right upper", title="kernel order")
    axes[-1].set_xlabel("time (s)")
    axes[-1].set_xlim(0, T)
    axes[0].set_title(f"{int(raster.sum())} Poisson spikes (20 Hz) filtered into currents")
    return save_figure(fig, out / "psc_filters_filtered_train.png", quick=quick, dpi=100)


def main(argv=None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="shorter spike train")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    paths = [plot_kernels(args.out), plot_filtered_train(args.out, args.quick)]
    for p in paths:
        print(f"wrote {p}")
    return paths


if __name__ == "__main__":
    main()

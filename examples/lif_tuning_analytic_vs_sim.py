"""LIF tuning curve: the analytic rate G(J) against rates measured by simulation.

The steady-state rate of the normalised LIF neuron (Lapicque 1907; Eliasmith &
Anderson 2003),
``G(J) = 1 / (tau_ref - tau_m ln(1 - 1/J))``, for the typical cortical values
``tau_ref = 2 ms``, ``tau_m = 20 ms`` (and a faster neuron for comparison),
with the rates that :func:`spikenet.rate.tuning_curve` measures by simulating
one spiking LIF neuron per input (dt = 0.1 ms). A second panel shows the
smoothed SoftLIF curve used for training near the threshold corner, for
several ``sigma``, and a third the relative error of the simulated points.

Run ``python examples/lif_tuning_analytic_vs_sim.py [--out DIR] [--quick]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from spikenet.plot import save_figure
from spikenet.rate import lif_rate, soft_lif_rate, tuning_curve
from spikenet.sim import LIF


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="fewer points, 0.3 s runs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    n_pts, T = (15, 0.3) if args.quick else (40, 1.0)
    J_dense = np.linspace(0, 6, 1201)
    J_sim = np.concatenate([[0.5, 1.0], np.geomspace(1.02, 6, n_pts)])

    fig, (ax, ax_soft, ax_err) = plt.subplots(1, 3, figsize=(15, 4.5))
    for (tau_ref, tau_m), color in (((0.002, 0.02), "tab:blue"), ((0.001, 0.01), "tab:orange")):
        neuron = LIF(tau_m=tau_m, tau_ref=tau_ref)
        measured = tuning_curve(neuron, J_sim, T=T, dt=1e-4)
        analytic = lif_rate(J_sim, tau_ref=tau_ref, tau_m=tau_m)
        label = f"tau_ref = {tau_ref * 1e3:g} ms, tau_m = {tau_m * 1e3:g} ms"
        ax.plot(J_dense, lif_rate(J_dense, tau_ref=tau_ref, tau_m=tau_m), c=color, label=f"G(J), {label}")
        ax.plot(J_sim, measured, "o", c=color, ms=4, mfc="none", label="simulated (dt = 0.1 ms)")
        above = analytic > 0
        rel = np.abs(measured[above] / analytic[above] - 1)
        ax_err.semilogy(J_sim[above], np.maximum(rel, 1e-16), "o-", c=color, ms=3, label=label)
        print(f"{label}: max relative error of the simulated rates {rel.max():.2e}")
    ax.axhline(500, ls=":", c="gray")
    ax.text(0.1, 480, "1 / tau_ref", va="top", color="gray")
    ax.set(xlabel="input drive J", ylabel="rate (Hz)", title="LIF tuning curve")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, 0.86))

    x = torch.linspace(0.5, 2.0, 601, dtype=torch.float64)
    ax_soft.plot(x, lif_rate(x), c="k", lw=2, label="LIF")
    for sigma in (0.1, 0.05, 0.02, 0.005):
        ax_soft.plot(x, soft_lif_rate(x, sigma=sigma), label=f"SoftLIF sigma = {sigma:g}")
    ax_soft.set(xlabel="input drive J", ylabel="rate (Hz)", title="SoftLIF smooths the corner at J = 1")
    ax_soft.legend(fontsize=8)

    ax_err.set(
        xlabel="input drive J", ylabel="|simulated / analytic - 1|", title="simulated vs analytic rate"
    )
    ax_err.legend(fontsize=8)
    path = save_figure(fig, args.out / "lif_tuning_analytic_vs_sim.png", quick=args.quick, dpi=100)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

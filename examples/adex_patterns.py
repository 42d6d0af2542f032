"""Firing patterns of the adaptive exponential integrate-and-fire neuron (Naud et al. 2008).

The eight parameter sets of Naud et al. (2008), Table 1, each under its own
step of current from 20 ms: tonic spiking, adaptation, initial burst,
regular bursting, delayed accelerating, delayed regular bursting, transient
spiking and irregular spiking. For each, the voltage and the adaptation
current over time and the trajectory in the (v, w) plane. Integrated at
dt = 0.1 ms by spikenet's RK4 with substeps; the exponential upstroke is
followed to its divergence without overflow.

Run ``python examples/adex_patterns.py [--out DIR] [--quick]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikenet.plot import save_figure
from spikenet.sim import AdEx, simulate

_KEYS = ("c_m", "g_l", "e_l", "v_t", "delta_t", "tau_w", "a", "b", "v_reset", "I")
# Naud et al. (2008), Table 1: pF, nS, mV, mV, mV, s, nS, pA, mV and the step current in pA
PATTERNS = {name: dict(zip(_KEYS, values)) for name, values in {
    "tonic spiking": (200, 10, -70, -50, 2, 0.030, 2, 0, -58, 500),
    "adaptation": (200, 12, -70, -50, 2, 0.300, 2, 60, -58, 500),
    "initial burst": (130, 18, -58, -50, 2, 0.150, 4, 120, -50, 400),
    "regular bursting": (200, 10, -58, -50, 2, 0.120, 2, 100, -46, 210),
    "delayed accelerating": (200, 12, -70, -50, 2, 0.300, -10, 0, -58, 300),
    "delayed regular bursting": (100, 10, -65, -50, 2, 0.090, -10, 30, -47, 110),
    "transient spiking": (100, 10, -65, -50, 2, 0.090, 10, 100, -47, 180),
    "irregular spiking": (100, 12, -60, -50, 2, 0.130, -11, 30, -48, 160),
}.items()}
DT = 1e-4
ONSET = 0.02  # s


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="0.2 s instead of 0.5 s")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    T = 0.2 if args.quick else 0.5
    steps = round(T / DT)
    t = np.arange(steps) * DT

    fig, axes = plt.subplots(len(PATTERNS), 3, figsize=(11, 1.7 * len(PATTERNS)),
                             gridspec_kw={"width_ratios": (3, 3, 1.4)})
    for row, (name, p) in zip(axes, PATTERNS.items()):
        params = {k: float(v) for k, v in p.items() if k != "I"}
        model = AdEx(**params)
        drive = np.where(t >= ONSET, float(p["I"]), 0.0)[:, None]
        res = simulate(model, drive, T=T, dt=DT, record=("v", "w"))
        spikes = res.spike_times[0]
        v = res.v[:, 0].copy()
        v[np.minimum(np.searchsorted(t, spikes), steps - 1)] = model.v_peak  # each spike drawn to its peak
        row[0].plot(t * 1e3, v, lw=0.7)
        row[0].set_ylabel("v (mV)")
        row[0].set_title(f"{name}, I = {p['I']} pA", fontsize=9, loc="left")
        row[1].plot(t * 1e3, res.w[:, 0], lw=0.8, color="tab:orange")
        row[1].set_ylabel("w (pA)")
        row[2].plot(np.minimum(res.v[:, 0], model.v_peak), res.w[:, 0], lw=0.5, color="tab:green")
        row[2].set_xlabel("v (mV)", fontsize=8)
        row[2].set_ylabel("w (pA)", fontsize=8)
        row[2].tick_params(labelsize=7)
        isi = np.diff(spikes) * 1e3
        first = f"{isi[0]:.1f}" if isi.size else "-"
        last = f"{isi[-1]:.1f}" if isi.size else "-"
        print(f"{name}: {spikes.size} spikes, first ISI {first} ms, last ISI {last} ms")
    for ax in axes[-1, :2]:
        ax.set_xlabel("time (ms)")
    fig.suptitle(f"AdEx firing patterns (Naud et al. 2008), current step at {ONSET * 1e3:g} ms")
    path = save_figure(fig, args.out / "adex_patterns.png", quick=args.quick, dpi=80)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

"""Firing patterns of the Izhikevich (2003) neuron under a step of current.

Seven cortical and thalamic cell classes of Izhikevich (2003), each one
parameter set (a, b, c, d) of the same two-variable model: regular spiking
(RS), intrinsically bursting (IB), chattering (CH), fast spiking (FS),
low-threshold spiking (LTS), thalamo-cortical (TC) and resonator (RZ). Each
neuron rests for 20 ms, then receives a constant drive I = 10. The voltage
traces are integrated at dt = 0.1 ms by spikenet's RK4 with substeps, whose
spike times agree with solve_ivp to about a microsecond.

Run ``python examples/izhikevich_patterns.py [--out DIR] [--quick]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikenet.plot import save_figure
from spikenet.sim import Izhikevich, simulate

PATTERNS = {
    "regular spiking (RS)": (0.02, 0.2, -65.0, 8.0),
    "intrinsically bursting (IB)": (0.02, 0.2, -55.0, 4.0),
    "chattering (CH)": (0.02, 0.2, -50.0, 2.0),
    "fast spiking (FS)": (0.1, 0.2, -65.0, 2.0),
    "low-threshold spiking (LTS)": (0.02, 0.25, -65.0, 2.0),
    "thalamo-cortical (TC)": (0.02, 0.25, -65.0, 0.05),
    "resonator (RZ)": (0.1, 0.26, -65.0, 2.0),
}
DT = 1e-4
ONSET = 0.02  # s
DRIVE = 10.0


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="0.1 s instead of 0.3 s")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    T = 0.1 if args.quick else 0.3
    steps = round(T / DT)
    t = np.arange(steps) * DT
    drive = np.where(t >= ONSET, DRIVE, 0.0)[:, None]

    fig, axes = plt.subplots(len(PATTERNS), 1, figsize=(8, 1.6 * len(PATTERNS)), sharex=True)
    for ax, (name, (a, b, c, d)) in zip(axes, PATTERNS.items()):
        res = simulate(Izhikevich(a, b, c, d), drive, T=T, dt=DT, record=("v",))
        spikes = res.spike_times[0]
        v = res.v[:, 0].copy()
        v[np.minimum(np.searchsorted(t, spikes), steps - 1)] = 30.0  # each spike drawn to its peak
        ax.plot(t * 1e3, v, lw=0.8)
        ax.set_ylabel("v (mV)")
        ax.set_title(name, fontsize=9, loc="left")
        isi = np.diff(spikes) * 1e3
        first = f"{isi[0]:.1f}" if isi.size else "-"
        last = f"{isi[-1]:.1f}" if isi.size else "-"
        print(f"{name}: {spikes.size} spikes, first ISI {first} ms, last ISI {last} ms")
    axes[-1].set_xlabel("time (ms)")
    fig.suptitle(f"Izhikevich (2003) firing patterns, I = {DRIVE:g} from {ONSET * 1e3:g} ms")
    path = save_figure(fig, args.out / "izhikevich_patterns.png", quick=args.quick, dpi=90)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

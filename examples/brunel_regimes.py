"""The four regimes of Brunel's (2000) model A: rasters and population activity, as in the paper's Fig. 8.

Synchronous regular (SR, g = 3, nu_ext / nu_thr = 2), asynchronous irregular
(AI, 5, 2), synchronous irregular with fast (SI-fast, 6, 4) and with slow
oscillations (SI-slow, 4.5, 0.9), in a network of 10,000 excitatory and
2,500 inhibitory LIF neurons with voltage-jump synapses (J = 0.1 mV, delay
1.5 ms, in-degree 1,000 + 250) and external Poisson input. For each regime:
the spikes of 50 neurons and the population activity (spikes per 0.1 ms
bin) over 100 ms, and the statistics of the excitatory population after a
100 ms transient: mean rate, mean ISI CV, Fano factor of the counts in
100 ms windows, synchrony chi and the peak of the activity's spectrum.

Run ``python examples/brunel_regimes.py [--out DIR] [--quick] [--seed S]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikenet.plot import save_figure
from spikenet.sim import cv
from spikenet.sim.brunel import REGIMES, brunel_network
from spikenet.sim.stats import binned_counts, fano_factor, spectral_peak, synchrony

T_TRANSIENT = 0.1  # s
SHOW = (0.3, 0.4)  # s, the window drawn


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="2,000 + 500 neurons (in-degree 200 + 50)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    n_e, c_e = (2000, 200) if args.quick else (10000, 1000)
    J = 0.1 * 1000 / c_e  # J c_e as in the paper
    T = 0.5

    fig, axes = plt.subplots(4, 2, figsize=(11, 9), sharex=True, height_ratios=(2, 1, 2, 1))
    for k, (name, (g, eta)) in enumerate(REGIMES.items()):
        t0 = time.perf_counter()
        net = brunel_network(g=g, eta=eta, T=T, n_e=n_e, c_e=c_e, J=J, seed=args.seed)
        res = net.run(T)
        elapsed = time.perf_counter() - t0
        trains = res.spike_times["E"]
        late = [s[s >= T_TRANSIENT] for s in trains]
        rate = sum(s.size for s in late) / (n_e * (T - T_TRANSIENT))
        cvs = [cv(s) for s in late if s.size >= 3]
        freq, height = spectral_peak(late, T, t0=T_TRANSIENT)
        mean_cv = np.mean(cvs) if cvs else float("nan")
        fano = fano_factor(late, T, t0=T_TRANSIENT)
        chi = synchrony(late, T, t0=T_TRANSIENT)
        print(f"{name} (g={g:g}, nu_ext/nu_thr={eta:g}): rate {rate:.1f} Hz, ISI CV {mean_cv:.2f}, "
              f"Fano {fano:.2f}, chi {chi:.2f}, spectral peak {freq:.0f} Hz (x{height:.1f}); "
              f"built and run in {elapsed:.1f} s")
        ax_r, ax_a = axes[2 * (k // 2), k % 2], axes[2 * (k // 2) + 1, k % 2]
        for i in range(50):
            s = trains[i][(trains[i] >= SHOW[0]) & (trains[i] < SHOW[1])]
            ax_r.plot((s - SHOW[0]) * 1e3, np.full(s.size, i), "|", color="k", ms=3)
        activity = binned_counts(trains, SHOW[1], 1e-4, t0=SHOW[0]).sum(axis=0)
        ax_a.plot(np.arange(activity.size) * 0.1, activity, lw=0.6)
        ax_r.set_title(f"{name}: g = {g:g}, " + r"$\nu_{ext}/\nu_{thr}$" + f" = {eta:g}, {rate:.1f} Hz",
                       fontsize=9, loc="left")
        ax_r.set_ylabel("neuron")
        ax_a.set_ylabel("spikes / 0.1 ms")
    for ax in axes[-1]:
        ax.set_xlabel(f"time from {SHOW[0] * 1e3:g} ms (ms)")
    fig.suptitle(f"Brunel (2000) model A, {n_e} + {n_e // 4} neurons")
    path = save_figure(fig, args.out / "brunel_regimes.png", quick=args.quick, dpi=90)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

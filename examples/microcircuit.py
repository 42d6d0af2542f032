"""The Potjans & Diesmann (2014) cortical microcircuit: raster per layer, rates and ISI CVs per population.

Eight populations of LIF neurons with exponential synaptic currents, an
excitatory and an inhibitory one in each of the layers L2/3, L4, L5 and L6,
connected with the published connection probabilities, per-synapse normal
weights and delays, and a Poisson background. By default, as in NEST's
implementation, 10 % of the neurons (7,717) and 10 % of the synapses per
neuron, with weights scaled up and a DC input that keep the mean and the
variance of the input (about 3 x 10^6 synapses), 1 s of activity; the rates
and ISI CVs are measured after a 0.2 s transient and drawn beside the rates
of the full-scale model (published with NEST's implementation).
``--quick``: 2 % of the neurons for 0.3 s.

Run ``python examples/microcircuit.py [--out DIR] [--quick] [--seed S] [--n-scale F] [--k-scale F]
[--background {poisson,dc}]``.
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
from spikenet.sim.microcircuit import FULL_MEAN_RATES, POPULATIONS, microcircuit_network, microcircuit_stats

COLORS = {"E": "#595289", "I": "#af143c"}


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="2 %% of the neurons for 0.3 s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--n-scale", type=float, default=None, help="fraction of the neurons (default 0.1)")
    parser.add_argument("--k-scale", type=float, default=0.1, help="fraction of the in-degrees (default 0.1)")
    parser.add_argument("--background", choices=("poisson", "dc"), default="poisson")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    n_scale = args.n_scale or (0.02 if args.quick else 0.1)
    T, t_start = (0.3, 0.1) if args.quick else (1.0, 0.2)
    t0 = time.perf_counter()
    net = microcircuit_network(n_scale=n_scale, k_scale=args.k_scale, background=args.background, T=T,
                               seed=args.seed)
    t1 = time.perf_counter()
    res = net.run(T)
    t2 = time.perf_counter()
    st = microcircuit_stats(res, t_start=t_start)
    n_syn = sum(c.weights.nnz for c in net.connections)
    print(f"{sum(p.n for p in net.populations)} neurons, {n_syn} synapses: built in {t1 - t0:.1f} s, "
          f"{T:g} s simulated in {t2 - t1:.1f} s")
    for i, name in enumerate(POPULATIONS):
        print(f"{name}: rate {st.rates[i]:.2f} Hz (full scale: {FULL_MEAN_RATES[i]:.2f}), "
              f"ISI CV {st.cv[i]:.2f}")

    fig = plt.figure(figsize=(12, 6.5))
    grid = fig.add_gridspec(2, 2, width_ratios=(1.6, 1))
    ax_r = fig.add_subplot(grid[:, 0])
    ax_rate = fig.add_subplot(grid[0, 1])
    ax_cv = fig.add_subplot(grid[1, 1])
    # raster: populations stacked from the top (L2/3 above L6), at most 150 neurons each
    window = (max(t_start, T - 0.2), T)
    y0, ticks = 0, []
    for name in POPULATIONS:
        times, neurons, _ = res.spike_events(name)
        keep = (neurons < 150) & (times >= window[0])
        n_show = min(150, net.populations[POPULATIONS.index(name)].n)
        ax_r.scatter(times[keep] * 1e3, -(y0 + neurons[keep]), s=1.5, color=COLORS[name[-1]], lw=0)
        ticks.append((-(y0 + n_show / 2), name.replace("23", "2/3")))
        y0 += n_show + 10
    ax_r.set_yticks([t for t, _ in ticks], [lab for _, lab in ticks])
    ax_r.set_xlabel("time (ms)")
    ax_r.set_xlim(window[0] * 1e3, window[1] * 1e3)
    ax_r.set_title(f"{n_scale:.0%} of the neurons, {args.k_scale:.0%} of the in-degree, {args.background} "
                   "background (150 neurons per population)", fontsize="medium")
    x = np.arange(len(POPULATIONS))
    colors = [COLORS[name[-1]] for name in POPULATIONS]
    ax_rate.bar(x, st.rates, color=colors, yerr=st.rate_std, capsize=2)
    ax_rate.plot(x, FULL_MEAN_RATES, "k_", ms=18, mew=2, label="full scale (NEST)")
    ax_rate.set_ylabel("rate (Hz)")
    ax_rate.legend(fontsize="small")
    ax_rate.set_xticks(x, [])
    ax_cv.bar(x, st.cv, color=colors)
    ax_cv.axhline(1.0, color="gray", lw=0.8, ls="--")
    ax_cv.set_ylabel("mean ISI CV")
    ax_cv.set_xticks(x, [n.replace("23", "2/3") for n in POPULATIONS])
    fig.suptitle(f"Potjans & Diesmann (2014) microcircuit: {T:g} s in {t2 - t1:.1f} s of simulation "
                 f"(statistics from {t_start:g} s)", fontsize="medium")
    fig.tight_layout()
    path = save_figure(fig, args.out / "microcircuit.png", quick=args.quick, dpi=100)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

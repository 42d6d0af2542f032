"""The CUBA network of Brette et al. (2007): spike raster and population rates.

Connection weights between spiking populations at work: 4000 LIF neurons
(80 % excitatory), each pair connected with
probability 0.02 through exponential PSC synapses (5 ms excitatory, 10 ms
inhibitory), driven by a constant bias above threshold. The published mV
parameters are mapped to the normalised LIF model as documented in
``spikenet.sim.cuba``. Saves a raster of a subset of neurons with the
excitatory and inhibitory population rates (10 ms sliding window).

Run ``python examples/cuba_network.py [--out DIR] [--quick] [--seed S]``.
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
from spikenet.sim.cuba import cuba_network


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="1000 neurons for 0.2 s")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    n, T = (1000, 0.2) if args.quick else (4000, 1.0)
    net = cuba_network(n=n, p=80 / n, seed=args.seed)  # about 80 synapses per neuron
    t0 = time.perf_counter()
    res = net.run(T)
    elapsed = time.perf_counter() - t0

    fig, (ax_r, ax_p) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, height_ratios=(3, 1))
    pops = ["exc", "inh"]
    plot.raster(res, pops, max_neurons=[400, 100], ax=ax_r, colors=["tab:blue", "tab:red"])
    plot.population_rate(res, pops, bin_width=1e-3, smooth=0.005, ax=ax_p, colors=["tab:blue", "tab:red"])
    summary = []
    for name in pops:
        mean = res.rates(name).mean()
        cvs = np.nanmean(cv(res.spike_times[name]))
        summary.append(f"{name} {mean:.1f} Hz, CV {cvs:.2f}")
        print(f"{name}: mean rate {mean:.2f} Hz, mean ISI CV {cvs:.2f}")
    ax_r.set_ylabel("neuron (first 400 exc, 100 inh)")
    ax_r.set_xlabel("")
    ax_r.set_title(f"CUBA network, {n} neurons, {T:g} s simulated in {elapsed:.2f} s")
    ax_p.set_title("population rates (Gaussian smoothing, 5 ms): " + "; ".join(summary), fontsize="medium")
    path = save_figure(fig, args.out / "cuba_network_raster.png", quick=args.quick, dpi=100)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

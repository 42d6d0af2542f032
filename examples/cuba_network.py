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

from spikenet.sim import cv, firing_rate
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
    shown = {"exc": 400, "inh": 100}
    offset = 0
    for name, color in (("exc", "tab:blue"), ("inh", "tab:red")):
        times, neurons, _ = res.spike_events(name)
        keep = neurons < shown[name]
        ax_r.scatter(times[keep], neurons[keep] + offset, s=1, c=color, label=name)
        offset += shown[name]
        rate = firing_rate(res.spike_raster(name), net.dt, window=0.01).mean(axis=1)
        mean = res.rates(name).mean()
        cvs = np.nanmean(cv(res.spike_times[name]))
        ax_p.plot(res.t, rate, c=color, label=f"{name}: {mean:.2f} Hz, mean ISI CV {cvs:.2f}")
        print(f"{name}: mean rate {mean:.2f} Hz, mean ISI CV {cvs:.2f}")
    ax_r.set_ylabel("neuron (subset)")
    ax_r.set_title(f"CUBA network, {n} neurons, {T:g} s simulated in {elapsed:.2f} s")
    ax_r.legend(loc="upper right", markerscale=5)
    ax_p.set_ylabel("population rate (Hz)")
    ax_p.set_xlabel("time (s)")
    ax_p.legend(loc="upper right")
    fig.tight_layout()
    path = args.out / "cuba_raster.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

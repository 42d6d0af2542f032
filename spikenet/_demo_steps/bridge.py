"""Demo step: a digits classifier trained as a rate network, run as spiking LIF neurons."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def step(out: Path, quick: bool) -> list[str]:
    """Train, convert and simulate the digits network; save a figure; return summary lines.

    Parameters
    ----------
    out : pathlib.Path
        Folder for the figure ``bridge_digits.png`` (hidden-layer raster for
        one image and test accuracy against simulated time).
    quick : bool
        10 training epochs and 100 test images instead of 30 epochs and all 450.

    Returns
    -------
    list of str
        Summary lines: rate and spiking accuracy, spiking throughput, figure name.
    """
    import matplotlib.pyplot as plt
    import torch

    from spikenet import plot
    from spikenet.plot import save_figure
    from spikenet.rate import to_spiking
    from spikenet.rate._digits_model import accuracy, trained_digits_model
    from spikenet.sim import PSCFilter, raster_to_spike_times

    epochs, n_test = (10, 100) if quick else (30, None)
    t0 = time.perf_counter()
    model, (_, _, X_test, y_test) = trained_digits_model(hidden=(128,), epochs=epochs, seed=0)
    train_s = time.perf_counter() - t0
    X, y = X_test[:n_test], y_test[:n_test]
    with torch.no_grad():
        rate_acc = accuracy(model(X), y)

    # 5 ms PSC synapses at the rate network's own rates (the conversion this step plots against T)
    snn = to_spiking(model, dt=1e-3, synapse=PSCFilter(0.005), rate_scale=1.0, v_init=0.0, dtype="float64")
    snn.run(X[:2], 0.2)  # load (or compile) the network kernel before timing
    T_max = 0.3
    t0 = time.perf_counter()
    run = snn.simulate(X, T_max)
    sim_s = time.perf_counter() - t0
    Ts = np.round(np.arange(0.02, T_max + 1e-9, 0.02), 3)
    acc_T = [accuracy(run.decoded(min(0.05, T / 2), T), y) for T in Ts]
    spiking_acc = accuracy(run.decoded(0.05, 0.2), y)  # = snn.run(X, 0.2): the run is causal
    mean_rate = run.rasters[0][: round(0.2 / snn.dt)].mean() / snn.dt

    fig, (ax_r, ax_a) = plt.subplots(1, 2, figsize=(11, 4))
    hidden = raster_to_spike_times(run.rasters[0][:, 0, :], snn.dt, t0=float(run.t[0]))
    plot.raster(hidden, ax=ax_r, marker_size=3.0)
    ax_r.set(xlim=(0, T_max), ylabel="hidden neuron", title=f"128 LIF neurons, test image of a {int(y[0])}")
    ax_a.plot(Ts, 100 * np.array(acc_T), "o-", label="spiking LIF network (dt = 1 ms)")
    ax_a.axhline(100 * rate_acc, c="k", ls="--", label="rate network (SoftLIF)")
    ax_a.set(xlabel="simulated time T (s)", ylabel="test accuracy (%)", title="digits: accuracy vs T")
    ax_a.legend(loc="lower right")
    path = save_figure(fig, Path(out) / "bridge_digits.png", quick=quick)
    return [
        f"64-128-10 SoftLIF rate network trained in {train_s:.1f} s: test accuracy {100 * rate_acc:.1f}% "
        f"({len(y)} images)",
        f"converted to spiking LIF (to_spiking, dt = 1 ms, 5 ms synapses): accuracy {100 * spiking_acc:.1f}% "
        f"at T = 0.2 s, mean hidden rate {mean_rate:.1f} Hz",
        f"spiking throughput: {len(y)} images x {T_max:g} s simulated in {sim_s:.2f} s "
        f"({len(y) * T_max / 0.2 / sim_s:.0f} images/s at T = 0.2 s)",
        f"figure: {path.name}",
    ]

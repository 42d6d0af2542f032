"""Digits classifier trained as a rate network, then run as a spiking LIF network.

The bridge between rate and spiking networks (Hunsberger & Eliasmith 2015):
the LIF tuning curve serves as the activation function of a 64-128-10 network trained on the
8x8 digits (with the smoothed SoftLIF curve for gradient descent); the
trained weights then become the connection weights between spiking
LIF neurons, with the final layer reading out the synaptically filtered
spike trains (:func:`spikenet.rate.to_spiking`). Saves

- ``digits_to_spiking_hidden_raster.png``: spikes of the 128 hidden neurons for one test
  image, with the decoded outputs over time;
- ``digits_to_spiking_accuracy_vs_T.png``: test accuracy of the spiking network against
  the simulated time ``T`` (averaging from ``min(0.05, T/2)``), and against
  ``rate_scale`` at T = 0.2 s, with the rate network's accuracy as reference.

Accuracy versus T comes from one simulation of the longest T: the network is
deterministic and causal, so its first T seconds are exactly a run of length T.

Run ``python examples/digits_to_spiking.py [--out DIR] [--quick]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from spikenet import plot
from spikenet.plot import save_figure
from spikenet.rate import to_spiking
from spikenet.rate._digits_model import accuracy, trained_digits_model
from spikenet.sim import PSCFilter, raster_to_spike_times

# The conversion this example studies: 5 ms PSC synapses, neurons from reset,
# the rate network's own rates (to_spiking's defaults target short runs
# instead; see examples/digits_latency.py).
PSC = {"synapse": PSCFilter(0.005), "rate_scale": 1.0, "v_init": 0.0, "dtype": "float64"}


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="short training, 150 test images")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    epochs, n_test, T_max = (10, 150, 0.3) if args.quick else (30, None, 0.5)
    rate_scales = (0.25, 1.0, 4.0) if args.quick else (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
    model, (_, _, X_test, y_test) = trained_digits_model(hidden=(128,), epochs=epochs, seed=args.seed)
    X, y = X_test[:n_test], y_test[:n_test]
    with torch.no_grad():
        rate_acc = accuracy(model(X), y)
    print(f"rate network (SoftLIF): test accuracy {100 * rate_acc:.1f}% on {len(y)} images")

    snn = to_spiking(model, dt=1e-3, **PSC)
    t0 = time.perf_counter()
    run = snn.simulate(X, T_max)
    elapsed = time.perf_counter() - t0
    Ts = np.round(np.arange(0.02, T_max + 1e-9, 0.01), 3)
    acc_T = [accuracy(run.decoded(min(0.05, T / 2), T), y) for T in Ts]
    # decoding error relative to the rate network with the LIF curves the neurons obey
    target = snn.rate_forward(X)
    err_T = [
        np.sqrt(np.mean((run.decoded(min(0.05, T / 2), T) - target) ** 2) / np.mean(target**2)) for T in Ts
    ]
    acc_02 = accuracy(snn.run(X, 0.2), y)
    print(f"spiking network: accuracy {100 * acc_02:.1f}% at T = 0.2 s, dt = 1 ms")
    print(f"simulated {len(y)} images x {T_max} s in {elapsed:.2f} s ({len(y) / elapsed:.0f} images/s)")
    for i in range(0, len(Ts), 5):
        print(f"  T = {Ts[i]:.2f} s: accuracy {100 * acc_T[i]:.1f}%, relative output error {err_T[i]:.3f}")

    acc_scale, mean_rate = [], []
    for c in rate_scales:
        r = to_spiking(model, dt=1e-3, **{**PSC, "rate_scale": c}).simulate(X, 0.2)
        out = r.decoded(0.05, 0.2)
        acc_scale.append(accuracy(out, y))
        mean_rate.append(r.rasters[0].mean() / 1e-3)
        err = np.sqrt(np.mean((out - target) ** 2) / np.mean(target**2))
        a = 100 * acc_scale[-1]
        print(
            f"  rate_scale {c:g}: mean hidden rate {mean_rate[-1]:.1f} Hz, accuracy {a:.1f}%, "
            f"relative output error {err:.3f}"
        )

    # Raster of the hidden layer for the first correctly classified test image,
    # and its decoded outputs.
    with torch.no_grad():
        i = int(np.argmax((model(X).argmax(1) == y).numpy()))
    label = int(y[i])
    fig, (ax_r, ax_o) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, height_ratios=(3, 2))
    hidden = raster_to_spike_times(run.rasters[0][:, i, :], snn.dt, t0=float(run.t[0]))
    plot.raster(hidden, ax=ax_r, colors=["k"], marker_size=3.0)
    ax_r.set_xlabel("")
    ax_r.set(ylabel="hidden neuron", title=f"hidden-layer spikes for test image {i} (label {label})")
    for k in range(run.outputs.shape[2]):
        ax_o.plot(run.t, run.outputs[:, i, k], lw=2.5 if k == label else 0.7, label=str(k))
    ax_o.axvline(0.05, ls=":", c="gray")
    ax_o.set(xlabel="time (s)", ylabel="decoded output")
    ax_o.legend(ncol=2, fontsize=7, title="class", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    raster_path = save_figure(fig, args.out / "digits_to_spiking_hidden_raster.png", quick=args.quick,
                              dpi=100)
    print(f"wrote {raster_path}")

    fig, (ax_t, ax_e, ax_s) = plt.subplots(1, 3, figsize=(16, 4))
    ax_t.plot(Ts, 100 * np.array(acc_T), "o-", ms=3, label="spiking (dt = 1 ms)")
    ax_t.axhline(100 * rate_acc, c="k", ls="--", label="rate network")
    ax_t.set(xlabel="simulated time T (s)", ylabel="test accuracy (%)", title="accuracy vs T")
    ax_t.legend()
    ax_e.loglog(Ts, err_T, "o-", ms=3)
    ax_e.set(
        xlabel="simulated time T (s)",
        ylabel="RMS(spiking - rate) / RMS(rate)",
        title="decoded outputs vs rate network outputs",
    )
    ax_s.semilogx(rate_scales, 100 * np.array(acc_scale), "o-", label="spiking, T = 0.2 s")
    ax_s.axhline(100 * rate_acc, c="k", ls="--", label="rate network")
    for c, a, m in zip(rate_scales, acc_scale, mean_rate, strict=True):
        ax_s.annotate(f"{m:.0f} Hz", (c, 100 * a), textcoords="offset points", xytext=(0, 6), fontsize=7)
    ax_s.set(xlabel="rate_scale", ylabel="test accuracy (%)", title="accuracy vs rate_scale (mean rate)")
    ax_s.legend()
    acc_path = save_figure(fig, args.out / "digits_to_spiking_accuracy_vs_T.png", quick=args.quick, dpi=100)
    print(f"wrote {acc_path}")
    return acc_path


if __name__ == "__main__":
    main()

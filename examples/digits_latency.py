"""How many time steps a converted digits classifier needs: accuracy against steps, per conversion option.

Rate-to-spiking conversion (Hunsberger & Eliasmith 2015), run short: a 64-128-10
SoftLIF network trained on the 8x8 digits is converted with
:func:`spikenet.rate.to_spiking` and run for 1 to 200 steps of 1 ms. Four
conversions show what each option contributes:

- the defaults: instantaneous synapses with a spike-count readout from t = 0,
  ``rate_scale=10``, neurons starting at ``v_init=0.5``;
- the same from reset (``v_init=0``);
- the same at the rate network's own rates (``rate_scale=1``);
- the former defaults: 5 ms PSC synapses, ``rate_scale=1``, ``v_init=0``,
  averaging from ``min(0.05, T/2)``.

Beside them, the accuracies that SpikingJelly 2.0 (ReLU network converted to
IF neurons) and snnTorch 1.0 (LIF network trained with surrogate gradients)
reached on the same split, measured on the same machine in 2026. Each curve
comes from one simulation of 200 steps: the network is deterministic and
causal, so its first k steps are a run of k steps. Saves
``digits_latency_accuracy_vs_steps.png`` and prints a table with the spikes per image.

Run ``python examples/digits_latency.py [--out DIR] [--quick]``.
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
from spikenet.rate import to_spiking
from spikenet.rate._digits_model import accuracy, trained_digits_model
from spikenet.sim import PSCFilter

# Test accuracy (%) at 5 / 10 / 25 / 200 steps on datasets.digits(seed=0),
# measured on the 2-core development machine in 2026 (ranges: over seeds).
PEERS = {
    "SpikingJelly 2.0 ann2snn (IF)": {5: (96.0, 96.7), 10: (96.7, 96.7), 25: (96.2, 96.2), 200: (96.2, 96.2)},
    "snnTorch 1.0 Leaky (BPTT)": {5: (94.9, 96.7), 10: (97.8, 97.8), 25: (97.8, 97.8), 200: (97.8, 97.8)},
}
FORMER = {"synapse": PSCFilter(0.005), "rate_scale": 1.0, "v_init": 0.0, "dtype": "float64"}
OPTIONS = {
    "defaults (synapse=None, rate_scale=10, v_init=0.5)": {},
    "v_init=0 (from reset)": {"v_init": 0.0},
    "rate_scale=1": {"rate_scale": 1.0},
    "former defaults (5 ms PSC, rate_scale=1, v_init=0)": FORMER,
}


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="short training, 150 test images, 50 steps")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    epochs, n_test, max_steps = (10, 150, 50) if args.quick else (30, None, 200)
    model, (_, _, X_test, y_test) = trained_digits_model(hidden=(128,), epochs=epochs, seed=0)
    X, y = X_test[:n_test], y_test[:n_test]
    with torch.no_grad():
        rate_acc = accuracy(model(X), y)
    print(f"rate network (SoftLIF): test accuracy {100 * rate_acc:.1f}% on {len(y)} images")

    steps = np.unique(np.round(np.geomspace(1, max_steps, 40)).astype(int))
    curves = {}
    shown = (1, 2, 5, 10, 25, max_steps)
    print(f"{'conversion':52s} " + " ".join(f"{k:>6d}" for k in shown) + "  spikes/image")
    for label, options in OPTIONS.items():
        snn = to_spiking(model, dt=1e-3, **options)
        run = snn.simulate(X, max_steps * snn.dt)
        acc = {}
        for k in sorted({*steps, 1, 2, 5, 10, 25, max_steps}):
            T = k * snn.dt
            settle = min(0.05, T / 2) if snn.synapse is not None and k > 1 else 0.0
            acc[k] = accuracy(run.decoded(settle, T), y)
        curves[label] = acc
        spikes = run.counts if run.counts is not None else run.rasters  # (steps, batch, n) each
        per_step = sum(c.sum(axis=(1, 2)) for c in spikes) / len(y)
        row = " ".join(f"{100 * acc[k]:6.1f}" for k in shown)
        print(f"{label:52s} {row}  {per_step[:5].sum():.0f} in 5 steps, {per_step.sum():.0f} in {max_steps}")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, ylim in zip(axes, ((0, 100), (90, 99)), strict=True):
        for label, acc in curves.items():
            ks = sorted(acc)
            ax.semilogx(ks, [100 * acc[k] for k in ks], "-", lw=1.8, label=label)
        for (name, pts), marker in zip(PEERS.items(), ("s", "^"), strict=True):
            ks = [k for k in pts if k <= max_steps]
            lo = np.array([pts[k][0] for k in ks])
            hi = np.array([pts[k][1] for k in ks])
            ax.errorbar(ks, (lo + hi) / 2, yerr=(hi - lo) / 2, fmt=marker, ms=6, capsize=3, label=name)
        ax.axhline(100 * rate_acc, c="k", ls="--", lw=1, label="rate network (SoftLIF)")
        ax.set(xlabel="time steps of 1 ms", ylabel="test accuracy (%)", ylim=ylim)
        ax.set_xlim(0.9, max_steps * 1.1)
    axes[0].set_title("digits: converted network against run length")
    axes[1].set_title("the same, 90-99%")
    axes[0].legend(fontsize=7, loc="lower right")
    path = save_figure(fig, args.out / "digits_latency_accuracy_vs_steps.png", quick=args.quick, dpi=80)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

"""Digits classified by a spiking network trained directly, with surrogate gradients, in 10 steps of 1 ms.

A 64-128-10 network of LIF neurons (:class:`spikenet.rate.SpikingMLP`: the
exact LIF dynamics of :mod:`spikenet.sim`, 20 ms membrane, no refractory
period) is trained by backpropagation through time over 10 steps of 1 ms,
with the fast-sigmoid surrogate of the threshold's derivative (Zenke &
Ganguli 2018; Neftci et al. 2019); the image drives the hidden neurons as a
constant current, and the output is the synaptic current of the readout
averaged over the run. The trained weights are then run, unchanged, in a
:class:`spikenet.sim.Network`, which must produce the same spikes.

Saves ``train_spiking_digits.png``: the training loss, the test accuracy
against the number of steps the run is stopped at, and the hidden spikes and
decoded outputs for one test image.

Run ``python examples/train_spiking_digits.py [--out DIR] [--quick]``.
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

from spikenet.plot import save_figure
from spikenet.rate import SpikingMLP, datasets, fit_spiking


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="4 epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    hidden, epochs = 128, (4 if args.quick else 40)
    X_train, y_train, X_test, y_test = datasets.digits(seed=0)
    torch.manual_seed(args.seed)
    net = SpikingMLP([64, hidden, 10], tau_m=0.02, tau_ref=0.0, dt=1e-3, steps=10)
    t0 = time.perf_counter()
    hist = fit_spiking(net, (X_train, y_train), epochs=epochs, seed=args.seed, threads=1)
    print(f"trained {net.sizes} for {epochs} epochs in {time.perf_counter() - t0:.1f} s")

    with torch.no_grad():
        run = net.simulate(X_test)
    running = run.running_logits.detach().numpy()  # (steps, batch, 10)
    acc_k = [float((r.argmax(1) == y_test).mean()) for r in running]
    for k, a in enumerate(acc_k, start=1):
        print(f"  stopped after {k:2d} steps: test accuracy {100 * a:.1f}%")
    spikes = run.spikes[0].numpy()
    print(f"spiking network: test accuracy {100 * acc_k[-1]:.1f}% at 10 steps of 1 ms, "
          f"{spikes.sum() / len(y_test):.1f} hidden spikes per image")

    # The same weights in spikenet.sim (float64 both sides): the same spikes.
    net64 = net.double()
    with torch.no_grad():
        run64 = net64.simulate(X_test)
    logits, rasters, _ = net64.run_network(X_test)
    same = bool(np.array_equal(run64.spikes[0].numpy().astype(bool), rasters[0]))
    sim_acc = float((logits.argmax(1) == y_test).mean())
    print(f"spikenet.sim with the trained weights: same spikes: {same}; test accuracy {100 * sim_acc:.1f}%")

    fig, (ax_l, ax_a, ax_r, ax_o) = plt.subplots(1, 4, figsize=(18, 4))
    ax_l.plot(np.arange(1, epochs + 1), hist["loss"], "o-", ms=3)
    ax_l.set(xlabel="epoch", ylabel="training loss", title="BPTT with a surrogate gradient", yscale="log")
    ax_a.plot(np.arange(1, 11), 100 * np.array(acc_k), "o-")
    ax_a.set(xlabel="steps of 1 ms", ylabel="test accuracy (%)", title="accuracy if stopped after k steps",
             ylim=(0, 100))
    i = int(np.argmax(run.logits.argmax(1).numpy() == y_test))
    steps, neurons = np.nonzero(spikes[:, i, :])
    ax_r.scatter(1e3 * run.spike_times[0][steps, i, neurons].numpy(), neurons, s=8, c="k")
    ax_r.set(xlabel="time (ms)", ylabel="hidden neuron", title=f"hidden spikes, test image {i}",
             xlim=(0, 10))
    t_ms = np.arange(1, 11)
    for c in range(10):
        ax_o.plot(t_ms, running[:, i, c], lw=2.5 if c == y_test[i] else 0.7, label=str(c))
    ax_o.set(xlabel="time (ms)", ylabel="decoded output", title=f"decoded outputs (label {y_test[i]})")
    ax_o.legend(ncol=2, fontsize=7, title="class", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    path = save_figure(fig, args.out / "train_spiking_digits.png", quick=args.quick, dpi=100)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

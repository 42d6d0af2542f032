"""Hopfield network: recall of the letters and the orthogonal set, energy descent, capacity.

A Hopfield (1982) network: the Hebbian weight matrix of the four orthogonal patterns, the letters A, B, C,
E recalled synchronously and asynchronously after 20% bit noise with the
bottom rows erased, the energy falling during asynchronous recall,
and a capacity curve for random patterns on N = 100 units (recall near
perfect at M = 0.05 N and failing well before M = 0.3 N; theory: 0.138 N).

Run ``python examples/hopfield.py [--out DIR] [--quick] [--seed S]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikenet.plot import save_figure
from spikenet.rate import datasets
from spikenet.rate.models import Hopfield, hamming, perturb, recall_rate


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="fewer capacity trials")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)

    # Letters: corrupt, recall both ways.
    X = datasets.letters()
    net = Hopfield(X)
    fig, axes = plt.subplots(4, 5, figsize=(9, 7.5))
    for k in range(4):
        x = perturb(X[k], 0.2, seed=rng)
        x[24:] = -1.0
        xs = net.recall(x, mode="sync")
        order_seed = int(rng.integers(2**31))  # one unit order for the image and its energy curve
        xa = net.recall(x, mode="async", seed=order_seed)
        states = net.trajectory(x, mode="async", seed=order_seed)
        assert np.array_equal(states[-1], xa)  # the energy panel shows the recall in the image
        print(f"letter {'ABCE'[k]}: {hamming(x, X[k])} corrupted bits -> sync {hamming(xs, X[k])}, "
              f"async {hamming(xa, X[k])} errors")
        for ax, img, title in zip(axes[k], (X[k], x, xs, xa), ("stored", "corrupted", "synchronous",
                                                                 "asynchronous")):
            ax.imshow(img.reshape(6, 6), cmap="gray_r", vmin=-1, vmax=1)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        axes[k, 4].plot(net.energy(states))
        axes[k, 4].set_title("energy (async recall)", fontsize=9)
        axes[k, 4].set_xlabel("single-unit update", fontsize=8)
        axes[k, 4].set_ylabel("energy E", fontsize=8)
        axes[k, 4].tick_params(labelsize=7)
    path = save_figure(fig, args.out / "hopfield_letters.png", dpi=120)  # the same with --quick
    print(f"wrote {path}")

    # Orthogonal set: weights and X W = 3 X.
    Xo = datasets.orthogonal_patterns()
    ortho = Hopfield(Xo)
    print("orthogonal set: X W == 3 X:", bool(np.allclose(Xo @ ortho.W, 3 * Xo)))
    hits = sum(np.array_equal(ortho.recall(perturb(Xo[k % 4], 0.4, seed=rng), seed=rng), Xo[k % 4])
               for k in range(200))
    print(f"orthogonal set recalled after perturb(p=0.4): {hits / 200:.2f}")

    # Capacity curve, N = 100.
    N = 100
    Ms = np.array([5, 15, 30]) if args.quick else np.arange(1, 36, 2)
    trials = 2 if args.quick else 20
    curve = [recall_rate(N, int(M), p=0.1, trials=trials, seed=rng) for M in Ms]
    for M, r in zip(Ms, curve):
        print(f"capacity: M = {M:2d} ({M / N:.2f} N): recall rate {r:.2f}")

    fig, (ax_w, ax_c) = plt.subplots(1, 2, figsize=(10, 4))
    ax_w.imshow(ortho.W, cmap="gray")
    ax_w.set_title("W for the orthogonal set (zero diagonal)")
    ax_w.axis("off")
    ax_c.plot(Ms / N, curve, "o-")
    ax_c.axvline(0.138, color="grey", ls="--", label="0.138 N (theory)")
    ax_c.set_xlabel("M / N")
    ax_c.set_ylabel("fraction recalled exactly")
    ax_c.set_title(f"capacity, N = {N}, 10% bit noise")
    ax_c.legend()
    path = save_figure(fig, args.out / "hopfield_capacity.png", quick=args.quick, dpi=120)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

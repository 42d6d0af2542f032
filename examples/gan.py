"""Generative adversarial networks: a ring of 8 Gaussians and the 8x8 digits.

A generator and a discriminator trained against each other (Goodfellow et
al. 2014). On a ring of 8 Gaussians the generated points cover the modes
(counted by nearest centre within 5 standard deviations); on the digits the
generator produces digit-like images. Saves both sample figures.

Run ``python examples/gan.py [--out DIR] [--quick] [--seed S]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from spikenet import plot
from spikenet.plot import save_figure
from spikenet.rate import datasets
from spikenet.rate.models import GAN
from spikenet.rate.models.gan import ring_of_gaussians


def mlp(n_in, n_out, hidden, act, out=None):
    layers = [nn.Linear(n_in, hidden), act(), nn.Linear(hidden, hidden), act(), nn.Linear(hidden, n_out)]
    return nn.Sequential(*layers, *([out] if out is not None else []))


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="few epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    std = 0.05
    X, centres = ring_of_gaussians(1024, std=std, seed=args.seed)
    torch.manual_seed(args.seed)
    ring = GAN(mlp(2, 2, 64, nn.ReLU), mlp(2, 1, 64, lambda: nn.LeakyReLU(0.2)))
    ring.fit(X, epochs=3 if args.quick else 60, lr=1e-3, batch_size=64, seed=args.seed)
    s = ring.sample(1000, seed=args.seed).numpy()
    d = np.linalg.norm(s[:, None] - centres[None], axis=2)
    counts = np.bincount(d.argmin(1)[d.min(1) < 5 * std], minlength=8)
    print(f"ring: {int(np.sum(counts >= 20))} of 8 modes covered; samples per mode {counts.tolist()}")

    Xtr, _, _, _ = datasets.digits(seed=args.seed)
    torch.manual_seed(args.seed)
    digits = GAN(mlp(16, 64, 128, nn.ReLU, nn.Sigmoid()), mlp(64, 1, 128, lambda: nn.LeakyReLU(0.2)))
    hist = digits.fit(Xtr, epochs=1 if args.quick else 150, lr=1e-3, batch_size=64, seed=args.seed)
    print(f"digits GAN: final discriminator loss {hist.d_loss[-1]:.3f}, generator loss {hist.g_loss[-1]:.3f}")

    fig, (ax_r, ax_d) = plt.subplots(1, 2, figsize=(11, 5))
    ax_r.scatter(X[:, 0], X[:, 1], s=3, alpha=0.4, label="real")
    ax_r.scatter(s[:, 0], s[:, 1], s=3, alpha=0.4, label="generated")
    ax_r.set_aspect("equal")
    ax_r.set_title(f"ring of 8 Gaussians: {int(np.sum(counts >= 20))} modes covered")
    ax_r.legend(markerscale=4)
    plot.image_grid(digits.sample(64, seed=args.seed), ncols=8, crop=True, ax=ax_d)
    ax_d.set_title("generated digits")
    ax_d.axis("off")
    path = save_figure(fig, args.out / "gan.png", quick=args.quick, dpi=120)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

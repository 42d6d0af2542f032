"""Variational autoencoder on the 8x8 digits: 2-D latent grid, latent means, prior samples.

A variational autoencoder (Kingma & Welling 2014) with a 2-D latent space
is trained on the digits; decoding a regular grid of latent points (at the
prior's quantiles) shows a latent space without holes, the encoded means
cluster by digit, and decoded prior samples look like digits. Prints the
test-set ELBO before and after training.

Run ``python examples/vae.py [--out DIR] [--quick] [--seed S]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.stats import norm

from spikenet import plot
from spikenet.plot import save_figure
from spikenet.rate import datasets, fit
from spikenet.rate.models import VAE


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--beta", type=float, default=1.0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    Xtr, _, Xte, yte = datasets.digits(seed=args.seed)
    torch.manual_seed(args.seed)
    vae = VAE(64, 2, beta=args.beta)
    test = torch.from_numpy(Xte)
    before = vae.elbo(test, n_samples=5, seed=args.seed)
    fit(vae, (Xtr, Xtr), vae.criterion, epochs=5 if args.quick else 60, lr=3e-3, optimizer="adam",
        batch_size=64, seed=args.seed, progress=False)
    after = vae.elbo(test, n_samples=5, seed=args.seed)
    print(f"test ELBO per image: {before:.2f} -> {after:.2f} nats")

    n = 15
    q = norm.ppf(np.linspace(0.04, 0.96, n))
    zz = torch.tensor([[a, b] for b in q[::-1] for a in q], dtype=torch.float32)
    with torch.no_grad():
        imgs = vae.decode(zz).numpy()
        mu, _ = vae.encode(test)

    fig, (ax_g, ax_m, ax_s) = plt.subplots(1, 3, figsize=(15, 5), width_ratios=(1, 1.25, 1))
    plot.image_grid(imgs, ncols=n, crop=True, ax=ax_g)
    ax_g.set_title("decoded 2-D latent grid (prior quantiles)")
    ax_g.axis("off")
    sc = ax_m.scatter(mu[:, 0], mu[:, 1], c=yte, cmap="tab10", s=8)
    fig.colorbar(sc, ax=ax_m, label="digit")
    ax_m.set_title("encoded means of the test digits")
    ax_m.set_xlabel("z1")
    ax_m.set_ylabel("z2")
    plot.image_grid(vae.sample(36, seed=args.seed), ncols=6, crop=True, ax=ax_s)
    ax_s.set_title("decoded prior samples z ~ N(0, I)")
    ax_s.axis("off")
    path = save_figure(fig, args.out / "vae_latent_grid.png", quick=args.quick, dpi=120)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

"""Autoencoders on the binary world: reconstructions, latent codes, tied weights, denoising.

An 8-3-8 autoencoder trained on
the five 8-bit strings reproduces every bit (targets vs outputs as images),
its 3-unit latent codes, and the same network with tied weights (the decoder
uses the transpose of the encoder weight: 24 fewer parameters). A denoising
autoencoder trained on noisy copies cleans fresh noisy inputs.

Run ``python examples/autoencoder.py [--out DIR] [--quick] [--seed S]``.
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
from spikenet.rate import datasets, fit
from spikenet.rate.models import Autoencoder


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    epochs = 150 if args.quick else 500

    X, T = datasets.binary_world()
    fig, axes = plt.subplots(2, 4, figsize=(12, 5))
    for row, tied in enumerate((False, True)):
        torch.manual_seed(args.seed)
        ae = Autoencoder(8, 3, tied=tied)
        hist = fit(ae, (X, T), "bce", epochs=epochs, lr=0.05, optimizer="adam", seed=args.seed,
                   progress=False)
        with torch.no_grad():
            y = ae(torch.from_numpy(X)).numpy()
            h = ae.encode(torch.from_numpy(X)).numpy()
        wrong = int(np.sum(np.round(y) != T))
        label = "tied" if tied else "untied"
        print(f"{label}: {ae.n_parameters()} parameters, final BCE {hist.loss[-1]:.4f}, "
              f"{wrong} of 40 bits wrong")
        for ax, img, title in zip(axes[row], (T, y, h, ae.weight.detach().numpy()),
                                  ("targets", f"outputs ({label})", "latent codes", "encoder weight")):
            ax.imshow(img, cmap="gray_r" if title != "encoder weight" else "RdBu")
            ax.set_title(title)
            ax.set_xticks([])
            ax.set_yticks([])
    path = save_figure(fig, args.out / "autoencoder_binary_world.png", quick=args.quick, dpi=120)
    print(f"wrote {path}")

    # Denoising: train on noisy copies, test on fresh ones.
    rng = np.random.default_rng(args.seed)

    def noisy(copies):
        pairs = [datasets.binary_world(noise=0.3, seed=rng) for _ in range(copies)]
        return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])

    Xn, Tn = noisy(40)
    torch.manual_seed(args.seed)
    dae = Autoencoder(8, 3)
    fit(dae, (Xn, Tn), "bce", epochs=50 if args.quick else 150, lr=0.02, optimizer="adam", batch_size=50,
        seed=args.seed, progress=False)
    Xv, Tv = noisy(200)
    with torch.no_grad():
        yv = dae(torch.from_numpy(Xv)).numpy()
    print(f"denoising: bit errors {np.mean(np.round(yv) != Tv):.3f} (thresholded noisy input: "
          f"{np.mean((Xv > 0.5) != Tv):.3f})")
    fig, axes = plt.subplots(1, 3, figsize=(9, 3))
    for ax, img, title in zip(axes, (Xv[:10], yv[:10], Tv[:10]), ("noisy input", "denoised", "clean")):
        ax.imshow(img, cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(title)
        ax.axis("off")
    path = save_figure(fig, args.out / "autoencoder_denoising.png", quick=args.quick, dpi=120)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

"""Vanishing gradients in a deep logistic network (Bengio et al. 1994).

At initialisation, the norm of the loss gradient with respect to each layer's
input currents falls by at least a factor 4 per layer going towards the input,
because the logistic slope never exceeds 1/4 and the initial weights do not
make up for it. Saves ``rate_vanishing_gradients.png`` (log scale, one line per
random network).

Run: ``python examples/rate_vanishing_gradients.py [--quick] [--out DIR]``
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from spikenet.plot import save_figure
from spikenet.rate.demos import deep_logistic_network, layer_gradient_norms


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output",
                        help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="small sizes (for tests)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.quick:
        torch.set_num_threads(1)  # tiny networks: one thread is fastest
    depth, width = 6, 4
    n_nets = 3 if args.quick else 10
    fig, ax = plt.subplots(figsize=(6, 4))
    ratios = []
    for seed in range(n_nets):
        rng = np.random.default_rng(seed)
        x, t = rng.normal(size=(64, width)), rng.random((64, width))
        norms = layer_gradient_norms(deep_logistic_network(depth, width, seed=seed), x, t)
        ratios.append(norms[1:] / norms[:-1])
        ax.semilogy(np.arange(1, depth + 1), norms, "o-", alpha=0.7)
    ax.set_xlabel("layer (1 = next to the input)")
    ax.set_ylabel(r"$\|\nabla_{z^{(i)}} E\|$")
    ax.set_title("gradient norms at initialisation")
    path = save_figure(fig, out / "rate_vanishing_gradients.png", quick=args.quick, dpi=120)
    print(f"wrote {path}")
    ratios = np.array(ratios)
    print(
        f"smallest per-layer drop over {n_nets} networks: {ratios.min():.2f}x "
        f"(median {np.median(ratios):.2f}x)"
    )
    return ratios


if __name__ == "__main__":
    main()

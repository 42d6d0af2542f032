"""Momentum versus plain gradient descent on an elongated bowl (Polyak 1964).

Plain gradient descent zig-zags across a narrow valley and crawls along its
floor; momentum (in both of its usual forms) builds up speed along the floor and
reaches the minimum far sooner. Both are run through ``spikenet.rate.fit``
with the same learning rate. Saves ``rate_momentum.png``: the paths over the
contours, and the loss against the step.

Run: ``python examples/rate_momentum.py [--quick] [--out DIR]``
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from spikenet.plot import save_figure
from spikenet.rate.demos import quadratic_descent


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
    c, start, lr = (1.0, 100.0), (-1.0, 0.5), 0.015
    epochs = 100 if args.quick else 300
    runs = {
        "plain GD": quadratic_descent(c, start, lr=lr, epochs=epochs),
        r"momentum $V \leftarrow \beta V + \nabla E$": quadratic_descent(
            c, start, lr=lr, momentum=0.9, epochs=epochs
        ),
        r"$V \leftarrow \beta V + (1-\beta)\nabla E$, 10x lr (same steps)": quadratic_descent(
            c, start, lr=10 * lr, momentum=0.9, epochs=epochs, momentum_form="ema"
        ),
    }
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    g1, g2 = np.meshgrid(np.linspace(-1.1, 0.3, 200), np.linspace(-0.6, 0.6, 200))
    ax1.contour(g1, g2, 0.5 * (c[0] * g1**2 + c[1] * g2**2), levels=np.geomspace(1e-3, 20, 15), colors="0.7")
    for style, (label, (path, energy)) in zip(["-", "-", "--"], runs.items()):
        ax1.plot(path[:60, 0], path[:60, 1], ".", ls=style, label=label, ms=3)
        ax2.semilogy(energy, ls=style, label=label)
    ax1.plot(0, 0, "k*", ms=10)
    ax1.set_xlabel(r"$\theta_1$")
    ax1.set_ylabel(r"$\theta_2$")
    ax1.set_title("first 60 steps")
    ax2.set_xlabel("step")
    ax2.set_ylabel("E")
    ax2.legend(fontsize=8)
    path = save_figure(fig, out / "rate_momentum.png", quick=args.quick, dpi=120)
    print(f"wrote {path}")
    finals = {k: v[1][-1] for k, v in runs.items()}
    names = ["plain GD", "momentum (V <- beta V + grad E)",
             "EMA momentum (V <- beta V + (1 - beta) grad E), 10x lr"]
    for name, v in zip(names, finals.values()):
        print(f"E after {epochs} steps, {name}: {v:.3e}")
    return finals


if __name__ == "__main__":
    main()

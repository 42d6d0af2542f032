"""Overfitting and its remedies: weight decay, dropout, more data.

A network with two hidden layers of ReLU units learns a handful of noisy
samples of a smooth dose-response curve until its training loss is far below
the noise level, and does poorly on fresh samples. Weight decay, dropout and
more data each lower the test loss. Saves ``rate_overfitting.png``: the fitted
curves of the four models over the data, and their train and test losses.

Run: ``python examples/rate_overfitting.py [--quick] [--out DIR]``
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from spikenet.plot import save_figure
from spikenet.rate.demos import overfitting_demo


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output",
                        help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="small sizes (for tests)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.quick:
        torch.set_num_threads(1)  # tiny networks: one thread is fastest
        res = overfitting_demo(hidden=32, epochs=200, lr=0.02, seed=args.seed)
    else:
        res = overfitting_demo(seed=args.seed)

    names = ["plain", "weight_decay", "dropout", "more_data"]
    xs = np.linspace(0, 1, 400)[:, None]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    xt, tt = res["data"]["test"]
    ax1.plot(xt, tt, ".", color="0.8", label="test samples")
    x0, t0 = res["data"]["train"]
    ax1.plot(x0, t0, "ko", label="6 training samples")
    for name in names:
        with torch.no_grad():
            ax1.plot(xs, res[name]["model"](torch.from_numpy(xs)).numpy(), label=name.replace("_", " "))
    ax1.set_xlabel("dose")
    ax1.set_ylabel("blood sugar")
    ax1.legend(fontsize=8)
    pos = np.arange(len(names))
    ax2.bar(pos - 0.2, [res[n]["train_loss"] for n in names], 0.4, label="train")
    ax2.bar(pos + 0.2, [res[n]["test_loss"] for n in names], 0.4, label="test")
    ax2.set_xticks(pos, [n.replace("_", "\n") for n in names])
    ax2.set_yscale("log")
    ax2.set_ylabel("MSE loss")
    ax2.legend()
    path = save_figure(fig, out / "rate_overfitting.png", quick=args.quick, dpi=120)
    print(f"wrote {path}")
    for name in names:
        print(f"{name:13s} train loss {res[name]['train_loss']:.2e}  test loss {res[name]['test_loss']:.4f}")
    return res


if __name__ == "__main__":
    main()

"""A one-hidden-layer classifier for handwritten digits, trained with ``fit``.

Trains 64 -> 64 logistic -> 10 softmax on scikit-learn's bundled 8x8 digits
with minibatch Adam and cross entropy, using the held-out quarter as the
validation set. Saves ``rate_digits.png``: the training and validation loss curves
and a few test digits with their predicted labels.

Run: ``python examples/rate_digits.py [--quick] [--out DIR]``
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from spikenet.plot import save_figure
from spikenet.rate import datasets
from spikenet.rate.demos import digits_classifier


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
        torch.set_num_threads(1)  # a small network: one thread is fastest
    epochs = 2 if args.quick else 40
    model, hist, acc = digits_classifier(epochs=epochs, seed=args.seed, progress=not args.quick)

    fig = plt.figure(figsize=(11, 4))
    ax = fig.add_subplot(1, 2, 1)
    hist.plot(ax)
    ax.set_title(f"test accuracy {100 * acc:.1f}%")
    _, _, X_test, y_test = datasets.digits(seed=args.seed)
    with torch.no_grad():
        pred = model(torch.from_numpy(X_test[:8])).argmax(dim=1).numpy()
    for k in range(8):
        a = fig.add_subplot(2, 8, 8 * (k // 4) + 5 + k % 4)
        a.imshow(X_test[k].reshape(8, 8), cmap="gray_r")
        a.set_title(f"{pred[k]} ({y_test[k]})", fontsize=8)
        a.axis("off")
    path = save_figure(fig, out / "rate_digits.png", quick=args.quick, dpi=120)
    print(f"wrote {path}")
    print(f"test accuracy after {epochs} epochs: {100 * acc:.2f}%")
    return acc


if __name__ == "__main__":
    main()

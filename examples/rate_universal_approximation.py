"""Universal approximation by steep logistic steps (after Cybenko 1989).

Builds a constructive proof of the universal approximation theorem: a
target function on [0, 1] is approximated by a sum of N steep logistic units
(each a shifted step), and the maximum error falls like 1/N. Saves
``rate_universal_approximation.png``: left, the target and the step sums for a
few N; right, the maximum error against N with the Lipschitz bound L/N.

Run: ``python examples/rate_universal_approximation.py [--quick] [--out DIR]``
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from spikenet.plot import save_figure
from spikenet.rate.demos import step_approximation


def target(x):
    """A smooth target with a few bumps; Lipschitz constant below 2 pi + 1."""
    return 0.5 * np.sin(2 * np.pi * x) + 0.3 * np.cos(5 * x) + x


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output",
                        help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="small sizes (for tests)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    x = np.linspace(0.0, 1.0, 1001 if args.quick else 4001)
    shown = [4, 10, 30]
    ns = np.array([4, 8, 16, 32, 64] if args.quick else [4, 8, 16, 32, 64, 128, 256])
    errors = np.array([np.abs(step_approximation(target, n, x) - target(x)).max() for n in ns])

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(x, target(x), "k", lw=2, label="f(x)")
    for n in shown:
        ax1.plot(x, step_approximation(target, n, x), label=f"N = {n}")
    ax1.set_xlabel("x")
    ax1.set_title("sum of N steep logistic units")
    ax1.legend()
    ax2.loglog(ns, errors, "o-", label="max |G - f|")
    lipschitz = np.abs(np.gradient(target(x), x)).max()
    ax2.loglog(ns, lipschitz / ns, "k--", label="L / N bound")
    ax2.set_xlabel("N (hidden units)")
    ax2.set_ylabel("max error on [0, 1]")
    ax2.legend()
    path = save_figure(fig, out / "rate_universal_approximation.png", quick=args.quick, dpi=120)
    print(f"wrote {path}")
    slope = np.polyfit(np.log(ns), np.log(errors), 1)[0]
    print(f"max error for N = {ns.tolist()}: {np.round(errors, 4).tolist()} (log-log slope {slope:.2f})")
    return errors


if __name__ == "__main__":
    main()

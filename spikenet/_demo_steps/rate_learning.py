"""Demo step: rate networks learning by gradient descent (digits classifier, momentum)."""

from __future__ import annotations

from pathlib import Path


def step(out: Path, quick: bool) -> list[str]:
    """Train a digits classifier with ``fit`` and compare momentum with plain descent.

    Parameters
    ----------
    out : Path
        Folder for the PNG file.
    quick : bool
        Fewer training epochs (for tests).

    Returns
    -------
    list of str
        Summary lines (test accuracy, final energies, file name).
    """
    import matplotlib.pyplot as plt

    from spikenet.plot import save_figure
    from spikenet.rate.demos import digits_classifier, quadratic_descent

    epochs = 3 if quick else 30
    _, hist, acc = digits_classifier(epochs=epochs, seed=0)
    kw = {"curvatures": (1.0, 100.0), "start": (-1.0, 0.5), "lr": 0.015, "epochs": 100}
    _, e_plain = quadratic_descent(**kw)
    _, e_mom = quadratic_descent(momentum=0.9, **kw)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    hist.plot(ax1)
    ax1.set_title(f"8x8 digits, 64-64-10 network: {100 * acc:.1f}% test accuracy")
    ax2.semilogy(e_plain, label="plain gradient descent")
    ax2.semilogy(e_mom, label="momentum 0.9")
    ax2.set(xlabel="step", ylabel="E", title="elongated quadratic bowl (100:1)")
    ax2.legend()
    path = save_figure(fig, Path(out) / "rate_learning.png", quick=quick)
    return [
        f"digits classifier trained with fit for {epochs} epochs: {100 * acc:.1f}% test accuracy",
        f"100 steps on a 100:1 bowl: E = {e_plain[-1]:.2e} plain, {e_mom[-1]:.2e} with momentum",
        f"figure: {path.name}",
    ]

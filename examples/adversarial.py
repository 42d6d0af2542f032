"""Adversarial attacks and defences on the 8x8 digits, and a CNN classifier.

Fast gradient sign (FGSM; Goodfellow et al. 2015) and PGD (Madry et al. 2018)
attacks, and the TRADES defence (Zhang et al. 2019): clean digits
next to their FGSM versions (untargeted, and targeted at the next digit
class) with the network's predictions; the accuracy of a naturally trained
network under FGSM and PGD against eps, compared with adversarial training
and TRADES; the targeted attack's success rate; and a convolutional network
trained on the same digits (its clean and FGSM accuracy).

Run ``python examples/adversarial.py [--out DIR] [--quick] [--seed S]``.
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
from spikenet.rate.adversarial import accuracy, adversarial_training, fgsm, pgd
from spikenet.rate.models import CNN

EPS = 0.15


def mlp(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="few epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    epochs = 2 if args.quick else 15

    Xtr, ytr, Xte, yte = (torch.from_numpy(a) for a in datasets.digits(seed=args.seed))
    models = {"natural": mlp(args.seed)}
    fit(models["natural"], (Xtr, ytr), "cross_entropy", epochs=epochs, lr=5e-3, optimizer="adam",
        batch_size=64, seed=args.seed, progress=False)
    for method, kwargs in (("fgsm", {"mix": 1.0}), ("trades", {"beta": 6.0, "steps": 3})):
        models[method] = mlp(args.seed)
        adversarial_training(models[method], (Xtr, ytr), epochs=epochs, eps=EPS, method=method, lr=5e-3,
                             seed=args.seed, **kwargs)
    for m in models.values():
        m.eval()

    eps_grid = np.linspace(0, 0.3, 4 if args.quick else 13)
    curves = {}
    for name, m in models.items():
        curves[name] = ([accuracy(m, fgsm(m, Xte, yte, e), yte) for e in eps_grid],
                        [accuracy(m, pgd(m, Xte, yte, e, alpha=max(e, 1e-3) / 4, steps=10), yte)
                         for e in eps_grid])
        print(f"{name}: clean {accuracy(m, Xte, yte):.3f}, FGSM(eps={EPS}) "
              f"{accuracy(m, fgsm(m, Xte, yte, EPS), yte):.3f}, PGD-10 "
              f"{accuracy(m, pgd(m, Xte, yte, EPS, alpha=EPS / 4, steps=10), yte):.3f}")

    nat = models["natural"]
    with torch.no_grad():
        correct = nat(Xte).argmax(1) == yte
    target = (yte + 1) % 10
    x_t = fgsm(nat, Xte, target, EPS, targeted=True)
    x_tp = pgd(nat, Xte, target, EPS, alpha=EPS / 4, steps=10, targeted=True)
    with torch.no_grad():
        ok_f = (nat(x_t).argmax(1) == target)[correct].float().mean()
        ok_p = (nat(x_tp).argmax(1) == target)[correct].float().mean()
    print(f"targeted success rate at eps={EPS} (target = label + 1): FGSM {float(ok_f):.3f}, "
          f"PGD-10 {float(ok_p):.3f}")

    torch.manual_seed(args.seed)
    cnn = CNN()
    fit(cnn, (Xtr, ytr), "cross_entropy", epochs=2 if args.quick else 25, lr=3e-3, optimizer="adam",
        batch_size=64, seed=args.seed, progress=False)
    print(f"CNN: test accuracy {accuracy(cnn, Xte, yte):.3f}, "
          f"FGSM(eps={EPS}) {accuracy(cnn, fgsm(cnn, Xte, yte, EPS), yte):.3f}")

    x_u = fgsm(nat, Xte, yte, EPS)
    with torch.no_grad():
        p_clean, p_u, p_t = (nat(x).argmax(1) for x in (Xte, x_u, x_t))
    fig, axes = plt.subplots(3, 6, figsize=(10, 5.5))
    for j in range(6):
        for i, (img, pred, title) in enumerate(((Xte, p_clean, "clean"), (x_u, p_u, "FGSM"),
                                                (x_t, p_t, f"target {int(target[j])}, got"))):
            axes[i, j].imshow(img[j].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
            sep = " " if i == 2 else ": "
            axes[i, j].set_title(f"{title}{sep}{int(pred[j])}", fontsize=9)
            axes[i, j].axis("off")
    fig.suptitle(f"clean vs adversarial digits (eps = {EPS}), with the network's predictions")
    path = save_figure(fig, args.out / "adversarial_digits.png", quick=args.quick, dpi=120)
    print(f"wrote {path}")

    fig, ax = plt.subplots(figsize=(6, 4))
    for k, (name, (acc_f, acc_p)) in enumerate(curves.items()):
        ax.plot(eps_grid, acc_f, "o-", color=f"C{k}", label=f"{name}, FGSM")
        ax.plot(eps_grid, acc_p, "--", color=f"C{k}", label=f"{name}, PGD-10")
    ax.set_xlabel("eps (infinity norm)")
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=8)
    path = save_figure(fig, args.out / "adversarial_robustness.png", quick=args.quick, dpi=120)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

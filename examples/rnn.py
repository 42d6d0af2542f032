"""Recurrent networks: next-element prediction, and an LSTM remembering across a long delay.

A plain (Elman) RNN trained by backpropagation through time predicts the
next element of arithmetic sequences such as
0, 2, 4, 6 (-> 8); on a delayed-recall task (a +-1 bit at step 0 must be
reported after 40 steps of distractor noise), an LSTM whose forget gate
starts open learns the task while a plain RNN with the same budget stays at
chance. Saves the predictions and the two learning curves.

Run ``python examples/rnn.py [--out DIR] [--quick] [--seed S]``.
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
from spikenet.rate import fit
from spikenet.rate.models import LSTM, RNN, BatchFirst


def arithmetic_sequences(n, length, rng):
    """Sequences start + step * k, k = 0..length, split into inputs and next-element targets."""
    start = rng.uniform(-1, 1, n)
    step = rng.uniform(-0.3, 0.3, n)
    s = start[None, :] + step[None, :] * np.arange(length + 1)[:, None]
    return s[:-1, :, None].astype(np.float32), s[1:, :, None].astype(np.float32)


def delayed_recall(n, delay, rng):
    """A +-1 bit at step 0 on channel 0, noise on channel 1; target: the bit at the last step."""
    bits = rng.choice([-1.0, 1.0], size=n)
    x = np.zeros((n, delay + 1, 2), np.float32)
    x[:, 0, 0] = bits
    x[:, :, 1] = rng.standard_normal((n, delay + 1))
    return x, bits[:, None].astype(np.float32)


def main(argv=None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "output")
    parser.add_argument("--quick", action="store_true", help="shorter training and delay")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)

    # 1. Next element.
    x, t = arithmetic_sequences(256, 6, rng)
    torch.manual_seed(args.seed)
    rnn = RNN(1, 32, 1)
    fit(rnn, (x, t), RNN.sequence_loss, epochs=100 if args.quick else 800, lr=1e-2, optimizer="adam",
        progress=False)
    seq = torch.tensor([0.0, 0.2, 0.4, 0.6])[:, None, None]  # 0, 2, 4, 6 scaled by 1/10
    with torch.no_grad():
        pred = rnn(seq)[:, 0, 0].numpy() * 10
    print("next element of 0, 2, 4, 6: predictions after each input " + ", ".join(f"{p:.2f}" for p in pred))

    # 2. Delayed recall, LSTM vs RNN.
    delay = 15 if args.quick else 40
    steps = 30 if args.quick else 100
    X, T = delayed_recall(64 * steps, delay, rng)
    Xv, Tv = delayed_recall(1000, delay, rng)
    curves, acc = {}, {}
    for name, make in (("LSTM", lambda: LSTM(2, 8, 1, forget_bias=3.0)), ("RNN", lambda: RNN(2, 8, 1))):
        torch.manual_seed(args.seed)
        model = BatchFirst(make())
        losses = []

        def last_step_loss(y, t, losses=losses):
            value = 0.5 * ((y[:, -1] - t) ** 2).sum(1).mean()
            losses.append(value.item())
            return value

        fit(model, (X, T), last_step_loss, epochs=1, lr=1e-2, optimizer="adam", batch_size=64,
            seed=args.seed, progress=False)
        with torch.no_grad():
            acc[name] = float(np.mean(np.sign(model(torch.from_numpy(Xv))[:, -1].numpy()) == Tv))
        curves[name] = losses
        print(f"delayed recall over {delay} steps: {name} held-out accuracy {acc[name]:.3f}")

    fig, (ax_p, ax_l) = plt.subplots(1, 2, figsize=(11, 4))
    xs, ts = arithmetic_sequences(3, 6, np.random.default_rng(args.seed + 1))
    with torch.no_grad():
        ys = rnn(torch.from_numpy(xs)).numpy()
    for j in range(3):
        ax_p.plot(range(1, 7), ts[:, j, 0], "o-", color=f"C{j}", label="next element" if j == 0 else None)
        ax_p.plot(range(1, 7), ys[:, j, 0], "x--", color=f"C{j}", label="RNN prediction" if j == 0 else None)
    ax_p.set_xlabel("step")
    ax_p.set_title("next-element prediction")
    ax_p.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    for name, losses in curves.items():
        ax_l.plot(losses, label=f"{name} (accuracy {acc[name]:.2f})")
    ax_l.set_xlabel("minibatch")
    ax_l.set_ylabel("loss at the last step")
    ax_l.set_title(f"delayed recall over {delay} steps")
    ax_l.legend()
    path = save_figure(fig, args.out / "rnn.png", quick=args.quick, dpi=120)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()

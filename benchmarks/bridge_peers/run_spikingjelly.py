"""SpikingJelly 2.0 on digits: a ReLU MLP converted by ``ann2snn`` (IF neurons, rate coding).

Run inside the SpikingJelly venv (see setup_venvs.sh):
``python run_spikingjelly.py --data digits.npz``. Prints one result line
(see ``_peer_common.emit``).

Model: Linear(64, H) -> ReLU -> Linear(H, 10) (H = --hidden, 64 by default),
trained with the cross entropy and Adam, converted by
``ann2snn.Converter(recipe=ann2snn.RateCodingRecipe(dataloader=..., mode="Max"))``
(the calibration data are the training set in batches of 64). The converted
network runs in single-step mode with the image as a constant input; the
prediction is the class with the largest output summed over the steps.
"""

from __future__ import annotations

import spikingjelly
import torch
from _peer_common import emit, load, measure, parse_args
from spikingjelly.activation_based import ann2snn, functional


def main():
    args = parse_args(__doc__.splitlines()[0])
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    Xtr, ytr, Xte, yte = load(args.data)
    ann = torch.nn.Sequential(torch.nn.Linear(Xtr.shape[1], args.hidden), torch.nn.ReLU(),
                              torch.nn.Linear(args.hidden, int(ytr.max()) + 1))
    opt = torch.optim.Adam(ann.parameters(), lr=1e-3)
    epochs = 200 if args.epochs is None else args.epochs
    gen = torch.Generator().manual_seed(args.seed)
    for _ in range(epochs):
        perm = torch.randperm(len(Xtr), generator=gen)
        for i in range(0, len(Xtr), 64):
            idx = perm[i:i + 64]
            loss = torch.nn.functional.cross_entropy(ann(Xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    ann.eval()
    with torch.no_grad():
        ann_acc = float((ann(Xte).argmax(1) == yte).float().mean())
    loader = [(Xtr[i:i + 64], ytr[i:i + 64]) for i in range(0, len(Xtr), 64)]
    snn = ann2snn.Converter(recipe=ann2snn.RateCodingRecipe(dataloader=loader, mode="Max")).convert(ann)
    snn.eval()

    def predict(X, steps):
        functional.reset_net(snn)
        out = snn(X)
        for _ in range(steps - 1):
            out = out + snn(X)
        return out.argmax(1)

    result = measure(predict, Xte, yte, args.steps, args.threads, args.repeats)
    result.update(library="spikingjelly", version=getattr(spikingjelly, "__version__", "2.0.0"),
                  torch=torch.__version__, epochs=epochs, n_test=len(Xte), hidden=args.hidden,
                  ann_accuracy=ann_acc)
    emit(result)


if __name__ == "__main__":
    main()

"""snnTorch 1.0 on digits: a Leaky-neuron MLP trained by surrogate-gradient BPTT on direct input.

Run inside the snnTorch venv (see setup_venvs.sh):
``python run_snntorch.py --data digits.npz``. Prints one result line
(see ``_peer_common.emit``).

Model: Linear(64, H) -> Leaky -> Linear(H, 10) -> Leaky (H = --hidden, 64 by
default), beta = 0.95 (a 20 ms membrane at 1 ms steps), threshold 1, subtract reset, fast-sigmoid
surrogate (slope 25), the image as a constant input current. Trained at 10
steps with the cross entropy of the output membrane potential summed over
the steps (snnTorch's tutorial loss), Adam; the prediction is the class with
the largest output membrane potential summed over the steps.
"""

from __future__ import annotations

import snntorch as snn
import torch
from _peer_common import emit, load, measure, parse_args
from snntorch import surrogate

TRAIN_STEPS = 10


class Net(torch.nn.Module):
    def __init__(self, n_in=64, n_hidden=64, n_out=10, beta=0.95):
        super().__init__()
        grad = surrogate.fast_sigmoid(slope=25)
        self.fc1 = torch.nn.Linear(n_in, n_hidden)
        self.lif1 = snn.Leaky(beta=beta, spike_grad=grad)
        self.fc2 = torch.nn.Linear(n_hidden, n_out)
        self.lif2 = snn.Leaky(beta=beta, spike_grad=grad)

    def forward(self, x, steps):
        """Output membrane potentials, (steps, batch, out)."""
        mem1 = self.lif1.init_leaky()
        mem2 = self.lif2.init_leaky()
        cur1 = self.fc1(x)  # direct input: the same current every step
        mems = []
        for _ in range(steps):
            spk1, mem1 = self.lif1(cur1, mem1)
            _, mem2 = self.lif2(self.fc2(spk1), mem2)
            mems.append(mem2)
        return torch.stack(mems)


def main():
    args = parse_args(__doc__.splitlines()[0])
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    Xtr, ytr, Xte, yte = load(args.data)
    net = Net(Xtr.shape[1], args.hidden, int(ytr.max()) + 1)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    epochs = 60 if args.epochs is None else args.epochs
    gen = torch.Generator().manual_seed(args.seed)
    for _ in range(epochs):
        perm = torch.randperm(len(Xtr), generator=gen)
        for i in range(0, len(Xtr), 64):
            idx = perm[i:i + 64]
            mem = net(Xtr[idx], TRAIN_STEPS)
            loss = sum(torch.nn.functional.cross_entropy(m, ytr[idx]) for m in mem)
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()

    def predict(X, steps):
        return net(X, steps).sum(0).argmax(1)

    result = measure(predict, Xte, yte, args.steps, args.threads, args.repeats)
    result.update(library="snntorch", version=snn.__version__, torch=torch.__version__, epochs=epochs,
                  n_test=len(Xte), hidden=args.hidden)
    emit(result)


if __name__ == "__main__":
    main()

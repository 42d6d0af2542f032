"""spikenet on digits: a SoftLIF MLP converted by ``spikenet.rate.to_spiking`` with its defaults.

Run with the python that has spikenet (``PYTHONPATH`` pointing at the
checkout): ``python run_spikenet.py --data digits.npz``. Prints one result
line (see ``_peer_common.emit``), like the peer runners.

Model: Linear(64, H) -> SoftLIFRate -> Linear(H, 10) (H = --hidden, 64 by
default as for the peers; the benchmark passes 128 to all three), trained
by ``spikenet.rate._digits_model.train_classifier`` (Adam, cross entropy),
converted by ``to_spiking(model, dt=1e-3)`` with its defaults (instantaneous
synapses, rate_scale 10, v_init 0.5, float32). The whole test set runs as
one batch in one kernel call; the prediction is the class with the largest
decoded output. Thread counts are Numba's (``numba.set_num_threads``); the
converted network does not use torch or BLAS at run time.
"""

from __future__ import annotations

import numba
import numpy as np
import torch
from _peer_common import emit, load, measure, parse_args

import spikenet
from spikenet.rate import to_spiking
from spikenet.rate._digits_model import softlif_classifier, train_classifier


def main():
    args = parse_args(__doc__.splitlines()[0])
    torch.manual_seed(args.seed)
    Xtr, ytr, Xte, yte = load(args.data)
    model = softlif_classifier(n_in=Xtr.shape[1], hidden=(args.hidden,), n_out=int(ytr.max()) + 1,
                               seed=args.seed)
    epochs = 30 if args.epochs is None else args.epochs
    train_classifier(model, Xtr, ytr, epochs=epochs, seed=args.seed)
    model.eval()
    with torch.no_grad():
        rate_acc = float((model(Xte).argmax(1) == yte).float().mean())
    snn = to_spiking(model, dt=1e-3)
    x = Xte.numpy()

    def predict(X, steps):
        return torch.as_tensor(np.asarray(snn.run(x, steps * 1e-3)).argmax(1))

    result = measure(predict, Xte, yte, args.steps, args.threads, args.repeats,
                     set_threads=numba.set_num_threads)
    result.update(library="spikenet", version=spikenet.__version__, torch=torch.__version__, epochs=epochs,
                  n_test=len(Xte), hidden=args.hidden, ann_accuracy=rate_acc, dtype=str(snn.dtype))
    emit(result)


if __name__ == "__main__":
    main()

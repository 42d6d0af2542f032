"""A small SoftLIF classifier for the 8x8 digits, shared by the bridge's tests, examples and demo.

Not public API: it fixes one recipe (architecture, initialisation, optimiser)
so that the conversion results in the docs, the examples and the tests all
refer to the same kind of network.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from spikenet._validation import positive_float, positive_int
from spikenet.rate.tuning import SoftLIFRate

#: Activation scale used for the digits model: rates of tens to a few hundred
#: Hz times 0.01 give hidden activities of order one.
AMPLITUDE = 0.01


def load_digits_data(seed=0, test_size=0.25):
    """Train/test split of the bundled 8x8 digits as float32 tensors in [0, 1].

    Returns
    -------
    tuple of torch.Tensor
        ``(X_train, y_train, X_test, y_test)``, X of shape (n, 64), y int64.
    """
    from spikenet.rate import datasets

    X_train, y_train, X_test, y_test = datasets.digits(seed=seed, test_size=test_size)
    return tuple(torch.as_tensor(np.asarray(a)) for a in (X_train, y_train, X_test, y_test))


def softlif_classifier(n_in=64, hidden=(128,), n_out=10, amplitude=AMPLITUDE, sigma=0.02, seed=0):
    """A ``Sequential`` of ``Linear`` layers with ``SoftLIFRate`` between them.

    The hidden biases start at 1 (the LIF threshold) so that every unit sits
    at the steep part of its tuning curve at initialisation.
    """
    seed = positive_int("seed", seed, allow_zero=True)
    sizes = [n_in, *hidden]
    layers: list[torch.nn.Module] = []
    # fork_rng: seed the default initialisers without touching the global RNG state
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for a, b in itertools.pairwise(sizes):
            lin = torch.nn.Linear(a, b)
            with torch.no_grad():
                lin.bias += 1.0
            layers += [lin, SoftLIFRate(sigma=sigma, amplitude=amplitude)]
        layers.append(torch.nn.Linear(sizes[-1], n_out))
    return torch.nn.Sequential(*layers)


def train_classifier(model, X, y, epochs=30, lr=3e-3, batch_size=32, seed=0):
    """Minimise the cross-entropy of ``model(X)`` (logits) against labels ``y`` with Adam via ``fit``.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (batch, in) to logits (batch, classes); trained in place.
    X : torch.Tensor, shape (n, in)
    y : torch.Tensor, shape (n,), int64
    epochs, batch_size : int
    lr : float
        Adam learning rate.
    seed : int
        Seed of the mini-batch order.

    Returns
    -------
    torch.nn.Module
        ``model``, in eval mode.
    """
    epochs = positive_int("epochs", epochs)
    batch_size = positive_int("batch_size", batch_size)
    lr = positive_float("lr", lr)
    from spikenet.rate.train import fit

    seed = positive_int("seed", seed, allow_zero=True)
    fit(
        model,
        (X, y),
        "cross_entropy",
        epochs=epochs,
        lr=lr,
        optimizer="adam",
        batch_size=batch_size,
        seed=seed,
        progress=False,
    )
    return model.eval()


def accuracy(outputs, y) -> float:
    """Fraction of rows of ``outputs`` (batch, classes) whose argmax equals ``y``: ``correct / batch``."""
    predicted = np.asarray(outputs.detach().cpu() if isinstance(outputs, torch.Tensor) else outputs).argmax(1)
    labels = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
    return int((predicted == labels).sum()) / len(labels)


def trained_digits_model(hidden=(128,), epochs=30, seed=0, amplitude=AMPLITUDE):
    """Train the digits classifier; returns ``(model, (X_train, y_train, X_test, y_test))``."""
    data = load_digits_data(seed=seed)
    model = softlif_classifier(hidden=hidden, amplitude=amplitude, seed=seed)
    train_classifier(model, data[0], data[1], epochs=epochs, seed=seed)
    return model, data

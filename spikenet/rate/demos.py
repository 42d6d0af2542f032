r"""The computations behind the rate-model demonstrations (notes chapters 2, 5 and 6).

Each function returns numbers (no plotting), so its claim can be tested;
the scripts in ``examples/`` call them and draw the figures.

- :func:`step_network` / :func:`step_approximation`: the constructive proof
  of the universal approximation theorem (notes 2.2): steep logistic steps
  summing to a target function, with error falling like 1/N.
- :func:`overfitting_demo`: a big network on a handful of noisy samples,
  and how weight decay, dropout and more data lower its test loss (notes 5).
- :func:`deep_logistic_network`, :func:`layer_gradient_norms`: vanishing
  gradients in a deep logistic network at initialisation (notes 6.1).
- :func:`quadratic_descent`: plain versus momentum gradient descent on an
  elongated quadratic bowl (notes 6.3.2), run through :func:`~spikenet.rate.fit`.
- :func:`digits_classifier`: a one-hidden-layer classifier for the 8x8 digits.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from spikenet._validation import as_rng, finite_array, finite_float, positive_float, positive_int
from spikenet.rate import datasets
from spikenet.rate.activations import logistic
from spikenet.rate.layers import Dropout
from spikenet.rate.train import LOSSES, fit

__all__ = [
    "deep_logistic_network",
    "digits_classifier",
    "layer_gradient_norms",
    "overfitting_demo",
    "quadratic_descent",
    "step_approximation",
    "step_network",
]


def _seeded_torch(seed):
    """Context manager: torch's RNG seeded from ``seed`` and restored afterwards."""
    rng = as_rng(seed)
    ctx = torch.random.fork_rng(devices=[])

    class _Ctx:
        def __enter__(self):
            ctx.__enter__()
            torch.manual_seed(int(rng.integers(2**62)))
            return rng

        def __exit__(self, *exc):
            return ctx.__exit__(*exc)

    return _Ctx()


# ---------------------------------------------------------------- approximation
def step_network(f, n, lo=0.0, hi=1.0, steepness=100.0):
    r"""Hidden-layer parameters of the notes' step construction of ``f`` on ``[lo, hi]``.

    Parameters
    ----------
    f : callable
        Vectorised target function ``f(x) -> y``.
    n : int
        Number of hidden logistic units (pieces of width ``(hi - lo)/n``).
    lo, hi : float
        Interval to approximate on.
    steepness : float
        Gain times piece width: ``w = steepness * n / (hi - lo)``; larger is
        closer to a Heaviside step.

    Returns
    -------
    w, theta, alpha : ndarray, shape (n,)
        Input weights, biases and output weights such that
        :math:`G(x) = \sum_j \alpha_j \sigma(w_j x + \theta_j)`.

    Notes
    -----
    Notes 2.2 sum pieces :math:`\alpha_j [H(x; b_j) - H(x; b_j + \delta)]` with
    :math:`\alpha_j = f(a_j)`. Telescoping adjacent pieces needs only one
    unit per edge: a step of height :math:`f(c_0)` at the far left and steps
    of height :math:`f(c_j) - f(c_{j-1})` at each inner edge
    :math:`b_j = lo + j\delta`, where :math:`c_j` is the centre of piece j.
    For a Lipschitz ``f`` (constant L) the error is at most
    :math:`L\delta = L (hi - lo)/n` once the steps are steep.
    """
    n = positive_int("n", n)
    lo, hi = finite_float("lo", lo), finite_float("hi", hi)
    if not hi > lo:
        raise ValueError(f"hi must be > lo, got lo={lo}, hi={hi}")
    steepness = positive_float("steepness", steepness)
    delta = (hi - lo) / n
    centres = lo + delta * (np.arange(n) + 0.5)
    values = finite_array("f(x)", np.asarray(f(centres), dtype=np.float64).reshape(n))
    edges = lo + delta * np.arange(n)
    edges[0] = lo - (hi - lo)  # the first step sits well left of the interval
    gain = steepness / delta
    alpha = np.diff(values, prepend=0.0)
    w = np.full(n, gain)
    theta = -gain * edges
    return w, theta, alpha


def step_approximation(f, n, x, lo=0.0, hi=1.0, steepness=100.0):
    r"""Evaluate the step network of :func:`step_network` at points ``x``.

    Parameters
    ----------
    f, n, lo, hi, steepness
        As for :func:`step_network`.
    x : array_like, shape (m,)
        Points at which to evaluate.

    Returns
    -------
    ndarray, shape (m,)
        :math:`G(x) = \sum_j \alpha_j \sigma(w_j x + \theta_j)`.

    Examples
    --------
    >>> x = np.linspace(0, 1, 5)
    >>> bool(np.max(np.abs(step_approximation(np.sin, 50, x) - np.sin(x))) < 1 / 50)
    True
    """
    w, theta, alpha = step_network(f, n, lo, hi, steepness)
    x = finite_array("x", x, ndim=1)
    return logistic(np.outer(x, w) + theta) @ alpha


# ----------------------------------------------------------------- overfitting
def _regression_target(x):
    """Smooth, saturating dose-response curve used for the overfitting demo."""
    return 0.3 + 0.6 * x - 0.3 * x**2


def _regression_data(n, noise, rng):
    x = rng.uniform(0.0, 1.0, size=(n, 1))
    return x, _regression_target(x) + noise * rng.standard_normal((n, 1))


def _mlp(hidden, p_drop):
    layers = [torch.nn.Linear(1, hidden), torch.nn.ReLU()]
    if p_drop:
        layers.append(Dropout(p_drop))
    layers += [torch.nn.Linear(hidden, hidden), torch.nn.ReLU()]
    if p_drop:
        layers.append(Dropout(p_drop))
    layers.append(torch.nn.Linear(hidden, 1))
    return torch.nn.Sequential(*layers).double()


def overfitting_demo(
    n_train=6,
    n_more=300,
    n_test=300,
    noise=0.1,
    hidden=50,
    epochs=600,
    lr=0.01,
    weight_decay=1e-3,
    dropout=0.2,
    seed=0,
):
    r"""Overfit a small noisy regression set, then apply each remedy of notes 5.3.

    A network with two hidden layers of ``hidden`` ReLU units is trained
    with Adam on ``n_train`` noisy samples of a smooth curve, and its mean
    squared error (:func:`~spikenet.rate.losses.mse`) is measured on
    ``n_test`` fresh noisy samples. The same initial weights are then
    trained with weight decay, with dropout after each hidden layer, and on
    ``n_more`` samples instead.

    Parameters
    ----------
    n_train, n_more, n_test : int
        Sizes of the small, the larger training set and the test set.
    noise : float
        Standard deviation of the target noise (>= 0).
    hidden : int
        Units per hidden layer.
    epochs : int
        Full-batch training epochs for every model.
    lr : float
        Adam learning rate.
    weight_decay : float
        :math:`\bar\lambda` of the weight-decay run.
    dropout : float
        Drop probability of the dropout run.
    seed : None, int or numpy.random.Generator
        Seeds the data, the initial weights and the dropout masks.

    Returns
    -------
    dict
        Keys ``"data"`` (the ``(x, t)`` arrays: ``"train"``, ``"more"``,
        ``"test"``) and, for each of ``"plain"``, ``"weight_decay"``,
        ``"dropout"``, ``"more_data"``, a dict with ``"model"`` (the trained
        network, in eval mode), ``"train_loss"`` (final epoch) and
        ``"test_loss"``.
    """
    n_train, n_more, n_test = (
        positive_int(k, v) for k, v in (("n_train", n_train), ("n_more", n_more), ("n_test", n_test))
    )
    noise = positive_float("noise", noise, allow_zero=True)
    hidden = positive_int("hidden", hidden)
    rng = as_rng(seed)
    data = {
        "train": _regression_data(n_train, noise, rng),
        "more": _regression_data(n_more, noise, rng),
        "test": _regression_data(n_test, noise, rng),
    }
    x_test, t_test = (torch.from_numpy(a) for a in data["test"])
    init_seed = int(rng.integers(2**62))
    runs = {
        "plain": (0.0, 0.0, "train"),
        "weight_decay": (weight_decay, 0.0, "train"),
        "dropout": (0.0, dropout, "train"),
        "more_data": (0.0, 0.0, "more"),
    }
    out = {"data": data}
    for name, (wd, p, key) in runs.items():
        with _seeded_torch(init_seed):
            model = _mlp(hidden, p)
        hist = fit(
            model,
            data[key],
            "mse",
            epochs,
            lr=lr,
            optimizer="adam",
            weight_decay=wd,
            seed=init_seed,
            progress=False,
        )
        with torch.no_grad():
            test_loss = LOSSES["mse"](model(x_test), t_test).item()
        out[name] = {"model": model, "train_loss": hist.loss[-1], "test_loss": test_loss}
    return out


# ---------------------------------------------------------- vanishing gradients
def deep_logistic_network(depth=5, width=4, n_in=None, n_out=None, seed=None):
    r"""A deep stack of ``Linear`` + logistic layers with torch's default initialisation.

    Parameters
    ----------
    depth : int
        Number of ``Linear`` layers (each followed by a logistic unit).
    width : int
        Units per layer (also the input and output size unless given).
    n_in, n_out : int, optional
        Input and output sizes.
    seed : None, int or numpy.random.Generator
        Seeds the initial weights (torch's global RNG is left untouched).

    Returns
    -------
    torch.nn.Sequential
        float64 network; weights and biases drawn uniformly from
        :math:`\pm 1/\sqrt{\text{fan-in}}`.
    """
    depth, width = positive_int("depth", depth), positive_int("width", width)
    n_in = width if n_in is None else positive_int("n_in", n_in)
    n_out = width if n_out is None else positive_int("n_out", n_out)
    sizes = [n_in] + [width] * (depth - 1) + [n_out]
    layers = []
    with _seeded_torch(seed):
        for a, b in itertools.pairwise(sizes):
            layers += [torch.nn.Linear(a, b), torch.nn.Sigmoid()]
    return torch.nn.Sequential(*layers).double()


def layer_gradient_norms(model, x, t, loss="mse"):
    r"""Norms of the loss gradient with respect to each layer's input currents.

    Parameters
    ----------
    model : torch.nn.Module
        Network whose ``torch.nn.Linear`` submodules produce the input
        currents :math:`z^{(i)}` (in order of execution).
    x : array_like or torch.Tensor, shape (N, n_in)
        Batch of inputs.
    t : array_like or torch.Tensor
        Targets for ``loss``.
    loss : str or callable
        As for :func:`~spikenet.rate.fit`.

    Returns
    -------
    ndarray, shape (n_linear,)
        :math:`\|\nabla_{z^{(i)}} E\|` (Frobenius norm over the batch), from the
        first (input-side) layer to the last. The model's ``.grad`` fields
        are not touched.

    Notes
    -----
    Backprop gives :math:`\nabla_{z^{(i)}} E = \sigma'(z^{(i)}) \odot
    (\nabla_{z^{(i+1)}} E\, W^{(i+1)})`; with logistic units
    :math:`\sigma' \le 1/4`, so unless the weights compensate the norm
    shrinks by at least 4 per layer going down (notes 6.1).
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    loss_fn = LOSSES[loss] if isinstance(loss, str) else loss
    param = next(model.parameters())
    x = torch.as_tensor(finite_array("x", x), dtype=param.dtype)
    t = torch.as_tensor(finite_array("t", t), dtype=param.dtype)
    currents = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: currents.append(out))
        for m in model.modules()
        if isinstance(m, torch.nn.Linear)
    ]
    try:
        E = loss_fn(model(x), t)
    finally:
        for h in hooks:
            h.remove()
    if not currents:
        raise ValueError("model has no torch.nn.Linear layers")
    grads = torch.autograd.grad(E, currents)
    return np.array([g.norm().item() for g in grads])


# --------------------------------------------------------------------- momentum
class _Bowl(torch.nn.Module):
    """``E(theta) = 1/2 sum_i c_i theta_i^2``; records theta at every training call."""

    def __init__(self, curvatures, start):
        super().__init__()
        self.register_buffer("c", torch.as_tensor(curvatures, dtype=torch.float64))
        self.theta = torch.nn.Parameter(torch.as_tensor(start, dtype=torch.float64).clone())
        self.path = []

    def forward(self, x):
        if self.training:
            self.path.append(self.theta.detach().numpy().copy())
        return 0.5 * (self.c * self.theta**2).sum() + 0.0 * x.sum()


def quadratic_descent(
    curvatures=(1.0, 100.0), start=(-1.0, 0.5), lr=0.01, momentum=0.0, epochs=100, momentum_form="classic"
):
    r"""Minimise an elongated quadratic bowl with :func:`~spikenet.rate.fit`.

    Parameters
    ----------
    curvatures : sequence of float
        Positive curvatures :math:`c_i` of :math:`E(\theta) = \frac12\sum_i c_i\theta_i^2`;
        their ratio is the bowl's elongation.
    start : sequence of float
        Initial :math:`\theta`, same length.
    lr, momentum, epochs, momentum_form
        Passed to :func:`~spikenet.rate.fit` (one gradient step per epoch).

    Returns
    -------
    path : ndarray, shape (epochs + 1, n)
        :math:`\theta` before each step and after the last.
    energy : ndarray, shape (epochs + 1,)
        :math:`E` along the path.

    Notes
    -----
    Plain gradient descent is stable only for :math:`\kappa < 2/c_{max}`, so
    along the shallow direction it contracts by :math:`1 - \kappa c_{min}`
    per step; momentum builds up speed along the valley floor and damps the
    oscillation across it (notes 6.3.2, case 1).
    """
    c = finite_array("curvatures", curvatures, ndim=1)
    if c.size == 0 or np.any(c <= 0):
        raise ValueError("curvatures must be a non-empty sequence of positive numbers")
    s = finite_array("start", start, ndim=1)
    if s.shape != c.shape:
        raise ValueError(f"start must have {c.size} entries to match curvatures, got {s.size}")
    bowl = _Bowl(c, s)
    dummy = (np.zeros((1, 1)), np.zeros((1, 1)))
    fit(
        bowl,
        dummy,
        lambda y, t: y,
        epochs,
        lr=lr,
        momentum=momentum,
        momentum_form=momentum_form,
        progress=False,
    )
    path = np.vstack([*bowl.path, bowl.theta.detach().numpy()])
    energy = 0.5 * (c * path**2).sum(axis=1)
    return path, energy


# ----------------------------------------------------------------------- digits
def digits_classifier(hidden=64, epochs=30, lr=0.01, batch_size=32, seed=0, progress=False):
    r"""Train a one-hidden-layer classifier on the 8x8 digits with :func:`~spikenet.rate.fit`.

    Architecture: 64 inputs -> ``hidden`` logistic units -> 10 outputs read
    as logits of a softmax (``"cross_entropy"`` loss), trained with Adam on
    minibatches; the held-out test set (25%) is also the validation set.

    Parameters
    ----------
    hidden : int
        Number of hidden units.
    epochs, lr, batch_size, progress
        Passed to :func:`~spikenet.rate.fit`.
    seed : None, int or numpy.random.Generator
        Seeds the split, the initial weights and the shuffling.

    Returns
    -------
    model : torch.nn.Sequential
        The trained classifier (eval mode; float32).
    history : History
        Training and test loss per epoch.
    accuracy : float
        Fraction of test digits classified correctly.
    """
    rng = as_rng(seed)
    X_train, y_train, X_test, y_test = datasets.digits(seed=rng)
    with _seeded_torch(rng):
        model = torch.nn.Sequential(
            torch.nn.Linear(64, positive_int("hidden", hidden)),
            torch.nn.Sigmoid(),
            torch.nn.Linear(hidden, 10),
        )
    history = fit(
        model,
        (X_train, y_train),
        "cross_entropy",
        epochs,
        lr=lr,
        optimizer="adam",
        batch_size=batch_size,
        val_data=(X_test, y_test),
        seed=rng,
        progress=progress,
    )
    with torch.no_grad():
        pred = model(torch.from_numpy(X_test)).argmax(dim=1).numpy()
    return model, history, float((pred == y_test).mean())

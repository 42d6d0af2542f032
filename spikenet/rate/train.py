r"""Training loop for rate models: minibatch gradient descent.

:func:`fit` trains any ``torch.nn.Module`` on ``(X, T)`` data with plain or
momentum SGD (both usual forms) or Adam, optional weight decay and
L1 penalties, seeded minibatch shuffling,
validation curves and a tqdm progress bar, and returns a
:class:`History`.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from spikenet._validation import as_rng, choice, positive_float, positive_int
from spikenet.rate import _threads
from spikenet.rate import losses as _losses
from spikenet.rate._arrays import check_labels, check_width

__all__ = ["LOSSES", "OPTIMIZERS", "History", "fit"]

#: Loss names accepted by :func:`fit`. ``"cross_entropy"`` treats the model
#: outputs as logits (softmax applied inside the loss, like
#: ``torch.nn.CrossEntropyLoss``); ``"categorical_ce"`` expects probabilities.
LOSSES = {
    "mse": _losses.mse,
    "bce": _losses.bce,
    "categorical_ce": _losses.categorical_ce,
    "cross_entropy": lambda y, t: _losses.categorical_ce(y, t, logits=True),
}
#: Optimizer names accepted by :func:`fit`.
OPTIMIZERS = ("sgd", "adam")
_MOMENTUM_FORMS = ("classic", "ema")


@dataclass
class History:
    """Per-epoch record of a :func:`fit` run.

    Attributes
    ----------
    loss : list of float
        Training loss of each epoch: the data loss (without weight-decay or
        L1 penalties) averaged over the epoch's minibatches, weighted by
        batch size, as computed during the epoch (training mode).
    val_loss : list of float
        Loss on ``val_data`` at the end of each epoch, in evaluation mode
        (empty without ``val_data``).
    """

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Number of completed epochs."""
        return len(self.loss)

    def plot(self, ax=None):
        """Plot the training (and validation) loss curves against epoch.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw into; a new figure is made when None.

        Returns
        -------
        matplotlib.axes.Axes
        """
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots()
        epochs = np.arange(1, len(self.loss) + 1)
        ax.plot(epochs, self.loss, label="train")
        if self.val_loss:
            ax.plot(epochs, self.val_loss, label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_yscale("log")
        ax.legend()
        return ax


def _as_tensor(name, x, dtype, device, allow_int):
    if isinstance(x, torch.Tensor):
        t = x.detach().to(device)
    else:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as exc:  # pragma: no cover - numpy rarely refuses
            raise TypeError(f"{name} must be an array or tensor, got {type(x).__name__}") from exc
        if arr.dtype == object or not (
            np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
        ):
            raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
        t = torch.as_tensor(arr, device=device)
    if allow_int and not torch.is_floating_point(t) and t.dtype != torch.bool:
        return t.long()
    t = t.to(dtype)
    if t.numel() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return t


def _as_data(name, data, dtype, device):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be a tuple (X, T) of inputs and targets, got {type(data).__name__}")
    X = _as_tensor(f"{name} inputs X", data[0], dtype, device, allow_int=False)
    T = _as_tensor(f"{name} targets T", data[1], dtype, device, allow_int=True)
    if X.dim() == 0 or T.dim() == 0:
        raise ValueError(f"{name} X and T need a leading sample axis")
    if X.shape[0] != T.shape[0]:
        raise ValueError(
            f"{name} X and T must have the same number of samples, got {X.shape[0]} and {T.shape[0]}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    return X, T


def _resolve_loss(loss):
    if isinstance(loss, str):
        return LOSSES[choice("loss", loss, list(LOSSES))]
    if callable(loss):
        return loss
    raise TypeError(f"loss must be a callable (y, t) -> scalar tensor or one of {list(LOSSES)}, got {loss!r}")


def _loss_value(fn, y, t):
    value = fn(y, t)
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        raise TypeError("loss must return a scalar torch.Tensor (use torch operations on y)")
    return value.reshape(())


class _Diverged(Exception):
    def __init__(self, reason, epoch, batch=None):
        super().__init__(reason, epoch, batch)


def fit(
    model,
    data,
    loss,
    epochs,
    lr=0.1,
    optimizer="sgd",
    momentum=0.0,
    weight_decay=0.0,
    l1=0.0,
    batch_size=None,
    val_data=None,
    seed=None,
    progress=True,
    *,
    momentum_form="classic",
    threads=None,
):
    r"""Train ``model`` by minibatch gradient descent.

    Parameters
    ----------
    model : torch.nn.Module
        The network; its parameters are updated in place. Data are converted
        to the dtype and device of its first parameter.
    data : tuple (X, T)
        Training inputs ``X`` (N, ...) and targets ``T`` (N, ...), numpy
        arrays or tensors. Integer ``T`` (e.g. class indices for
        ``"cross_entropy"`` / ``"categorical_ce"``) stays integer; float
        ``T`` is converted to the model's dtype.
    loss : str or callable
        ``"mse"``, ``"bce"``, ``"categorical_ce"`` (model outputs are
        probabilities) or ``"cross_entropy"`` (model outputs are logits), see
        :mod:`spikenet.rate.losses`; or any callable ``loss(y, t)`` returning
        a scalar tensor, where ``y = model(X_batch)``.
    epochs : int
        Number of passes through the data (> 0).
    lr : float, optional
        Learning rate :math:`\kappa` (> 0).
    optimizer : {"sgd", "adam"}, optional
        ``"sgd"``: (momentum) gradient descent written out below. ``"adam"``:
        Adam (Kingma & Ba 2015) with betas (0.9, 0.999) and eps 1e-8, the
        same update as ``torch.optim.Adam``; ``momentum`` must be 0.
    momentum : float, optional
        Momentum coefficient :math:`\beta` in [0, 1) (SGD only).
    weight_decay : float, optional
        :math:`\bar\lambda` of the penalty :math:`\frac{\bar\lambda}{2}\|\theta\|_F^2`,
        i.e. :math:`\bar\lambda\theta` is added to every parameter's gradient
        (weights and biases).
    l1 : float, optional
        Coefficient of the penalty :math:`l_1 \sum_i |\theta_i|`: adds
        :math:`l_1 \operatorname{sign}(\theta)` to the gradient.
    batch_size : int, optional
        Minibatch size; None (default) means full-batch gradient descent.
        Values above N are clipped to N.
    val_data : tuple (X, T), optional
        Validation set, evaluated after every epoch in evaluation mode.
    seed : None, int or numpy.random.Generator, optional
        Seeds the minibatch shuffling (a ``numpy.random.Generator``) and, when
        given, torch's RNG for the duration of the call (dropout masks and
        other torch randomness), inside ``torch.random.fork_rng`` so the
        global torch RNG state is restored afterwards. With the same seed
        and initial parameters, runs are identical.
    progress : bool, optional
        Show a tqdm progress bar with the current losses.
    momentum_form : {"classic", "ema"}, optional
        The two usual momentum forms: ``"classic"``
        :math:`V \leftarrow \beta V + \nabla E`, or ``"ema"``
        :math:`V \leftarrow \beta V + (1-\beta) \nabla E`; then
        :math:`\theta \leftarrow \theta - \kappa V`. Both are the
        friction form :math:`V \leftarrow (1-r)V + \eta\nabla E` with
        :math:`r = 1 - \beta` and :math:`\eta = 1` or :math:`\eta = r`.
    threads : None or int, optional
        PyTorch intra-op threads (``torch.set_num_threads``) for the duration
        of the call; the caller's setting is restored on return, also after
        an error. None (default) chooses: one thread when a minibatch is small
        (``batch_size`` times the number of trainable parameters below
        2**24, about 17 million multiply-adds), else torch's current setting
        ``torch.get_num_threads()`` (which honours ``OMP_NUM_THREADS`` and an
        earlier ``torch.set_num_threads``). An int (>= 1) is used as given.
        See Notes.

    Returns
    -------
    History
        Per-epoch ``loss`` and ``val_loss``.

    Raises
    ------
    TypeError, ValueError
        For bad arguments (the message names the argument), among them
        inputs whose last axis does not match the width of the model's first
        layer (checked for a ``torch.nn.Linear`` first layer and spikenet's
        models) and, for ``"cross_entropy"``/``"categorical_ce"``, integer
        class labels outside ``[0, K)`` for a model with ``K`` outputs.
    FloatingPointError
        If the model output or the loss becomes NaN or inf; the message says
        at which epoch and batch, and the exception's ``history`` attribute
        holds the completed epochs.

    Notes
    -----
    The model is put in training mode while it learns and left in
    evaluation mode afterwards, ready for prediction (dropout off, batch
    normalisation on its running statistics).

    Threads: each operation of a small network takes microseconds, less than
    PyTorch needs to wake and join its worker threads, and on a busy machine
    the workers also wait for cores held by other processes. Training the
    8x8 digits on a 64-128-10 network in minibatches of 32 (20 epochs) on a
    two-core machine took 0.41 s with one thread and 0.48-0.67 s with two
    when the machine was quiet, and 1.8-2.2 s against 19-22 s when other jobs
    loaded it; the default chose one thread and took 0.40 s (quiet). With
    full batches of a 64-1024-10 network the default chooses two threads:
    0.15 s against 0.27 s with one (quiet). Pass ``threads=torch.get_num_threads()`` (or any
    count) to keep more threads for a small model. The thread count is a
    process-wide setting: other Python threads running torch during the
    call see it too.

    Examples
    --------
    >>> import torch
    >>> from spikenet.rate.datasets import xor
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(),
    ...                           torch.nn.Linear(8, 1), torch.nn.Sigmoid())
    >>> hist = fit(net, xor(), "bce", epochs=300, lr=0.05, optimizer="adam", progress=False)
    >>> hist.loss[-1] < 0.05
    True
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    loss_fn = _resolve_loss(loss)
    epochs = positive_int("epochs", epochs)
    lr = positive_float("lr", lr)
    optimizer = choice("optimizer", optimizer, OPTIMIZERS)
    momentum = positive_float("momentum", momentum, allow_zero=True)
    if momentum >= 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    if optimizer == "adam" and momentum != 0:
        raise ValueError("momentum applies to optimizer='sgd' only (Adam has its own moment estimates)")
    momentum_form = choice("momentum_form", momentum_form, _MOMENTUM_FORMS)
    weight_decay = positive_float("weight_decay", weight_decay, allow_zero=True)
    l1 = positive_float("l1", l1, allow_zero=True)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be a bool, got {type(progress).__name__}")
    dtype, device = params[0].dtype, params[0].device
    X, T = _as_data("data", data, dtype, device)
    n = X.shape[0]
    if batch_size is None:
        batch_size = n
    batch_size = min(positive_int("batch_size", batch_size), n)
    val = _as_data("val_data", val_data, dtype, device) if val_data is not None else None
    check_width("data inputs X", X, model)
    if val is not None:
        check_width("val_data inputs X", val[0], model)
    # class labels are checked against the model's number of outputs at the first batch
    labels_to_check = loss in ("cross_entropy", "categorical_ce") and not torch.is_floating_point(T)
    rng = as_rng(seed)
    n_threads = _threads.resolve_threads(threads, batch_size, _threads.n_parameters(model))

    if optimizer == "adam":
        opt = _Adam(params, lr, weight_decay, l1)
    else:
        opt = _GradientDescent(params, lr, momentum, momentum_form, weight_decay, l1)
    history = History()

    rng_context = contextlib.nullcontext()
    if seed is not None:
        rng_context = torch.random.fork_rng(devices=[])
    from tqdm.auto import tqdm

    with rng_context, _threads.torch_threads(n_threads):
        if seed is not None:
            torch.manual_seed(int(rng.integers(2**62)))
        bar = tqdm(range(epochs), desc="fit", disable=not progress, leave=False)
        try:
            for epoch in bar:
                model.train()
                order = rng.permutation(n) if batch_size < n else np.arange(n)
                total = 0.0
                for b, start in enumerate(range(0, n, batch_size)):
                    idx = torch.as_tensor(order[start : start + batch_size], device=device)
                    y = model(X[idx])
                    if labels_to_check:
                        _check_class_labels(y, T, val)
                        labels_to_check = False
                    if isinstance(y, torch.Tensor) and not bool(torch.isfinite(y.detach()).all()):
                        raise _Diverged("the model output became NaN or inf", epoch, b)
                    value = _loss_value(loss_fn, y, T[idx])
                    if not bool(torch.isfinite(value.detach())):
                        raise _Diverged(f"the loss became {value.item()}", epoch, b)
                    for p in params:
                        p.grad = None
                    value.backward()
                    opt.step()
                    total += value.item() * len(idx)
                history.loss.append(total / n)
                if val is not None:
                    history.val_loss.append(_evaluate(model, loss_fn, val, epoch))
                    bar.set_postfix(loss=history.loss[-1], val_loss=history.val_loss[-1])
                else:
                    bar.set_postfix(loss=history.loss[-1])
        except _Diverged as exc:
            reason, epoch, batch = exc.args
            where = f"at epoch {epoch + 1} of {epochs}" + ("" if batch is None else f" (batch {batch + 1})")
            err = FloatingPointError(f"training diverged {where}: {reason}; try a smaller lr (got {lr})")
            err.history = history
            raise err from None
        finally:
            bar.close()
            model.eval()
    return history


def _check_class_labels(y, T, val):
    if not isinstance(y, torch.Tensor) or y.dim() < 2:
        return  # the loss reports outputs of the wrong shape
    check_labels("data targets T", T, y.shape[1])
    if val is not None and not torch.is_floating_point(val[1]):
        check_labels("val_data targets T", val[1], y.shape[1])


def _evaluate(model, loss_fn, val, epoch):
    model.eval()
    with torch.no_grad():
        y = model(val[0])
        if isinstance(y, torch.Tensor) and not bool(torch.isfinite(y).all()):
            raise _Diverged("the model output on val_data became NaN or inf", epoch)
        value = _loss_value(loss_fn, y, val[1])
    if not bool(torch.isfinite(value)):
        raise _Diverged(f"the validation loss became {value.item()}", epoch)
    return value.item()


class _GradientDescent:
    """Plain or momentum gradient descent on penalised gradients."""

    def __init__(self, params, lr, momentum, form, weight_decay, l1):
        self.params, self.lr, self.momentum, self.form = params, lr, momentum, form
        self.weight_decay, self.l1 = weight_decay, l1
        self.velocities = [torch.zeros_like(p) for p in params] if momentum > 0 else None

    def grad(self, p):
        g = p.grad
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.l1:
            g = g + self.l1 * torch.sign(p)
        return g

    @torch.no_grad()
    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = self.grad(p)
            if self.velocities is not None:
                v = self.velocities[i]
                v.mul_(self.momentum).add_(g if self.form == "classic" else (1.0 - self.momentum) * g)
                g = v
            p.sub_(self.lr * g)


class _Adam(_GradientDescent):
    """Adam (Kingma & Ba 2015) with betas (0.9, 0.999) and eps 1e-8, as ``torch.optim.Adam``.

    ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
    ``theta <- theta - lr (m / (1-b1^k)) / (sqrt(v / (1-b2^k)) + eps)``.
    """

    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def __init__(self, params, lr, weight_decay, l1):
        super().__init__(params, lr, 0.0, "classic", weight_decay, l1)
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.k = [0] * len(params)

    @torch.no_grad()
    def step(self):
        b1, b2 = self.beta1, self.beta2
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = self.grad(p)
            self.k[i] += 1
            self.m[i].lerp_(g, 1 - b1)
            self.v[i].mul_(b2).addcmul_(g, g, value=1 - b2)
            c1, c2 = 1 - b1 ** self.k[i], 1 - b2 ** self.k[i]
            denom = (self.v[i].sqrt() / math.sqrt(c2)).add_(self.eps)
            p.addcdiv_(self.m[i], denom, value=-self.lr / c1)

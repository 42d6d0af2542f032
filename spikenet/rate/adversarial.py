"""Adversarial attacks (FGSM, PGD) and defences (adversarial training, TRADES).

All functions take a classifier ``model`` that maps inputs ``(batch, ...)``
to logits ``(batch, classes)`` and integer class labels ``t`` ``(batch,)``.
Perturbations live in the infinity-norm ball ``||x' - x||_inf <= eps``, and
the adversarial inputs are kept in the valid range ``clip`` (pixels in
[0, 1] by default). The ball constraint holds exactly, in real arithmetic,
for the stored floating-point values (not just up to round-off).
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
import torch.nn.functional as F

from spikenet._validation import as_rng, choice, positive_float, positive_int
from spikenet.rate import _threads
from spikenet.rate._arrays import check_labels, check_width, module_dtype_device

__all__ = ["accuracy", "adversarial_training", "fgsm", "pgd", "trades_loss"]


def _eps(name: str, value) -> float:
    return positive_float(name, value, allow_zero=True)


def _clip(clip):
    if clip is None:
        return None
    try:
        lo, hi = (float(c) for c in clip)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"clip must be None or a pair (low, high), got {clip!r}") from exc
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"clip must be a finite pair with low < high, got {clip!r}")
    return lo, hi


def _inputs(x, t, model, names=("x", "t")):
    """``x`` and ``t`` as tensors, and whether ``x`` came as numpy (then results go back as numpy).

    Numpy inputs take the dtype of the model's parameters (float32 without them).
    """
    x_name, t_name = names
    numpy_in = not isinstance(x, torch.Tensor)
    if numpy_in:
        arr = np.asarray(x)
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise TypeError(f"{x_name} must be a numeric array or tensor, got dtype {arr.dtype}")
        dtype, device = (module_dtype_device(model) if isinstance(model, torch.nn.Module)
                         else (torch.float32, None))
        x = torch.tensor(arr, dtype=dtype, device=device)
    if not torch.is_floating_point(x):
        raise TypeError(f"{x_name} must be a floating-point tensor, got {x.dtype}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{x_name} contains NaN or inf")
    check_width(x_name, x, model)
    if not isinstance(t, torch.Tensor):
        t = torch.tensor(np.asarray(t), device=x.device)
    if t.dim() != 1 or t.shape[0] != x.shape[0] or torch.is_floating_point(t):
        raise ValueError(
            f"{t_name} must hold one integer class label per row of {x_name} ({x.shape[0]}), got shape "
            f"{tuple(t.shape)} and dtype {t.dtype}"
        )
    if t.numel() and int(t.min()) < 0:
        raise ValueError(f"{t_name} must hold class labels >= 0, got {int(t.min())}")
    return x.detach(), t.long(), numpy_in


def _logits(model, x, t, t_name="t"):
    """``model(x)``, checked to be logits (batch, classes) with every label of ``t`` among the classes."""
    out = model(x)
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.shape[0] != x.shape[0]:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"model must return logits of shape (batch, classes) = ({x.shape[0]}, K), "
                         f"got {shape}")
    check_labels(t_name, t, out.shape[1])
    return out


def _result(x_adv, numpy_in):
    x_adv = x_adv.detach()
    return x_adv.cpu().numpy() if numpy_in else x_adv


def _default_loss(logits, t):
    return F.cross_entropy(logits, t)


def _ball_bounds(x, eps):
    """``x - eps`` and ``x + eps`` in the dtype of ``x``, each rounded towards ``x``.

    Computing ``x + eps`` in float32 rounds ``eps`` itself and the sum, so
    the bound can lie outside the ball by several ulps of a small ``x``; the
    bounds are formed in float64 and stepped towards ``x`` until, compared
    in float64 (exact for float32 values), they lie inside.
    """
    x64 = x.double()
    lo = (x64 - eps).to(x.dtype)
    hi = (x64 + eps).to(x.dtype)
    for _ in range(4):  # float64 -> float32 rounding moves a bound by at most one ulp
        bad_lo = (x64 - lo.double()) > eps
        bad_hi = (hi.double() - x64) > eps
        if not (bad_lo.any() or bad_hi.any()):
            break
        lo = torch.where(bad_lo, torch.nextafter(lo, x), lo)
        hi = torch.where(bad_hi, torch.nextafter(hi, x), hi)
    return lo, hi


def _project(x_adv, x, eps, clip):
    """Project onto ``{x' : |x' - x|_inf <= eps}`` intersected with the clip box.

    The ball constraint holds exactly for the stored values (see
    :func:`_ball_bounds`). If ``x`` itself lies in the clip range, clipping
    only moves entries towards ``x`` and keeps them in the ball.
    """
    lo, hi = _ball_bounds(x, eps)
    x_adv = torch.maximum(torch.minimum(x_adv, hi), lo)
    if clip is not None:
        x_adv = x_adv.clamp(clip[0], clip[1])
    return x_adv


def _input_gradient(model, x, t, loss):
    with torch.enable_grad():  # attacks also work when called under torch.no_grad()
        x = x.clone().requires_grad_(True)
        value = loss(model(x), t) if loss is not None else _default_loss(_logits(model, x, t), t)
        (grad,) = torch.autograd.grad(value, x)
    return grad


def fgsm(model, x, t, eps, targeted=False, loss=None, clip=(0, 1)):
    """Fast gradient sign method (Goodfellow et al. 2015).

    Parameters
    ----------
    model : callable
        Classifier returning logits ``(batch, classes)``.
    x : torch.Tensor or ndarray, shape (batch, ...)
        Clean inputs. Numpy inputs are converted to the dtype of the model's
        parameters, and the result is then a numpy array.
    t : torch.Tensor or ndarray of int, shape (batch,)
        True labels (untargeted) or the classes to reach (targeted), in
        ``[0, classes)`` (checked with the default loss).
    eps : float
        Infinity-norm radius of the perturbation, in input units (>= 0).
    targeted : bool
        False: step up the loss of ``t``, ``x + eps sign(grad_x L(f(x), t))``.
        True: step down the loss of the target, ``x - eps sign(grad_x L(f(x), t))``.
    loss : callable, optional
        ``loss(logits, t) -> scalar``; default cross-entropy on logits.
    clip : (float, float) or None
        Valid input range; the result is clamped into it.

    Returns
    -------
    torch.Tensor or ndarray, same shape as ``x``
        Adversarial inputs, detached, with ``|x' - x| <= eps`` everywhere;
        numpy when ``x`` is.

    Raises
    ------
    ValueError
        For labels outside ``[0, classes)``, inputs whose width does not fit
        the model's first layer, or other bad arguments (naming them).
    """
    eps = _eps("eps", eps)
    clip = _clip(clip)
    x, t, numpy_in = _inputs(x, t, model)
    grad = _input_gradient(model, x, t, loss)
    step = -grad.sign() if targeted else grad.sign()
    return _result(_project(x + eps * step, x, eps, clip), numpy_in)


def pgd(model, x, t, eps, alpha, steps, targeted=False, loss=None, clip=(0, 1),
        random_start=False, seed=None):
    """Projected gradient descent/ascent in the infinity-norm ball (Madry et al. 2018).

    Parameters
    ----------
    model, x, t, targeted, loss, clip
        As for :func:`fgsm`.
    eps : float
        Radius of the ball (>= 0).
    alpha : float
        Size of each signed-gradient step (> 0).
    steps : int
        Number of steps; each is followed by the projection onto the ball
        and the clip range.
    random_start : bool
        Start from a uniform random point of the ball instead of ``x``.
    seed : None, int or numpy.random.Generator
        Seeds the random start.

    Returns
    -------
    torch.Tensor or ndarray, same shape as ``x``
        Numpy when ``x`` is.
    """
    eps = _eps("eps", eps)
    alpha = positive_float("alpha", alpha)
    steps = positive_int("steps", steps)
    clip = _clip(clip)
    x, t, numpy_in = _inputs(x, t, model)
    x_adv = x.clone()
    if random_start:
        gen = torch.Generator().manual_seed(int(as_rng(seed).integers(2**63)))
        noise = torch.rand(x.shape, generator=gen, dtype=x.dtype) * 2 - 1
        x_adv = _project(x + eps * noise, x, eps, clip)
    for _ in range(steps):
        grad = _input_gradient(model, x_adv, t, loss)
        step = -grad.sign() if targeted else grad.sign()
        x_adv = _project(x_adv + alpha * step, x, eps, clip)
    return _result(x_adv, numpy_in)


def _kl_clean_adv(logits_clean, logits_adv):
    """Mean over the batch of ``KL(softmax(clean) || softmax(adv))``."""
    return F.kl_div(F.log_softmax(logits_adv, dim=1), F.log_softmax(logits_clean, dim=1),
                    reduction="batchmean", log_target=True)


def trades_loss(model, x, t, eps, beta, steps=5, alpha=None, clip=(0, 1), seed=None):
    """TRADES surrogate loss (Zhang et al. 2019).

    ``CE(f(x), t) + beta * KL(softmax f(x) || softmax f(x'))``, where the
    adversary ``x'`` is found by ``steps`` signed-gradient ascent steps on
    the KL term inside the ``eps`` ball, starting from ``x`` plus a small
    random offset, and then held fixed.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier returning logits. It is put in eval mode while the
        adversary is searched for and restored afterwards.
    x : torch.Tensor or ndarray, shape (batch, ...)
    t : torch.Tensor or ndarray of int, shape (batch,)
        Labels in ``[0, classes)``.
    eps : float
        Infinity-norm radius (>= 0).
    beta : float
        Weight of the robustness term (>= 0); ``beta = 0`` is plain
        cross-entropy.
    steps : int
        Ascent steps for the adversary.
    alpha : float, optional
        Ascent step size; default ``eps / 4`` (TRADES uses ``eps/4`` with 10 steps).
    clip : (float, float) or None
    seed : None, int or numpy.random.Generator
        Seeds the random starting offset.

    Returns
    -------
    torch.Tensor or float
        Scalar loss, differentiable with respect to the model's parameters;
        a float, without gradients, when ``x`` is a numpy array.
    """
    eps = _eps("eps", eps)
    beta = positive_float("beta", beta, allow_zero=True)
    steps = positive_int("steps", steps)
    alpha = eps / 4 if alpha is None else positive_float("alpha", alpha)
    clip = _clip(clip)
    x, t, numpy_in = _inputs(x, t, model)
    if numpy_in:
        with torch.no_grad():
            return float(trades_loss(model, x, t, eps, beta, steps, alpha, clip, seed))
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with torch.no_grad():
            target = _logits(model, x, t)
        gen = torch.Generator().manual_seed(int(as_rng(seed).integers(2**63)))
        x_adv = _project(x + 0.001 * torch.randn(x.shape, generator=gen, dtype=x.dtype), x, eps, clip)
        if eps > 0:
            for _ in range(steps):
                with torch.enable_grad():
                    x_adv.requires_grad_(True)
                    kl = _kl_clean_adv(target, model(x_adv))
                    (grad,) = torch.autograd.grad(kl, x_adv)
                x_adv = _project(x_adv.detach() + alpha * grad.sign(), x, eps, clip)
    finally:
        if hasattr(model, "train"):
            model.train(was_training)
    logits = model(x)
    return F.cross_entropy(logits, t) + beta * _kl_clean_adv(logits, model(x_adv.detach()))


def accuracy(model, x, t) -> float:
    """Fraction of rows of ``x`` whose largest logit is at ``t``.

    Parameters
    ----------
    model : callable
        Classifier returning logits ``(batch, classes)``.
    x : torch.Tensor or ndarray, shape (batch, ...)
    t : torch.Tensor or ndarray of int, shape (batch,)
        Labels in ``[0, classes)``.

    Returns
    -------
    float
        ``correct / batch``, exactly as Python divides the two counts (29
        correct of 30 gives ``29 / 30``).
    """
    x, t, _ = _inputs(x, t, model)
    with torch.no_grad():
        correct = int((_logits(model, x, t).argmax(dim=1) == t).sum())
    return correct / len(t)


def adversarial_training(model, data, epochs, eps, method="fgsm", lr=1e-3, batch_size=64,
                         alpha=None, steps=5, beta=6.0, mix=0.5, clip=(0, 1), seed=None,
                         progress=False, *, threads=None):
    """Train a classifier on adversarial examples made on the fly.

    Each minibatch is attacked with the current model, then Adam takes one
    step on the defence's loss:

    - ``"fgsm"`` or ``"pgd"`` (Goodfellow et al. 2015; Madry et al. 2018):
      ``(1 - mix) CE(f(x), t) + mix CE(f(x'), t)`` with ``x'`` the attack of
      radius ``eps`` (``mix = 1`` trains on adversarial inputs only);
    - ``"trades"``: :func:`trades_loss` with ``beta``.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier returning logits; trained in place.
    data : tuple (X, t)
        Inputs ``(n, ...)`` and integer labels ``(n,)``, arrays or tensors.
    epochs : int
        Passes over the data.
    eps : float
        Attack radius (infinity norm, input units).
    method : {"fgsm", "pgd", "trades"}
    lr : float
        Adam learning rate.
    batch_size : int
    alpha : float, optional
        Step size for PGD (default ``eps / 4``) and TRADES (default ``eps / 4``).
    steps : int
        Steps of PGD or of the TRADES inner ascent.
    beta : float
        TRADES weight.
    mix : float
        Weight of the adversarial term for ``"fgsm"``/``"pgd"``, in [0, 1].
    clip : (float, float) or None
    seed : None, int or numpy.random.Generator
        Seeds minibatch shuffling and the random starts.
    progress : bool
        Show a tqdm bar over epochs.
    threads : None or int, optional
        PyTorch intra-op threads during the call, restored afterwards; None
        chooses one thread for small networks, as :func:`spikenet.rate.fit`
        does (its docstring explains the choice).

    Returns
    -------
    list of float
        Mean training loss of each epoch.
    """
    method = choice("method", method, ("fgsm", "pgd", "trades"))
    epochs = positive_int("epochs", epochs)
    eps = _eps("eps", eps)
    lr = positive_float("lr", lr)
    batch_size = positive_int("batch_size", batch_size)
    steps = positive_int("steps", steps)
    beta = positive_float("beta", beta, allow_zero=True)
    if not isinstance(mix, numbers.Real) or not 0.0 <= float(mix) <= 1.0:
        raise ValueError(f"mix must be in [0, 1], got {mix!r}")
    if alpha is None:
        alpha = eps / 4 if eps > 0 else 1.0
    clip = _clip(clip)
    try:
        X, T = data
    except (TypeError, ValueError) as exc:
        raise TypeError("data must be a pair (X, t) of inputs and integer labels") from exc
    X, T, _ = _inputs(X, T, model, names=("data inputs X", "data labels t"))
    rng = as_rng(seed)
    n_threads = _threads.resolve_threads(threads, min(batch_size, len(X)), _threads.n_parameters(model))
    with _threads.torch_threads(n_threads):
        return _adversarial_epochs(model, X, T, epochs, eps, method, lr, batch_size, alpha, steps, beta,
                                   mix, clip, rng, progress)


def _adversarial_epochs(model, X, T, epochs, eps, method, lr, batch_size, alpha, steps, beta, mix,
                        clip, rng, progress):
    if isinstance(model, torch.nn.Module):  # one sample in eval mode: the labels' range
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                _logits(model, X[:1], T, "data labels t")
        finally:
            model.train(was_training)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    epoch_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epoch_iter = tqdm(epoch_iter, desc=f"adversarial training ({method})")
    for _ in epoch_iter:
        order = torch.from_numpy(rng.permutation(len(X)))
        total = 0.0
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            xb, tb = X[idx], T[idx]
            if method == "trades":
                value = trades_loss(model, xb, tb, eps, beta, steps=steps, alpha=alpha, clip=clip, seed=rng)
            else:
                was_training = model.training
                model.eval()
                if method == "fgsm":
                    x_adv = fgsm(model, xb, tb, eps, clip=clip)
                else:
                    x_adv = pgd(model, xb, tb, eps, alpha, steps, clip=clip, random_start=True, seed=rng)
                model.train(was_training)
                value = (1 - mix) * F.cross_entropy(model(xb), tb) + mix * F.cross_entropy(model(x_adv), tb)
            opt.zero_grad()
            value.backward()
            opt.step()
            total += float(value.detach()) * len(idx)
        if not np.isfinite(total):
            raise FloatingPointError(f"adversarial training loss became NaN/inf in epoch {len(losses)}")
        losses.append(total / len(X))
    return losses

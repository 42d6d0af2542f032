"""Finite differences and hand-written backprop against closed forms and torch.autograd."""

import itertools

import numpy as np
import pytest
import torch

from spikenet.rate import mlp_backprop, mlp_forward, numerical_gradient

# Central differences at eps=1e-6 in float64: truncation ~eps^2 f''' ~ 1e-12,
# round-off ~ 1e-16 / 1e-6 = 1e-10 relative; allow 1e-7.
FD_RTOL = 1e-7
# Hand-written backprop vs autograd: same float64 arithmetic, reordered.
BP_RTOL = 1e-10
BP_ATOL = 1e-13
# Absolute round-off of a central difference: ~1e-16 * |f| / eps = 1e-10 for |f| ~ 1.
FD_ATOL = 1e-9
# Same for the MLP loss (sums of many terms): relative 1e-6, absolute 1e-10.
FD_NET_RTOL, FD_NET_ATOL = 1e-6, 1e-10
# A coarse eps = 0.1 differs from the derivative by eps^2 |E'''| / 6; |E'''| < 0.3 here.
COARSE_FD_BOUND = 0.1**2 * 0.05
# Same float64 formula evaluated twice.
EXACT_RTOL = 1e-12


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_numerical_gradient_matches_analytic_gradient_of_smooth_function():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 2))

    def f(v):
        return np.sum(np.sin(v) * v**2)

    g = numerical_gradient(f, x)
    np.testing.assert_allclose(g, np.cos(x) * x**2 + 2 * x * np.sin(x), rtol=FD_RTOL, atol=FD_ATOL)
    assert g.shape == x.shape


def test_numerical_gradient_does_not_modify_x_and_accepts_scalars():
    x = np.array([1.0, 2.0])
    numerical_gradient(lambda v: np.sum(v**2), x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    assert numerical_gradient(lambda v: v**3, 2.0) == pytest.approx(12.0, rel=FD_RTOL)


def test_numerical_gradient_of_tensor_matches_autograd():
    x = torch.tensor(np.random.default_rng(1).normal(size=4), requires_grad=True)

    def f(v):
        return torch.sum(torch.tanh(v) ** 3)

    g = numerical_gradient(f, x)
    assert isinstance(g, torch.Tensor)
    f(x).backward()
    torch.testing.assert_close(g, x.grad, rtol=FD_RTOL, atol=FD_ATOL)


# Notes 3.1.2: the figure holding that network's weights did not survive in the
# text, so this is a one-hidden-unit logistic network rebuilt to reproduce every
# number the notes print: y(theta_1 = -0.509) = 0.301, cross entropy (target 1)
# E = 1.201, 1.198, 1.204 at theta_1 = -0.509, -0.409, -0.609, and the central
# difference -0.0292. The output weight and bias below were solved for from
# y = 0.301 and the printed slope, then rounded to 4 digits.
NOTES_M, NOTES_C = 0.1783, -0.9095


def _notes_network_loss(theta1):
    y = _sig(NOTES_M * _sig(theta1) + NOTES_C)
    return -np.log(y)


def test_numerical_gradient_reproduces_notes_worked_example():
    th = -0.509
    assert round(_sig(NOTES_M * _sig(th) + NOTES_C), 3) == 0.301
    assert [round(_notes_network_loss(v), 3) for v in (th, th + 0.1, th - 0.1)] == [1.201, 1.198, 1.204]
    g = numerical_gradient(_notes_network_loss, th, eps=0.1)
    assert round(g, 4) == -0.0292
    # a coarse eps = 0.1 is O(eps^2) away from the exact derivative (by autograd)
    t = torch.tensor(th, dtype=torch.float64, requires_grad=True)
    (-torch.log(torch.sigmoid(NOTES_M * torch.sigmoid(t) + NOTES_C))).backward()
    assert abs(g - t.grad.item()) < COARSE_FD_BOUND
    assert numerical_gradient(_notes_network_loss, th) == pytest.approx(t.grad.item(), rel=FD_RTOL)


def _torch_mlp_grads(x, t, Ws, bs, act, out, loss):
    acts = {"logistic": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z}
    Wt = [torch.tensor(W, requires_grad=True) for W in Ws]
    bt = [torch.tensor(b, requires_grad=True) for b in bs]
    h = torch.tensor(x)
    zs = []
    for i, (W, b) in enumerate(zip(Wt, bt)):
        z = h @ W.T + b
        z.retain_grad()
        zs.append(z)
        name = out if i == len(Wt) - 1 else act
        h = torch.softmax(z, dim=1) if name == "softmax" else acts[name](z)
    tt = torch.tensor(t)
    n = x.shape[0]
    if loss == "mse":
        E = 0.5 * ((h - tt) ** 2).sum() / n
    elif loss == "bce":
        E = torch.nn.functional.binary_cross_entropy(h, tt, reduction="sum") / n
    else:
        E = -(tt * torch.log(h)).sum() / n
    E.backward()
    return E.item(), [W.grad.numpy() for W in Wt], [b.grad.numpy() for b in bt], [z.grad.numpy() for z in zs]


CONFIGS = [
    ("logistic", "logistic", "mse"),
    ("logistic", "logistic", "bce"),
    ("tanh", "identity", "mse"),
    ("relu", "softmax", "categorical_ce"),
    ("logistic", "softmax", "mse"),
    ("tanh", "tanh", "mse"),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=["-".join(c) for c in CONFIGS])
def test_handwritten_backprop_matches_autograd(cfg):
    act, out, loss = cfg
    rng = np.random.default_rng(4)
    sizes = [5, 7, 6, 3]
    Ws = [rng.normal(size=(o, i)) for i, o in itertools.pairwise(sizes)]
    bs = [rng.normal(size=o) for o in sizes[1:]]
    x = rng.normal(size=(9, sizes[0]))
    classes = out == "softmax" or loss == "bce"
    t = np.eye(3)[rng.integers(3, size=9)] if classes else rng.normal(size=(9, 3))
    value, gW, gb, gz = mlp_backprop(x, t, Ws, bs, activation=act, output=out, loss=loss)
    E_ref, gW_ref, gb_ref, gz_ref = _torch_mlp_grads(x, t, Ws, bs, act, out, loss)
    assert value == pytest.approx(E_ref, rel=BP_RTOL)
    for a, b in zip(gW + gb + gz, gW_ref + gb_ref + gz_ref):
        np.testing.assert_allclose(a, b, rtol=BP_RTOL, atol=BP_ATOL)


def test_backprop_weight_gradient_matches_finite_differences():
    rng = np.random.default_rng(5)
    Ws = [rng.normal(size=(4, 3)), rng.normal(size=(2, 4))]
    bs = [rng.normal(size=4), rng.normal(size=2)]
    x, t = rng.normal(size=(5, 3)), rng.random((5, 2))
    _, gW, _, _ = mlp_backprop(x, t, Ws, bs)

    def E_of(W0):
        return mlp_backprop(x, t, [W0, Ws[1]], bs)[0]

    np.testing.assert_allclose(gW[0], numerical_gradient(E_of, Ws[0]), rtol=FD_NET_RTOL, atol=FD_NET_ATOL)


def test_mlp_forward_output_is_last_activity():
    rng = np.random.default_rng(6)
    Ws, bs = [rng.normal(size=(3, 2))], [rng.normal(size=3)]
    x = rng.normal(size=(4, 2))
    hs, zs = mlp_forward(x, Ws, bs, output="softmax")
    np.testing.assert_allclose(hs[-1].sum(axis=1), 1.0, rtol=EXACT_RTOL)
    np.testing.assert_allclose(zs[0], x @ Ws[0].T + bs[0], rtol=EXACT_RTOL)


def test_numerical_gradient_rejects_non_positive_eps():
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(lambda v: v, 1.0, eps=0.0)


def test_numerical_gradient_rejects_nan_x():
    with pytest.raises(ValueError, match="x"):
        numerical_gradient(lambda v: v.sum(), np.array([np.nan]))


def test_numerical_gradient_rejects_non_scalar_f():
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda v: v, np.ones(2))


def test_mlp_backprop_rejects_mismatched_target_shape():
    with pytest.raises(ValueError, match="t must have"):
        mlp_backprop(np.ones((2, 3)), np.ones((2, 2)), [np.ones((1, 3))], [np.ones(1)])


def test_mlp_forward_rejects_misaligned_layers():
    with pytest.raises(ValueError, match="weights\\[1\\]"):
        mlp_forward(np.ones((2, 3)), [np.ones((4, 3)), np.ones((2, 5))], [np.ones(4), np.ones(2)])


def test_mlp_forward_rejects_unknown_activation():
    with pytest.raises(ValueError, match="activation"):
        mlp_forward(np.ones((2, 3)), [np.ones((1, 3))], [np.ones(1)], activation="sigmoidd")

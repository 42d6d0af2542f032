"""The reverse-mode engine: every operation's gradient against torch.autograd."""

import numpy as np
import pytest
import torch

from spikenet.rate import autodiff as ad
from spikenet.rate.datasets import xor

# Same float64 arithmetic in a different order: relative error ~1e-15; allow 1e-12.
RTOL = 1e-12
ATOL = 1e-14

rng = np.random.default_rng(0)
A = rng.normal(size=(4, 3))
B = rng.normal(size=(4, 3))
M = rng.normal(size=(3, 5))
ROW = rng.normal(size=(1, 3))
VEC = rng.normal(size=3)
POS = rng.uniform(0.5, 2.0, size=(4, 3))
S = np.array(0.7)

# (name, inputs, engine expression, torch expression); every expression ends
# in a weighted sum with fixed random weights so all entries of the gradient matter.
CASES = [
    ("add", [A, B], lambda a, b: a + b, lambda a, b: a + b),
    ("sub", [A, B], lambda a, b: a - b, lambda a, b: a - b),
    ("mul", [A, B], lambda a, b: a * b, lambda a, b: a * b),
    ("div", [A, POS], lambda a, b: a / b, lambda a, b: a / b),
    ("neg", [A], lambda a: -a, lambda a: -a),
    ("pow", [POS], lambda a: a**3.5, lambda a: a**3.5),
    ("matmul", [A, M], lambda a, m: a @ m, lambda a, m: a @ m),
    ("transpose", [A], lambda a: a.T, lambda a: a.T),
    ("sin", [A], ad.sin, torch.sin),
    ("exp", [A], ad.exp, torch.exp),
    ("log", [POS], ad.log, torch.log),
    ("logistic", [A], ad.logistic, torch.sigmoid),
    ("tanh", [A], ad.tanh, torch.tanh),
    ("relu", [A], ad.relu, torch.relu),
    ("sum", [A], ad.sum, torch.sum),
    ("sum_axis0", [A], lambda a: ad.sum(a, axis=0), lambda a: a.sum(dim=0)),
    ("sum_axis1", [A], lambda a: ad.sum(a, axis=1), lambda a: a.sum(dim=1)),
    ("mean", [A], ad.mean, torch.mean),
    ("mean_axis0", [A], lambda a: ad.mean(a, axis=0), lambda a: a.mean(dim=0)),
    ("bias_row", [A, ROW], lambda a, b: a + b, lambda a, b: a + b),
    ("bias_vector", [A, VEC], lambda a, b: a + b, lambda a, b: a + b),
    ("scalar_times_matrix", [S, A], lambda s, a: s * a, lambda s, a: s * a),
    ("constant_left", [A], lambda a: 2.0 - a / 3.0, lambda a: 2.0 - a / 3.0),
    ("reused_input", [A], lambda a: a * ad.sin(a) + a, lambda a: a * torch.sin(a) + a),
    (
        "layer",
        [A, M, rng.normal(size=(1, 5))],
        lambda x, w, b: ad.logistic(x @ w + b),
        lambda x, w, b: torch.sigmoid(x @ w + b),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_operation_gradient_matches_torch_autograd(case):
    _, inputs, f_ad, f_torch = case
    vs = [ad.Var(x) for x in inputs]
    ts = [torch.tensor(x, requires_grad=True) for x in inputs]
    out_ad = f_ad(*vs)
    out_t = f_torch(*ts)
    np.testing.assert_allclose(out_ad.val, out_t.detach().numpy(), rtol=RTOL, atol=ATOL)
    w = np.random.default_rng(1).normal(size=out_ad.shape)
    (ad.sum(out_ad * w)).backward()
    (out_t * torch.tensor(w)).sum().backward()
    for v, t in zip(vs, ts):
        assert v.grad.shape == v.val.shape
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=RTOL, atol=ATOL)


def test_notes_example_sin_plus_product():
    x, y = ad.Var(0.3), ad.Var(-1.2)
    f = ad.sin(x) + x * y
    assert float(f.val) == pytest.approx(np.sin(0.3) + 0.3 * -1.2, rel=RTOL)
    f.backward()
    assert float(x.grad) == pytest.approx(np.cos(0.3) - 1.2, rel=RTOL)
    assert float(y.grad) == pytest.approx(0.3, rel=RTOL)
    assert isinstance(f.creator, ad.Op) and x.creator is None


def test_backward_accumulates_and_zero_grad_resets():
    x = ad.Var(np.array([1.0, 2.0]))
    f = ad.sum(x * x)
    f.backward()
    f.backward()
    np.testing.assert_allclose(x.grad, 2 * 2 * x.val)
    f.zero_grad()
    np.testing.assert_array_equal(x.grad, 0.0)
    f.backward()
    np.testing.assert_allclose(x.grad, 2 * x.val)


def test_evaluate_recomputes_after_leaf_change():
    x = ad.Var(1.0)
    f = ad.exp(x) * 2.0
    x.val = np.array(0.0)
    assert float(f.evaluate()) == 2.0
    f.zero_grad()
    f.backward()
    assert float(x.grad) == 2.0


def test_backward_with_explicit_seed():
    x = ad.Var(np.array([1.0, 2.0, 3.0]))
    y = x * 3.0
    y.backward(np.array([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 6.0])


def test_two_layer_network_learns_xor():
    X, T = (a.astype(np.float64) for a in xor())
    r = np.random.default_rng(3)
    W1 = ad.Var(r.normal(scale=1.0, size=(2, 4)))
    b1 = ad.Var(np.zeros((1, 4)))
    W2 = ad.Var(r.normal(scale=1.0, size=(4, 1)))
    b2 = ad.Var(np.zeros((1, 1)))
    params = [W1, b1, W2, b2]
    y = ad.logistic(ad.logistic(ad.Var(X, requires_grad=False) @ W1 + b1) @ W2 + b2)
    loss = ad.mean(ad.sum((y - T) ** 2, axis=1) * 0.5)
    for _ in range(1000):  # the notes' Algorithm 2 with a reused graph
        loss.evaluate()
        loss.zero_grad()
        loss.backward()
        for p in params:
            p.val = p.val - 2.0 * p.grad
    assert float(loss.evaluate()) < 0.05
    np.testing.assert_array_equal((y.val > 0.5).astype(float), T)


def test_matmul_shape_mismatch_raises():
    with pytest.raises(ValueError, match="matmul"):
        ad.Var(np.ones((2, 3))) @ ad.Var(np.ones((2, 3)))


def test_log_of_non_positive_raises():
    with pytest.raises(ValueError, match="log"):
        ad.log(ad.Var(np.array([1.0, 0.0])))


def test_nan_value_raises():
    with pytest.raises(ValueError, match="val"):
        ad.Var(np.array([np.nan]))


def test_non_numeric_value_raises_type_error():
    with pytest.raises(TypeError, match="val"):
        ad.Var("abc")


def test_sum_axis_out_of_range_raises():
    with pytest.raises(ValueError, match="axis"):
        ad.sum(ad.Var(np.ones((2, 2))), axis=2)

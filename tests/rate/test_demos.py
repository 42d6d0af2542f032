"""The claims of the rate-model demonstrations (notes chapters 2, 5, 6), each tested."""

import itertools

import numpy as np
import pytest
import torch
from scipy.special import expit

from spikenet.rate import demos


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Tiny networks: one intra-op thread is faster and immune to a busy machine.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _target(x):
    return np.sin(2 * np.pi * x)


TARGET_LIPSCHITZ = 2 * np.pi  # max |d/dx sin(2 pi x)|
# The same float64 formula evaluated two ways (sums reordered).
EXACT_RTOL, EXACT_ATOL = 1e-12, 1e-12
# 100 steps of a linear recursion amplify round-off by at most ~1e2 steps x 1e2 ulps.
RECURSION_RTOL = 1e-9


def test_step_sum_error_falls_like_one_over_n_within_lipschitz_bound():
    x = np.linspace(0.0, 1.0, 4001)
    ns = [5, 10, 20, 40, 80]
    errs = [np.abs(demos.step_approximation(_target, n, x) - _target(x)).max() for n in ns]
    # bound of the constructive proof: |G - f| <= L * (piece width)
    for n, e in zip(ns, errs):
        assert e <= TARGET_LIPSCHITZ / n
    # strictly decreasing, and halving the width halves the error (1/N rate)
    assert all(b < a for a, b in itertools.pairwise(errs))
    slope = np.polyfit(np.log(ns), np.log(errs), 1)[0]
    assert -1.1 < slope < -0.9


def test_step_network_is_a_sum_of_logistic_units_of_the_theorem_form():
    w, theta, alpha = demos.step_network(_target, 30)
    x = np.random.default_rng(0).uniform(0, 1, 50)
    G = (alpha * expit(np.outer(x, w) + theta)).sum(axis=1)
    np.testing.assert_allclose(demos.step_approximation(_target, 30, x), G, rtol=EXACT_RTOL, atol=EXACT_ATOL)


def test_steeper_steps_approach_the_piecewise_constant_limit():
    # at piece centres the steep sum equals f(centre) up to the tails of the steps
    n = 10
    centres = (np.arange(n) + 0.5) / n
    for steep, tol in [(10.0, 1e-1), (100.0, 1e-10)]:
        G = demos.step_approximation(_target, n, centres, steepness=steep)
        assert np.abs(G - _target(centres)).max() < tol


# Target noise sd 0.1 in the overfitting demo: the best possible test mse is 0.1^2 / 2.
NOISE_FLOOR = 0.005


def test_overfitting_each_remedy_lowers_the_test_loss():
    # quick size (the example's --quick); the slow test below averages over data draws
    res = demos.overfitting_demo(hidden=32, epochs=200, lr=0.02, seed=0)
    plain = res["plain"]
    # the big network fits 6 noisy points far below the noise level...
    assert plain["train_loss"] < 0.2 * NOISE_FLOOR
    # ...and does worse on fresh data than each remedy
    for remedy in ("weight_decay", "dropout", "more_data"):
        assert res[remedy]["test_loss"] < plain["test_loss"], remedy
    # with 300 samples the test loss is close to the noise floor 0.005
    assert res["more_data"]["test_loss"] < 1.2 * NOISE_FLOOR


@pytest.mark.slow
def test_overfitting_remedies_lower_mean_test_loss_over_data_draws():
    # full size of the example; a single draw of 6 points can be benign, the mean is not
    runs = [demos.overfitting_demo(seed=s) for s in range(4)]
    mean = {
        k: np.mean([r[k]["test_loss"] for r in runs])
        for k in ("plain", "weight_decay", "dropout", "more_data")
    }
    for remedy in ("weight_decay", "dropout", "more_data"):
        assert mean[remedy] < 0.9 * mean["plain"], (remedy, mean)


@pytest.mark.parametrize("seed", range(5))
def test_vanishing_gradients_fall_at_least_4x_per_layer_at_initialisation(seed):
    net = demos.deep_logistic_network(depth=6, width=4, seed=seed)
    rng = np.random.default_rng(seed)
    x, t = rng.normal(size=(32, 4)), rng.random((32, 4))
    norms = demos.layer_gradient_norms(net, x, t)
    assert norms.shape == (6,)
    # going down one layer (towards the input) divides the norm by >= 4 (sigma' <= 1/4)
    assert np.all(norms[1:] / norms[:-1] >= 4.0)


def test_layer_gradient_norms_match_manual_backprop():
    net = demos.deep_logistic_network(depth=3, width=4, seed=0)
    x = torch.tensor(np.random.default_rng(1).normal(size=(5, 4)))
    t = torch.zeros(5, 4, dtype=torch.float64)
    lin = [m for m in net if isinstance(m, torch.nn.Linear)]
    zs, h = [], x
    for layer in lin:
        z = layer(h)
        z.retain_grad()
        zs.append(z)
        h = torch.sigmoid(z)
    (0.5 * ((h - t) ** 2).sum() / 5).backward()
    expected = [z.grad.norm().item() for z in zs]
    np.testing.assert_allclose(demos.layer_gradient_norms(net, x, t), expected, rtol=EXACT_RTOL)


def test_deep_network_seed_gives_identical_weights_and_leaves_torch_rng_alone():
    state = torch.get_rng_state()
    a = demos.deep_logistic_network(seed=3)
    b = demos.deep_logistic_network(seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def test_momentum_beats_plain_gradient_descent_on_elongated_quadratic():
    # bowl 100x steeper across than along the valley; lr = 1.5 / c_max makes plain GD zig-zag
    kw = {"curvatures": (1.0, 100.0), "start": (-1.0, 0.5), "epochs": 100}
    _, e_plain = demos.quadratic_descent(lr=0.015, **kw)
    _, e_mom = demos.quadratic_descent(lr=0.015, momentum=0.9, **kw)
    # the EMA form with lr / (1 - beta) takes the very same steps
    _, e_ema = demos.quadratic_descent(lr=0.15, momentum=0.9, momentum_form="ema", **kw)
    # plain GD contracts each direction by (1 - lr c_i) per step (closed form)
    th1, th2 = -1.0 * (1 - 0.015) ** 100, 0.5 * (1 - 1.5) ** 100
    assert e_plain[-1] == pytest.approx(0.5 * (th1**2 + 100.0 * th2**2), rel=RECURSION_RTOL)
    assert e_mom[-1] < 1e-3 * e_plain[-1]
    np.testing.assert_allclose(e_ema, e_mom, rtol=RECURSION_RTOL)


def test_quadratic_descent_path_follows_heavy_ball_recursion():
    c = np.array([1.0, 100.0])
    path, _ = demos.quadratic_descent(curvatures=c, start=(-1.0, 0.5), lr=0.01, momentum=0.9, epochs=20)
    th, v = np.array([-1.0, 0.5]), np.zeros(2)
    for k in range(21):
        np.testing.assert_allclose(path[k], th, rtol=EXACT_RTOL, atol=EXACT_ATOL)
        v = 0.9 * v + c * th
        th = th - 0.01 * v


def test_one_hidden_layer_classifier_reaches_95_percent_on_digits():
    _model, hist, acc = demos.digits_classifier(hidden=64, epochs=30, seed=0)
    assert acc >= 0.95
    assert len(hist.val_loss) == 30 and hist.loss[-1] < hist.loss[0]


def test_step_network_rejects_empty_interval():
    with pytest.raises(ValueError, match="hi must be > lo"):
        demos.step_network(np.sin, 5, lo=1.0, hi=1.0)


def test_step_network_rejects_non_positive_n():
    with pytest.raises(ValueError, match="n"):
        demos.step_network(np.sin, 0)


def test_quadratic_descent_rejects_non_positive_curvature():
    with pytest.raises(ValueError, match="curvatures"):
        demos.quadratic_descent(curvatures=(1.0, 0.0))


def test_quadratic_descent_rejects_mismatched_start():
    with pytest.raises(ValueError, match="start"):
        demos.quadratic_descent(start=(1.0, 2.0, 3.0))

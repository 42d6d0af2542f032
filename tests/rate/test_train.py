"""fit: update rules against hand-computed recursions, seeding, validation, errors."""

import numpy as np
import pytest
import torch

from spikenet.rate import Dropout, History, fit, losses
from spikenet.rate.datasets import xor

# Parameters after a few float64 steps computed by torch vs numpy: reordered sums only.
RTOL = 1e-10
ATOL = 1e-12


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Tiny networks: one intra-op thread is faster and immune to a busy machine.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _linear_problem(n=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    T = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 + 0.1 * rng.normal(size=(n, 1))
    return X, T


def _linear_model(seed=1):
    rng = np.random.default_rng(seed)
    lin = torch.nn.Linear(3, 1).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(rng.normal(size=(1, 3))))
        lin.bias.copy_(torch.tensor(rng.normal(size=1)))
    return lin


def _numpy_gd(X, T, W, b, epochs, lr, momentum=0.0, form="classic", wd=0.0, l1=0.0):
    """Full-batch GD on the mse of a linear model with the closed-form gradient."""
    W, b = W.copy(), b.copy()
    vW, vb = np.zeros_like(W), np.zeros_like(b)
    n = len(X)
    for _ in range(epochs):
        dz = (X @ W.T + b - T) / n  # dE/dz for E = mean 0.5 ||z - t||^2
        gW, gb = dz.T @ X, dz.sum(axis=0)
        gW = gW + wd * W + l1 * np.sign(W)
        gb = gb + wd * b + l1 * np.sign(b)
        if momentum:
            c = 1.0 if form == "classic" else 1.0 - momentum
            vW, vb = momentum * vW + c * gW, momentum * vb + c * gb
            gW, gb = vW, vb
        W, b = W - lr * gW, b - lr * gb
    return W, b


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"momentum": 0.9},
        {"momentum": 0.9, "momentum_form": "ema"},
        {"weight_decay": 0.1},
        {"l1": 0.05},
        {"momentum": 0.5, "weight_decay": 0.01, "l1": 0.01},
    ],
    ids=["plain", "momentum", "momentum-ema", "weight_decay", "l1", "all"],
)
def test_full_batch_sgd_follows_closed_form_update_rule(kwargs):
    X, T = _linear_problem()
    model = _linear_model()
    W0, b0 = model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy()
    fit(model, (X, T), "mse", epochs=7, lr=0.05, progress=False, **kwargs)
    W, b = _numpy_gd(
        X,
        T,
        W0,
        b0,
        7,
        0.05,
        momentum=kwargs.get("momentum", 0.0),
        form=kwargs.get("momentum_form", "classic"),
        wd=kwargs.get("weight_decay", 0.0),
        l1=kwargs.get("l1", 0.0),
    )
    np.testing.assert_allclose(model.weight.detach().numpy(), W, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(model.bias.detach().numpy(), b, rtol=RTOL, atol=ATOL)


def test_classic_momentum_equals_torch_sgd_momentum():
    X, T = _linear_problem()
    ours, ref = _linear_model(), _linear_model()
    fit(ours, (X, T), "mse", epochs=10, lr=0.05, momentum=0.8, progress=False)
    opt = torch.optim.SGD(ref.parameters(), lr=0.05, momentum=0.8)
    Xt, Tt = torch.tensor(X), torch.tensor(T)
    for _ in range(10):
        opt.zero_grad()
        losses.mse(ref(Xt), Tt).backward()
        opt.step()
    torch.testing.assert_close(ours.weight, ref.weight, rtol=RTOL, atol=ATOL)


def test_adam_by_name_equals_torch_adam():
    X, T = _linear_problem()
    ours, ref = _linear_model(), _linear_model()
    fit(ours, (X, T), "mse", epochs=10, lr=0.01, optimizer="adam", progress=False)
    opt = torch.optim.Adam(ref.parameters(), lr=0.01)
    Xt, Tt = torch.tensor(X), torch.tensor(T)
    for _ in range(10):
        opt.zero_grad()
        losses.mse(ref(Xt), Tt).backward()
        opt.step()
    torch.testing.assert_close(ours.weight, ref.weight, rtol=RTOL, atol=ATOL)


def test_history_loss_is_the_epoch_loss_before_each_full_batch_step():
    X, T = _linear_problem()
    model = _linear_model()
    W0, b0 = model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy()
    hist = fit(model, (X, T), "mse", epochs=3, lr=0.05, progress=False)
    assert isinstance(hist, History) and hist.epochs == 3 and hist.val_loss == []
    W, b = W0, b0
    for k in range(3):
        assert hist.loss[k] == pytest.approx(losses.mse(X @ W.T + b, T), rel=RTOL)
        W, b = _numpy_gd(X, T, W, b, 1, 0.05)


class _Recorder(torch.nn.Module):
    """Linear model that records which inputs it saw in each call."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(1, 1).double()
        self.seen = []

    def forward(self, x):
        if self.training:
            self.seen.append(x[:, 0].detach().numpy().astype(int).tolist())
        return self.lin(x)


def test_minibatches_visit_every_sample_once_per_epoch_in_seeded_order():
    X = np.arange(10.0).reshape(-1, 1)
    T = np.zeros((10, 1))
    m1, m2, m3 = _Recorder(), _Recorder(), _Recorder()
    fit(m1, (X, T), "mse", epochs=3, lr=0.01, batch_size=4, seed=7, progress=False)
    fit(m2, (X, T), "mse", epochs=3, lr=0.01, batch_size=4, seed=7, progress=False)
    fit(m3, (X, T), "mse", epochs=3, lr=0.01, batch_size=4, seed=8, progress=False)
    assert [len(b) for b in m1.seen] == [4, 4, 2] * 3
    epochs = [[i for batch in m1.seen[3 * e : 3 * e + 3] for i in batch] for e in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(10))
    assert m1.seen == m2.seen
    assert m1.seen != m3.seen
    # the order is a fresh permutation each epoch
    assert epochs[0] != epochs[1]


def test_seed_makes_dropout_training_reproducible_and_restores_torch_rng():
    X, T = xor()

    def run():
        torch.manual_seed(0)
        net = torch.nn.Sequential(
            torch.nn.Linear(2, 16), torch.nn.ReLU(), Dropout(0.5), torch.nn.Linear(16, 1)
        )
        state = torch.get_rng_state()
        h = fit(net, (X, T), "mse", epochs=20, lr=0.1, seed=3, progress=False)
        assert torch.equal(torch.get_rng_state(), state)
        return h.loss

    assert run() == run()


def test_validation_curve_is_loss_of_eval_model_on_val_data():
    X, T = _linear_problem(seed=0)
    Xv, Tv = _linear_problem(seed=1)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.Tanh(), Dropout(0.3), torch.nn.Linear(8, 1)
    ).double()
    hist = fit(net, (X, T), "mse", epochs=5, lr=0.05, val_data=(Xv, Tv), seed=0, progress=False)
    assert len(hist.val_loss) == 5
    assert not net.training  # left in eval mode
    with torch.no_grad():
        expected = losses.mse(net(torch.tensor(Xv)), torch.tensor(Tv)).item()
    assert hist.val_loss[-1] == pytest.approx(expected, rel=RTOL)


def test_history_plot_draws_both_curves():
    import matplotlib.pyplot as plt

    ax = History(loss=[1.0, 0.5], val_loss=[1.2, 0.7]).plot()
    assert len(ax.lines) == 2
    plt.close(ax.figure)


def test_progress_bar_is_shown_on_stderr(capsys):
    X, T = xor()
    net = torch.nn.Linear(2, 1)
    fit(net, (X, T), "mse", epochs=2, lr=0.1, progress=True)
    assert "fit" in capsys.readouterr().err


def test_fit_learns_xor_with_float32_numpy_data():
    torch.manual_seed(1)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1), torch.nn.Sigmoid()
    )
    hist = fit(net, xor(), "bce", epochs=300, lr=0.05, optimizer="adam", seed=0, progress=False)
    assert hist.loss[-1] < 0.05


def test_integer_class_targets_work_with_cross_entropy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    torch.manual_seed(0)
    net = torch.nn.Linear(2, 2)
    hist = fit(net, (X, y), "cross_entropy", epochs=50, lr=0.5, progress=False)
    assert hist.loss[-1] < 0.5 * hist.loss[0]


def test_custom_callable_loss():
    X, T = _linear_problem()
    model = _linear_model()
    hist = fit(model, (X, T), lambda y, t: ((y - t) ** 2).mean(), epochs=2, lr=0.01, progress=False)
    assert len(hist.loss) == 2


class _NaNAfter(torch.nn.Module):
    """Outputs NaN from the k-th training call on."""

    def __init__(self, k):
        super().__init__()
        self.lin = torch.nn.Linear(1, 1)
        self.calls, self.k = 0, k

    def forward(self, x):
        self.calls += 1
        y = self.lin(x)
        return y * float("nan") if self.calls >= self.k else y


def test_nan_output_stops_training_with_error_naming_the_epoch():
    X, T = np.ones((4, 1)), np.ones((4, 1))
    with pytest.raises(FloatingPointError, match="epoch 3 of 10") as info:
        fit(_NaNAfter(3), (X, T), "mse", epochs=10, lr=0.1, progress=False)
    assert info.value.history.epochs == 2


def test_diverging_learning_rate_stops_with_error_naming_the_epoch():
    X, T = _linear_problem()
    X = X * 1e3
    with pytest.raises(FloatingPointError, match=r"epoch \d+ of 1000"):
        fit(_linear_model(), (X, T), "mse", epochs=1000, lr=10.0, progress=False)


@pytest.fixture
def small():
    X, T = _linear_problem()
    return _linear_model(), (X, T)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"optimizer": "adamw"}, ValueError, "optimizer"),
        ({"optimizer": "sdg"}, ValueError, "did you mean 'sgd'"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": -1.0}, ValueError, "lr"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"epochs": -3}, ValueError, "epochs"),
        ({"epochs": 2.5}, TypeError, "epochs"),
        ({"momentum": 1.0}, ValueError, "momentum"),
        ({"momentum": -0.1}, ValueError, "momentum"),
        ({"momentum": 0.9, "optimizer": "adam"}, ValueError, "momentum"),
        ({"momentum_form": "nesterov"}, ValueError, "momentum_form"),
        ({"weight_decay": -0.1}, ValueError, "weight_decay"),
        ({"l1": -0.1}, ValueError, "l1"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"loss": "hinge"}, ValueError, "loss"),
        ({"loss": 3}, TypeError, "loss"),
        ({"seed": "abc"}, TypeError, "seed"),
    ],
)
def test_bad_arguments_raise_naming_them(small, kwargs, exc, match):
    model, data = small
    args = {"loss": "mse", "epochs": 2, "progress": False} | kwargs
    with pytest.raises(exc, match=match):
        fit(model, data, **args)


def test_mismatched_sample_counts_raise(small):
    model, (X, T) = small
    with pytest.raises(ValueError, match="same number of samples"):
        fit(model, (X, T[:-1]), "mse", 2, progress=False)


def test_output_target_shape_mismatch_raises(small):
    model, (X, T) = small
    with pytest.raises(ValueError, match="y and t"):
        fit(model, (X, np.hstack([T, T])), "mse", 2, progress=False)


def test_non_finite_data_raises(small):
    model, (X, T) = small
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="data inputs X contains NaN"):
        fit(model, (X, T), "mse", 2, progress=False)


def test_non_finite_validation_targets_raise(small):
    model, (X, T) = small
    Tv = T.copy()
    Tv[1] = np.inf
    with pytest.raises(ValueError, match="val_data targets T"):
        fit(model, (X, T), "mse", 2, val_data=(X, Tv), progress=False)


def test_data_that_is_not_a_pair_raises(small):
    model, (X, _) = small
    with pytest.raises(TypeError, match="data must be a tuple"):
        fit(model, X, "mse", 2, progress=False)


def test_non_module_model_raises():
    with pytest.raises(TypeError, match="model"):
        fit(lambda x: x, xor(), "mse", 2, progress=False)

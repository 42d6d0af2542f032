"""numpy in gives numpy out, tensor in gives tensor out, across spikenet.rate's data-taking API.

Each case calls one public function or method twice on the same data, once
with numpy arrays and once with tensors, under the same torch seed. The
numpy call must return no tensor anywhere in its result, the tensor call
must return tensors where it returns arrays, and the two must agree in
value (the tensor path being the one tested elsewhere against references).
"""

import numpy as np
import pytest
import torch

from spikenet.rate import (
    CNN,
    GAN,
    LSTM,
    RNN,
    VAE,
    Autoencoder,
    BatchNorm,
    Dropout,
    LIFRate,
    SoftLIFRate,
    activations,
    adversarial,
    datasets,
    fit,
    lif_rate,
    losses,
    numerical_gradient,
    soft_lif_rate,
)
from spikenet.rate.models import BatchFirst, gaussian_kl

# float32 models: the numpy path converts to the model's dtype, so both paths
# run the same float32 arithmetic; only reductions may be reordered.
RTOL, ATOL = 1e-5, 1e-6


def _rng(seed=0):
    return np.random.default_rng(seed)


def _seeded(module_factory, seed=0):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return module_factory()


# each case: name -> (callable taking a converter `a` that turns numpy data into the kind under
# test, and the numpy data it needs); labels go through `a` too, keeping their integer dtype.
X8 = _rng(1).uniform(size=(5, 8)).astype(np.float32)
X64 = _rng(2).uniform(size=(6, 64)).astype(np.float32)
LABELS = np.array([0, 3, 9, 1, 2, 5])
SEQ = _rng(3).normal(size=(4, 3, 2)).astype(np.float32)  # (steps, batch, input_dim)
SEQ_T = _rng(4).normal(size=(4, 3, 1)).astype(np.float32)


def _ae():
    return _seeded(lambda: Autoencoder(8, 3))


def _vae():
    return _seeded(lambda: VAE(8, 2, hidden_dim=16))


def _rnn():
    return _seeded(lambda: RNN(2, 5, 1))


def _lstm():
    return _seeded(lambda: LSTM(2, 5, 1))


def _mlp():
    nn = torch.nn
    return _seeded(lambda: nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10)))


def _gan():
    return _seeded(lambda: GAN(torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Linear(8, 8)),
                               torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.Linear(4, 1))))


def _bn_train():
    bn = BatchNorm(8)
    with torch.no_grad():
        bn.gamma.copy_(torch.linspace(0.5, 2.0, 8))
    return bn


CASES = {
    "activations.softmax": lambda a: activations.softmax(a(X8)),
    "activations.logistic": lambda a: activations.logistic(a(X8 - 0.5)),
    "activations.arctan": lambda a: activations.arctan(a(X8)),
    "activations.tanh": lambda a: activations.tanh(a(X8)),
    "activations.threshold": lambda a: activations.threshold(a(X8 - 0.5)),
    "activations.relu": lambda a: activations.relu(a(X8 - 0.5)),
    "activations.leaky_relu": lambda a: activations.leaky_relu(a(X8 - 0.5), slope=0.1),
    "activations.one_hot": lambda a: activations.one_hot(a(X8)),
    "losses.mse": lambda a: losses.mse(a(X8), a(X8[::-1].copy())),
    "losses.bce": lambda a: losses.bce(a(0.1 + 0.8 * X8), a(X8[::-1].copy())),
    "losses.categorical_ce(one-hot)": lambda a: losses.categorical_ce(
        activations.softmax(a(X64[:, :10])), a(np.eye(10, dtype=np.float32)[LABELS])),
    "numerical_gradient": lambda a: numerical_gradient(lambda x: (x**3).sum(), a(X8.astype(np.float64))),
    "losses.categorical_ce(labels)": lambda a: losses.categorical_ce(a(X64[:, :10]), a(LABELS), logits=True),
    "lif_rate": lambda a: lif_rate(a(1 + 3 * X8)),
    "soft_lif_rate": lambda a: soft_lif_rate(a(1 + 3 * X8)),
    "LIFRate.forward": lambda a: LIFRate(amplitude=0.01)(a(1 + 3 * X8)),
    "SoftLIFRate.forward": lambda a: SoftLIFRate(amplitude=0.01)(a(1 + 3 * X8)),
    "Dropout.forward(train)": lambda a: _seeded(lambda: Dropout(0.5).train()(a(X8))),
    "BatchNorm.forward(train)": lambda a: _bn_train().train()(a(X8)),
    "BatchNorm.forward(eval)": lambda a: _bn_train().eval()(a(X8)),
    "Autoencoder.forward": lambda a: _ae()(a(X8)),
    "Autoencoder.encode": lambda a: _ae().encode(a(X8)),
    "Autoencoder.decode": lambda a: _ae().decode(a(X8[:, :3])),
    "VAE.encode": lambda a: _vae().encode(a(X8)),
    "VAE.decode": lambda a: _vae().decode(a(X8[:, :2])),
    "VAE.decode_logits": lambda a: _vae().decode_logits(a(X8[:, :2])),
    "VAE.reparameterize": lambda a: _seeded(lambda: _vae().reparameterize(a(X8[:, :2]), a(X8[:, 2:4]))),
    "VAE.forward": lambda a: _seeded(lambda: _vae()(a(X8))),
    "VAE.loss": lambda a: _seeded(lambda: _vae().loss(a(X8))),
    "VAE.criterion": lambda a: _vae().criterion((a(X8[::-1].copy()), a(X8[:, :2]), a(X8[:, 2:4])), a(X8)),
    "VAE.elbo": lambda a: _vae().elbo(a(X8), n_samples=2, seed=0),
    "gaussian_kl": lambda a: gaussian_kl(a(X8[:, :2]), a(X8[:, 2:4])),
    "RNN.forward": lambda a: _rnn()(a(SEQ)),
    "RNN.run(h0)": lambda a: _rnn().run(a(SEQ), a(X8[:3, :5])),
    "RNN.bptt": lambda a: _rnn().bptt(a(SEQ), a(SEQ_T)),
    "RNN.sequence_loss": lambda a: RNN.sequence_loss(a(SEQ[..., :1]), a(SEQ_T), alpha=[0, 0, 1, 1]),
    "LSTM.forward": lambda a: _lstm()(a(SEQ)),
    "LSTM.run(state)": lambda a: _lstm().run(a(SEQ), (a(X8[:3, :5]), a(X8[:3, 3:8]))),
    "BatchFirst.forward": lambda a: BatchFirst(_rnn())(a(SEQ.transpose(1, 0, 2).copy())),
    "CNN.forward": lambda a: _seeded(lambda: CNN(channels=(2, 3)))(a(X64)),
    "GAN.forward": lambda a: _gan()(a(X8[:, :2])),
    "GAN.discriminate": lambda a: _gan().discriminate(a(X8)),
    "adversarial.fgsm": lambda a: adversarial.fgsm(_mlp(), a(X64), a(LABELS), 0.1),
    "adversarial.pgd": lambda a: adversarial.pgd(_mlp(), a(X64), a(LABELS), 0.1, 0.03, 3,
                                                 random_start=True, seed=0),
    "adversarial.trades_loss": lambda a: adversarial.trades_loss(_mlp(), a(X64), a(LABELS), 0.1, 1.0,
                                                                 seed=0),
    "adversarial.accuracy": lambda a: adversarial.accuracy(_mlp(), a(X64), a(LABELS)),
}

# Functions documented to return a Python float for either kind.
FLOAT_RESULTS = {"VAE.elbo", "adversarial.accuracy"}


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [leaf for o in out for leaf in _leaves(o)]
    if isinstance(out, dict):
        return [leaf for k in sorted(out) for leaf in _leaves(out[k])]
    return [out]


def _as_numpy(leaf):
    return leaf.detach().numpy() if isinstance(leaf, torch.Tensor) else np.asarray(leaf)


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy_in_numpy_out_tensor_in_tensor_out(name):
    call = CASES[name]
    out_np = call(lambda arr: arr)
    out_t = call(torch.from_numpy)
    leaves_np, leaves_t = _leaves(out_np), _leaves(out_t)
    assert len(leaves_np) == len(leaves_t)
    for leaf_np, leaf_t in zip(leaves_np, leaves_t, strict=True):
        assert not isinstance(leaf_np, torch.Tensor), f"{name} returned a tensor for numpy input"
        assert isinstance(leaf_np, (np.ndarray, float)), type(leaf_np)
        if name in FLOAT_RESULTS:
            assert type(leaf_np) is float and type(leaf_t) is float
        elif isinstance(leaf_np, np.ndarray):
            assert isinstance(leaf_t, torch.Tensor), f"{name} returned {type(leaf_t)} for tensor input"
            assert leaf_np.shape == tuple(leaf_t.shape)
        else:  # a scalar: a float from numpy, a 0-d tensor from tensors
            assert isinstance(leaf_t, (torch.Tensor, float))
        np.testing.assert_allclose(_as_numpy(leaf_np), _as_numpy(leaf_t), rtol=RTOL, atol=ATOL)


def test_numpy_results_of_torch_models_carry_the_model_dtype_and_no_graph():
    vae = _vae()
    x_hat, mu, logvar = vae(X8.astype(np.float64))  # float64 data into a float32 model
    assert x_hat.dtype == mu.dtype == logvar.dtype == np.float32
    x_hat_t, _, _ = vae(torch.from_numpy(X8))
    assert x_hat_t.requires_grad  # tensors in: differentiable as before


def test_vae_elbo_takes_the_digits_as_returned_by_datasets():
    _, _, X_test, _ = datasets.digits(seed=0)
    vae = _seeded(lambda: VAE(64, 2))
    value = vae.elbo(X_test, n_samples=2, seed=0)
    assert value == vae.elbo(torch.from_numpy(X_test), n_samples=2, seed=0)
    # a bound on a log-probability of 64 Bernoulli pixels: negative, at most 64 ln 2 per pixel off
    assert -64 * 20 < value < 0


class _Fixed(torch.nn.Module):
    """Logits that put sample i in class ``predicted[i]``."""

    def __init__(self, predicted, n_classes=10):
        super().__init__()
        logits = torch.nn.functional.one_hot(torch.as_tensor(predicted), n_classes).float()
        self.register_buffer("logits", logits)

    def forward(self, x):
        return self.logits[: x.shape[0]]


@pytest.mark.parametrize("correct", [0, 1, 7, 29, 30])
def test_accuracy_is_the_exact_fraction_of_correct_labels(correct):
    labels = np.arange(30) % 10
    predicted = labels.copy()
    predicted[correct:] = (predicted[correct:] + 1) % 10
    model = _Fixed(predicted)
    x = np.zeros((30, 4), np.float32)
    assert adversarial.accuracy(model, x, labels) == correct / 30
    assert adversarial.accuracy(model, torch.from_numpy(x), torch.from_numpy(labels)) == correct / 30


# ---------------------------------------------------------------- named errors


def _fit(model, data, loss="cross_entropy", **kwargs):
    return fit(model, data, loss, 1, progress=False, **kwargs)


LABEL_ERRORS = {
    "fit labels too large": (lambda: _fit(_mlp(), (X64, LABELS + 1)),
                             r"data targets T must hold class labels in \[0, 10\).*1 to 10"),
    "fit negative labels": (lambda: _fit(_mlp(), (X64, LABELS - 1), "categorical_ce"),
                            r"data targets T must hold class labels in \[0, 10\).*-1 to 8"),
    "fit val labels": (lambda: _fit(_mlp(), (X64, LABELS), val_data=(X64, LABELS + 5)),
                       r"val_data targets T .*\[0, 10\)"),
    "fgsm labels": (lambda: adversarial.fgsm(_mlp(), X64, LABELS + 1, 0.1), r"t must hold .*\[0, 10\)"),
    "pgd labels": (lambda: adversarial.pgd(_mlp(), X64, -LABELS - 1, 0.1, 0.01, 2), r"t .*>= 0"),
    "trades labels": (lambda: adversarial.trades_loss(_mlp(), X64, LABELS + 1, 0.1, 1.0),
                      r"t must hold .*\[0, 10\)"),
    "accuracy labels": (lambda: adversarial.accuracy(_mlp(), X64, LABELS + 1), r"t must hold .*\[0, 10\)"),
    "adversarial_training labels": (lambda: adversarial.adversarial_training(
        _mlp(), (X64, LABELS + 1), epochs=1, eps=0.1), r"data labels t must hold .*\[0, 10\)"),
    "categorical_ce labels": (lambda: losses.categorical_ce(X64[:, :10], LABELS + 1, logits=True),
                              r"t must hold class indices in \[0, 10\)"),
}

WIDTH_ERRORS = {
    "fit X width": (lambda: _fit(_mlp(), (X64[:, :63], LABELS)),
                    r"data inputs X must have 64 features"),
    "fit val X width": (lambda: _fit(_mlp(), (X64, LABELS), val_data=(X64[:, :60], LABELS)),
                        r"val_data inputs X must have 64 features"),
    "fit autoencoder width": (lambda: _fit(_ae(), (X64, X64), "mse"),
                              r"data inputs X must have 8 features"),
    "fgsm width": (lambda: adversarial.fgsm(_mlp(), X64[:, :10], LABELS, 0.1), r"x must have 64 features"),
    "accuracy width": (lambda: adversarial.accuracy(_mlp(), X8, LABELS[:5]), r"x must have 64 features"),
    "adversarial_training width": (lambda: adversarial.adversarial_training(
        _mlp(), (X8, LABELS[:5]), epochs=1, eps=0.1), r"data inputs X must have 64 features"),
    "VAE.elbo width": (lambda: _vae().elbo(X64), r"x must have shape \(batch, 8\)"),
    "Autoencoder width": (lambda: _ae()(X64), r"x must have 8 columns"),
    "CNN width": (lambda: CNN()(X8), r"x must have 64 = 8x8 columns"),
    "RNN width": (lambda: _rnn()(np.zeros((4, 3, 5))), r"x must have shape \(steps, batch, 2\)"),
}


@pytest.mark.parametrize("case", sorted(LABEL_ERRORS))
def test_out_of_range_labels_raise_a_value_error_naming_the_argument_and_range(case):
    call, message = LABEL_ERRORS[case]
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("case", sorted(WIDTH_ERRORS))
def test_wrong_feature_widths_raise_a_value_error_naming_the_argument_and_width(case):
    call, message = WIDTH_ERRORS[case]
    with pytest.raises(ValueError, match=message):
        call()

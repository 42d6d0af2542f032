"""Dropout and batch normalisation: train versus eval behaviour."""

import numpy as np
import pytest
import torch

from spikenet.rate import BatchNorm, Dropout, fit

# float64 closed forms evaluated two ways: a few ulps.
RTOL = 1e-12
# Batch norm vs torch.nn.BatchNorm1d (float64, O(1) values): sums in another order.
BN_RTOL, BN_ATOL = 1e-12, 1e-12
# variance of normalised data: two passes of squared deviations, ~1e2 ulps.
BN_VAR_RTOL = 1e-10


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Tiny networks: one intra-op thread is faster and immune to a busy machine.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_dropout_keeps_expected_input_with_inverted_scaling():
    p = 0.3
    n = 400_000
    gen = torch.Generator().manual_seed(0)
    layer = Dropout(p, generator=gen).train()
    x = torch.ones(n, dtype=torch.float64)
    y = layer(x)
    kept = y != 0
    # survivors are scaled by exactly 1/(1-p); the drop fraction is p
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / (1 - p)), rtol=RTOL, atol=0)
    sd_frac = np.sqrt(p * (1 - p) / n)
    assert abs((~kept).double().mean().item() - p) < 5 * sd_frac
    # E[d(h)] = h: the mean output is 1 within 5 standard errors
    sd_mean = np.sqrt(p / (1 - p) / n)
    assert abs(y.mean().item() - 1.0) < 5 * sd_mean


def test_dropout_gradient_is_inverse_keep_probability_or_zero():
    p = 0.5
    layer = Dropout(p, generator=torch.Generator().manual_seed(1)).train()
    x = torch.randn(1000, dtype=torch.float64, generator=torch.Generator().manual_seed(2)).requires_grad_()
    y = layer(x)
    y.sum().backward()
    kept = (y != 0).double()
    torch.testing.assert_close(x.grad, kept / (1 - p), rtol=RTOL, atol=0)


def test_dropout_is_identity_in_eval_mode():
    x = torch.randn(50, 7)
    torch.testing.assert_close(Dropout(0.8).eval()(x), x, rtol=0, atol=0)


def test_dropout_generator_makes_masks_reproducible():
    x = torch.ones(100)
    a = Dropout(0.5, generator=torch.Generator().manual_seed(3))(x)
    b = Dropout(0.5, generator=torch.Generator().manual_seed(3))(x)
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def _batches(seed=0, n_batches=20):
    g = torch.Generator().manual_seed(seed)
    shift = torch.tensor([3.0, -2.0, 0.5], dtype=torch.float64)
    scale = torch.tensor([2.0, 0.5, 5.0], dtype=torch.float64)
    return [torch.randn(16, 3, generator=g, dtype=torch.float64) * scale + shift for _ in range(n_batches)]


def test_batchnorm_training_output_has_zero_mean_unit_variance_per_unit():
    bn = BatchNorm(3).double().train()
    x = _batches()[0]
    y = bn(x)
    torch.testing.assert_close(y.mean(dim=0), torch.zeros(3, dtype=torch.float64), rtol=0, atol=BN_ATOL)
    # biased variance of the normalised batch is var / (var + eps)
    var = x.var(dim=0, unbiased=False)
    torch.testing.assert_close(y.var(dim=0, unbiased=False), var / (var + bn.eps), rtol=BN_VAR_RTOL, atol=0)


def test_batchnorm_matches_torch_batchnorm1d_in_train_and_eval():
    ours = BatchNorm(3, eps=1e-5, momentum=0.1).double()
    ref = torch.nn.BatchNorm1d(3, eps=1e-5, momentum=0.1).double()
    with torch.no_grad():
        ours.gamma.copy_(torch.tensor([1.5, 0.5, 2.0]))
        ours.beta.copy_(torch.tensor([0.1, -0.2, 0.3]))
        ref.weight.copy_(ours.gamma)
        ref.bias.copy_(ours.beta)
    for x in _batches():
        torch.testing.assert_close(ours(x), ref(x), rtol=BN_RTOL, atol=BN_ATOL)
    torch.testing.assert_close(ours.running_mean, ref.running_mean, rtol=BN_RTOL, atol=BN_ATOL)
    torch.testing.assert_close(ours.running_var, ref.running_var, rtol=BN_RTOL, atol=BN_ATOL)
    ours.eval()
    ref.eval()
    x = _batches(seed=9, n_batches=1)[0]
    torch.testing.assert_close(ours(x), ref(x), rtol=BN_RTOL, atol=BN_ATOL)


def test_batchnorm_eval_uses_running_statistics():
    bn = BatchNorm(3).double()
    for x in _batches(n_batches=60):
        bn(x)
    bn.eval()
    x = _batches(seed=5, n_batches=1)[0]
    expected = (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps)
    torch.testing.assert_close(bn(x), expected, rtol=RTOL, atol=BN_ATOL)
    # a sample's output no longer depends on the rest of the batch
    torch.testing.assert_close(bn(x[:1]), bn(x)[:1], rtol=RTOL, atol=0)
    # and the running statistics approach the data's mean and variance
    torch.testing.assert_close(
        bn.running_mean, torch.tensor([3.0, -2.0, 0.5], dtype=torch.float64), rtol=0, atol=1.0
    )


def test_batchnorm_trains_inside_a_model_with_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2)) * [100.0, 0.01]  # badly scaled inputs, notes 8.1
    T = (X[:, :1] / 100 + X[:, 1:] / 0.01 > 0).astype(float)
    torch.manual_seed(0)
    net = torch.nn.Sequential(BatchNorm(2), torch.nn.Linear(2, 1), torch.nn.Sigmoid()).double()
    hist = fit(net, (X, T), "bce", epochs=100, lr=0.5, batch_size=50, seed=0, progress=False)
    assert not net.training
    acc = ((net(torch.tensor(X)) > 0.5).double().numpy() == T).mean()
    assert hist.loss[-1] < hist.loss[0] and acc > 0.95


def test_dropout_rejects_p_of_one():
    with pytest.raises(ValueError, match="p must be"):
        Dropout(1.0)


def test_dropout_rejects_negative_p():
    with pytest.raises(ValueError, match="p"):
        Dropout(-0.1)


def test_batchnorm_rejects_zero_features():
    with pytest.raises(ValueError, match="num_features"):
        BatchNorm(0)


def test_batchnorm_rejects_wrong_input_width():
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        BatchNorm(3)(torch.zeros(4, 2))


def test_batchnorm_rejects_single_sample_batch_in_training():
    with pytest.raises(ValueError, match="at least 2 samples"):
        BatchNorm(3).train()(torch.zeros(1, 3))

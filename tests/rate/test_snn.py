"""SpikingMLP: spikenet's LIF dynamics in PyTorch with a surrogate gradient.

References used here: ``spikenet.sim.Network`` (an independent implementation
of the same dynamics, in Numba), ``PSCFilter.apply`` for the readout filter,
closed forms of the LIF voltage for the gradients, and finite differences.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from spikenet.rate import SpikingMLP, datasets, fast_sigmoid_spike, fit_spiking
from spikenet.sim import PSCFilter

# Tolerances. Both sides run in float64 with the same operations except the
# order of summation in the weighted sums (BLAS vs one spike at a time), so
# voltages differ by a few ulps: spike steps must agree exactly, spike times
# to well within a microsecond (the crossing-time log amplifies the ulps by
# at most (J - v_th)^-1), readout outputs to 1e-9 relative.
SPIKE_TIME_ATOL = 1e-9  # s
LOGIT_RTOL = 1e-9
# snnTorch's accuracy on the same digits split at 10 steps (published with
# the bridge benchmark): the trained spiking network must reach it.
SNNTORCH_ACCURACY = 0.978


def _random_net(sizes, tau_ref, synapse=PSCFilter(0.005), seed=0):  # noqa: B008
    """A float64 network with weights large enough to spike often, refractory exits included."""
    torch.manual_seed(seed)
    net = SpikingMLP(sizes, tau_ref=tau_ref, synapse=synapse, steps=12).double()
    with torch.no_grad():
        for lin in net.layers:
            lin.weight.mul_(1.5)
            lin.bias.add_(0.5)
    return net


def _compare_with_network(net, x, steps):
    run = net.simulate(x, steps)
    logits, rasters, result = net.run_network(x, steps)
    n_spikes = 0
    for i, (s, raster) in enumerate(zip(run.spikes, rasters, strict=True)):
        mine = s.detach().numpy().astype(bool)
        assert mine.shape == raster.shape
        np.testing.assert_array_equal(mine, raster, err_msg=f"hidden{i} spike steps differ")
        n_spikes += raster.sum()
        times, neurons, batch = result.spike_events(f"hidden{i}")
        keep = times < steps * net.dt - 1e-12  # the network runs one more step for the readout
        t_mine = run.spike_times[i].numpy()
        k = np.floor(times[keep] / net.dt + 1e-9).astype(int)
        np.testing.assert_allclose(t_mine[k, batch[keep], neurons[keep]], times[keep], rtol=0,
                                   atol=SPIKE_TIME_ATOL)
        assert np.isnan(t_mine[~raster]).all()
    np.testing.assert_allclose(run.logits.detach().numpy(), logits, rtol=LOGIT_RTOL,
                               atol=LOGIT_RTOL * np.abs(logits).max())
    return n_spikes, rasters


def test_spike_steps_and_times_equal_spikenet_sim_network():
    """Two hidden layers, tau_ref not a multiple of dt (refractory periods end mid-step)."""
    net = _random_net([6, 20, 15, 4], tau_ref=0.0025)
    x = torch.rand(7, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 40
    n_spikes, rasters = _compare_with_network(net, x, steps=12)
    # the comparison covers many spikes and neurons spiking repeatedly
    assert n_spikes > 300
    assert (rasters[0].sum(axis=0) >= 3).any()


def test_spike_steps_equal_network_with_short_refractory_and_alpha_synapse():
    """tau_ref < dt: a neuron free again within its spike's step is capped at threshold; 2-stage synapse."""
    net = _random_net([5, 12, 9, 3], tau_ref=0.0004, synapse=PSCFilter(0.004, n=1), seed=3)
    x = torch.rand(4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2)) * 60
    n_spikes, rasters = _compare_with_network(net, x, steps=12)
    assert n_spikes > 200
    # neurons spiking in consecutive steps exercise the cap-and-spike-at-start path
    assert (rasters[0][1:] & rasters[0][:-1]).any()


def test_time_varying_input_matches_network():
    net = _random_net([5, 10, 3], tau_ref=0.0015, seed=4)
    x = torch.rand(12, 3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(5)) * 50
    n_spikes, _ = _compare_with_network(net, x, steps=12)
    assert n_spikes > 50


def test_readout_is_the_psc_filtered_last_raster():
    """logits = b + W_out mean_k (h * raster)[k]: checked against PSCFilter.apply."""
    net = _random_net([4, 10, 3], tau_ref=0.002, synapse=PSCFilter(0.003, n=1), seed=6)
    x = torch.rand(5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(7)) * 40
    run = net.simulate(x, 12)
    raster = run.spikes[-1].detach().numpy()  # (steps, batch, n)
    filtered = net.synapse.apply(raster.reshape(12, -1), net.dt).reshape(raster.shape)
    W = net.layers[-1].weight.detach().numpy()
    b = net.layers[-1].bias.detach().numpy()
    want = filtered.mean(axis=0) @ W.T + b
    np.testing.assert_allclose(run.logits.detach().numpy(), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(run.running_logits[-1].detach().numpy(), want, rtol=1e-12, atol=1e-12)
    assert raster.sum() > 10


def test_surrogate_derivative_is_the_fast_sigmoid_derivative():
    """Backward of the spike = derivative of x / (1 + beta |x|), checked by finite differences."""
    beta = 7.0
    x = torch.linspace(-1.0, 1.0, 41, dtype=torch.float64)
    x = x[x.abs() > 1e-3].requires_grad_(True)  # away from the kink of |x|
    s = fast_sigmoid_spike(x, slope=beta)
    np.testing.assert_array_equal(s.detach().numpy(), (x.detach().numpy() >= 0).astype(float))
    s.sum().backward()
    h = 1e-6
    xd = x.detach().numpy()
    def fs(z):
        return z / (1 + beta * np.abs(z))
    fd = (fs(xd + h) - fs(xd - h)) / (2 * h)
    np.testing.assert_allclose(x.grad.numpy(), fd, rtol=1e-7)


def test_readout_gradient_matches_finite_differences():
    """The readout is smooth in its weights (the spikes do not depend on them): autograd = FD."""
    net = _random_net([4, 8, 3], tau_ref=0.002, seed=8)
    x = torch.rand(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(9)) * 40
    y = torch.tensor([0, 2, 1])
    loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    W = net.layers[-1].weight
    grad = W.grad.clone()
    fd = torch.zeros_like(grad)
    h = 1e-6
    with torch.no_grad():
        for idx in np.ndindex(*W.shape):
            W[idx] += h
            up = torch.nn.functional.cross_entropy(net(x), y)
            W[idx] -= 2 * h
            down = torch.nn.functional.cross_entropy(net(x), y)
            W[idx] += h
            fd[idx] = (up - down) / (2 * h)
    np.testing.assert_allclose(grad.numpy(), fd.numpy(), rtol=1e-6, atol=1e-9)
    assert grad.abs().max() > 1e-3


@pytest.mark.parametrize("steps", [1, 2])
def test_hidden_gradient_is_the_surrogate_times_the_exact_voltage_derivative(steps):
    """Below threshold at step 0, v_1 = (1 - a) J and v_2 = (1 + a)(1 - a) J (exact LIF, v_0 = 0).

    So d s_k / d b_0 = (dv_k/dJ) / (1 + beta |v_k - 1|)^2, with a = exp(-dt / tau_m).
    """
    net = SpikingMLP([3, 5, 2], dt=1e-3, tau_m=0.02, slope=4.0).double()
    a = math.exp(-1e-3 / 0.02)
    with torch.no_grad():
        net.layers[0].weight.zero_()
        # drives below 1 / (1 - a) (no spike in step 0) but some above threshold by step 2
        net.layers[0].bias.copy_(torch.tensor([5.0, 12.0, 15.0, 20.0, 20.4], dtype=torch.float64))
    x = torch.zeros(1, 3, dtype=torch.float64)
    run = net.simulate(x, steps)
    run.spikes[0][steps - 1].sum().backward()
    J = net.layers[0].bias.detach().numpy()
    dv = (1 - a) * (1 + a) if steps == 2 else (1 - a)
    v = dv * J
    want = dv / (1 + 4.0 * np.abs(v - 1.0)) ** 2
    np.testing.assert_allclose(net.layers[0].bias.grad.numpy(), want, rtol=1e-12)
    np.testing.assert_array_equal(run.spikes[0][steps - 1, 0].detach().numpy(), (v >= 1.0).astype(float))


@pytest.mark.slow
def test_trained_spiking_digits_reach_snntorch_accuracy_and_run_unchanged_in_sim():
    """128 hidden LIF neurons, 10 steps of 1 ms: at least snnTorch's 97.8 %; same spikes in spikenet.sim.

    (The fast version of this check is the ``--quick`` run of
    examples/train_spiking_digits.py, tested in tests/examples.)
    """
    Xtr, ytr, Xte, yte = datasets.digits(seed=0)
    torch.manual_seed(0)
    net = SpikingMLP([64, 128, 10], dt=1e-3, tau_ref=0.0, steps=10)
    fit_spiking(net, (Xtr, ytr), epochs=40, seed=0, threads=1)
    with torch.no_grad():
        run = net.simulate(Xte)
    acc = float((run.logits.argmax(1).numpy() == yte).mean())
    assert acc >= SNNTORCH_ACCURACY, acc
    # the trained weights, unchanged, in spikenet.sim (float64 copy of the float32 weights)
    net64 = net.double()
    with torch.no_grad():
        run64 = net64.simulate(Xte)
    logits, rasters, _ = net64.run_network(Xte)
    np.testing.assert_array_equal(run64.spikes[0].numpy().astype(bool), rasters[0])
    acc_sim = float((logits.argmax(1) == yte).mean())
    assert acc_sim >= SNNTORCH_ACCURACY - 0.005, acc_sim


def test_bad_arguments_raise_errors_naming_them():
    with pytest.raises(ValueError, match="sizes"):
        SpikingMLP([4, 3])
    with pytest.raises(TypeError, match="sizes"):
        SpikingMLP("abc")
    with pytest.raises(ValueError, match="dt"):
        SpikingMLP([4, 5, 3], dt=0.05)
    with pytest.raises(ValueError, match="tau_m"):
        SpikingMLP([4, 5, 6, 3], tau_m=[0.02])
    with pytest.raises(TypeError, match="synapse"):
        SpikingMLP([4, 5, 3], synapse=0.005)
    net = SpikingMLP([4, 5, 3])
    with pytest.raises(ValueError, match="x must have shape"):
        net(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="x must have shape"):
        net(torch.zeros(3, 2, 4))  # time-varying but not steps rows
    with pytest.raises(ValueError, match="NaN"):
        net(torch.full((2, 4), float("nan")))
    with pytest.raises(ValueError, match="steps"):
        net(torch.zeros(2, 4), steps=0)
    with pytest.raises(ValueError, match=r"data\[1\]"):
        fit_spiking(net, (np.zeros((2, 4)), np.array([0, 7])), epochs=1)
    with pytest.raises(TypeError, match="model"):
        fit_spiking(torch.nn.Linear(2, 2), (np.zeros((2, 2)), np.array([0, 1])))
    with pytest.raises(TypeError, match="model"):
        SpikingMLP.from_spiking_model(net)


def test_converted_network_keeps_its_spikes_and_fine_tunes():
    """from_spiking_model: the hidden spikes of SpikingModel.simulate; fine-tuning lowers the loss."""
    from spikenet.rate import LIFRate, to_spiking

    torch.manual_seed(0)
    rate = torch.nn.Sequential(torch.nn.Linear(6, 12), LIFRate(amplitude=0.01), torch.nn.Linear(12, 3))
    with torch.no_grad():
        rate[0].weight.mul_(8.0)
        rate[0].bias.add_(2.0)
    converted = to_spiking(rate, dt=1e-3, synapse=PSCFilter(0.005), rate_scale=1.0, v_init=0.0,
                           dtype="float64")
    with pytest.raises(ValueError, match="synapse"):
        SpikingMLP.from_spiking_model(to_spiking(rate, dt=1e-3))  # the defaults: no synapse
    x = torch.rand(5, 6, generator=torch.Generator().manual_seed(0))
    reference = converted.simulate(x, 0.012).rasters[0]  # (steps, batch, n)
    net = SpikingMLP.from_spiking_model(converted, steps=12).double()
    run = net.simulate(x.double())
    np.testing.assert_array_equal(run.spikes[0].detach().numpy().astype(bool), reference)
    assert reference.sum() > 20
    y = torch.tensor([0, 1, 2, 0, 1])
    hist = fit_spiking(net, (x, y), epochs=15, lr=0.01, batch_size=5, input_noise=0.0, seed=0)
    assert hist["loss"][-1] < hist["loss"][0]


def test_docstring_examples_run():
    import doctest

    import spikenet.rate.snn as snn

    result = doctest.testmod(snn, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4
    assert result.failed == 0

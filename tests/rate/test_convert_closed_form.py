"""The converted network's closed-form path: one hidden layer under a constant input.

``to_spiking`` models with one hidden layer and a constant input count each
neuron's spikes from the closed-form spike times of a LIF neuron with a
constant drive instead of stepping it; these tests hold that path to
spikenet.sim's exact LIF neurons and to the step-by-step kernel.
"""

import numpy as np
import pytest
import torch

from spikenet.rate import LIFRate, to_spiking
from spikenet.sim import Network
from tests.rate.test_convert import small_net

# Two float64 routes to the same sums: rounding only.
RTOL_F64 = 1e-12
# Float32 outputs from the same spike counts, summed in another order.
RTOL_F32 = 1e-5


def one_layer_net(tau_ref=0.002, n_hidden=30, seed=0):
    """A random 3-n-4 Linear/LIFRate network whose hidden units mostly fire."""
    return small_net((3, n_hidden, 4), seed=seed, bias=1.5, tau_ref=tau_ref)


def sim_counts(snn, x, steps):
    """Spikes of every hidden neuron in every step, (steps, batch, n), from a spikenet.sim Network."""
    dt = snn.dt
    net = Network(dt=dt, batch=len(x))
    pop = net.add_population(snn.sizes[0], snn.neurons[0], bias=snn.biases[0], init={"v": snn.v_init})
    net.add_input(pop, current=x @ snn.weights[0].T)
    times, neurons, batch = net.run(steps * dt).spike_events(pop)
    counts = np.zeros((steps, len(x), snn.sizes[0]), dtype=np.int64)
    np.add.at(counts, (np.floor(times / dt).astype(int), batch, neurons), 1)
    return counts


def analytic_counts(snn, x, steps):
    """Spikes per step from the LIF spike times under a constant drive ``J > 1`` (float64, logs).

    From ``v0``: first spike at ``tau_m ln((J - v0) / (J - 1))``, then one every
    ``tau_ref + tau_m ln(J / (J - 1))``.
    """
    neuron, dt = snn.neurons[0], snn.dt
    J = (x @ snn.weights[0].T + snn.biases[0]).ravel()
    counts = np.zeros((steps, J.size), dtype=np.int64)
    for i in np.flatnonzero(J > 1.0):
        first = neuron.tau_m * np.log((J[i] - snn.v_init) / (J[i] - 1.0))
        period = neuron.tau_ref + neuron.tau_m * np.log(J[i] / (J[i] - 1.0))
        t = first + period * np.arange(int((steps * dt - first) / period) + 2)
        np.add.at(counts[:, i], (t[t < steps * dt] / dt).astype(int), 1)
    return counts.reshape(steps, *x.shape[:1], -1)


def test_closed_form_counts_are_the_spikes_of_spikenet_sim_in_every_step():
    # rate_scale 4: at most one spike per neuron and step, as in spikenet.sim's network
    model = one_layer_net()
    x = np.random.default_rng(3).random((6, 3)) * 3.0
    snn = to_spiking(model, rate_scale=4.0, v_init=0.3, dtype="float64")
    steps = 60
    counts = snn.simulate(x, steps * snn.dt).counts[0]
    expected = sim_counts(snn, x, steps)
    assert counts.max() == 1 and expected.sum() > 1000
    np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize("tau_ref", [0.002, 0.0])
def test_closed_form_counts_several_spikes_per_step_at_the_lif_spike_times(tau_ref):
    # rate_scale 20 (tau_m = 1 ms) and strong drives: several spikes per neuron in a step
    model = one_layer_net(tau_ref=tau_ref)
    x = np.random.default_rng(3).random((6, 3)) * 3.0
    snn = to_spiking(model, rate_scale=20.0, v_init=0.3, dtype="float64")
    steps = 30
    counts = snn.simulate(x, steps * snn.dt).counts[0]
    expected = analytic_counts(snn, x, steps)
    assert counts.max() >= 3 and expected.sum() > 3000
    np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("steps", [1, 5, 10, 37])
def test_closed_form_run_equals_the_step_by_step_kernel(dtype, steps):
    # a (steps, batch, in) input takes the step-by-step kernel; holding it
    # constant must give the same spikes, hence the same decoded output
    model = one_layer_net()
    x = np.random.default_rng(4).random((9, 3))
    snn = to_spiking(model, dtype=dtype)
    T = steps * snn.dt
    stepped = np.broadcast_to(x, (steps, *x.shape))
    np.testing.assert_array_equal(snn.simulate(x, T).counts[0], snn.simulate(stepped, T).counts[0])
    rtol = RTOL_F64 if dtype == "float64" else RTOL_F32
    for settle in (0.0, (steps // 2) * snn.dt):
        out = snn.run(x, T, settle=settle)
        assert out.dtype == np.dtype(dtype)
        np.testing.assert_allclose(out, snn.run(stepped, T, settle=settle), rtol=rtol, atol=1e-6 * rtol)


def test_closed_form_run_decodes_the_window_of_its_own_raster():
    # run(x, T, settle) is the readout of the spikes simulate() records in [settle, T)
    model = one_layer_net()
    x = np.random.default_rng(5).random((7, 3))
    snn = to_spiking(model, dtype="float64")
    run = snn.simulate(x, 0.02)
    for T, settle in ((0.02, 0.0), (0.02, 0.007), (0.013, 0.004)):
        k_s, k_e = round(settle / snn.dt), round(T / snn.dt)
        window = run.counts[0][k_s:k_e].sum(axis=0) / (T - settle)
        expected = snn.amplitudes[0] * window @ snn.weights[1].T + snn.biases[1]
        np.testing.assert_allclose(snn.run(x, T, settle=settle), expected, rtol=RTOL_F64)


def test_digits_short_runs_keep_the_step_by_step_kernels_spikes(digits_model):
    model, (_, _, X_test, _) = digits_model
    snn = to_spiking(model)  # the defaults: float32, 1 ms steps
    x = X_test.numpy()
    for steps in (5, 10):
        stepped = np.broadcast_to(x, (steps, *x.shape))
        fast = snn.simulate(x, steps * snn.dt).counts[0]
        assert fast.sum() > 10 * len(x)
        np.testing.assert_array_equal(fast, snn.simulate(stepped, steps * snn.dt).counts[0])
        np.testing.assert_array_equal(
            snn.run(x, steps * snn.dt).argmax(1), snn.run(stepped, steps * snn.dt).argmax(1)
        )


def test_the_one_layer_batch_is_one_closed_form_kernel_call(monkeypatch):
    import spikenet.rate._bridge_kernel as kernel

    calls = []
    original = kernel.run_constant_layer

    def counting(x, *args):
        calls.append(x.shape)
        return original(x, *args)

    monkeypatch.setattr(kernel, "run_constant_layer", counting)
    to_spiking(one_layer_net()).run(np.zeros((7, 3)), T=0.01)
    assert calls == [(7, 3)]


def test_changing_a_layer_after_a_run_changes_the_next_run():
    # the kernels' arrays are derived once and kept: replacing a layer, or
    # changing its arrays in place, renews them
    snn = to_spiking(one_layer_net(), dtype="float64")
    x = np.random.default_rng(6).random((5, 3))
    before = snn.run(x, 0.01)
    np.testing.assert_array_equal(snn.run(x, 0.01), before)
    snn.weights[1] = 2.0 * snn.weights[1]
    snn.biases[1] = 2.0 * snn.biases[1]
    np.testing.assert_allclose(snn.run(x, 0.01), 2.0 * before, rtol=RTOL_F64)
    snn.weights[1] *= 0.5
    snn.biases[1] *= 0.5
    np.testing.assert_allclose(snn.run(x, 0.01), before, rtol=RTOL_F64)
    snn.weights[0][:] = 0.0  # no input: every neuron at its bias
    silent = to_spiking(one_layer_net(), dtype="float64")
    silent.weights[0] = np.zeros_like(silent.weights[0])
    np.testing.assert_array_equal(snn.run(x, 0.01), silent.run(x, 0.01))


def test_a_run_leaves_numbas_thread_count_as_it_was():
    import numba

    snn = to_spiking(one_layer_net())
    before = numba.get_num_threads()
    snn.run(np.ones((3, 3)), 0.005)
    snn.simulate(np.ones((3, 3)), 0.005)
    assert numba.get_num_threads() == before


def test_lif_rate_with_no_refractory_period_converts():
    # tau_ref = 0 (as ReLU conversions use): the spike sequence grows by J / (J - 1) only
    act = LIFRate(tau_ref=0.0, amplitude=0.01)
    model = torch.nn.Sequential(torch.nn.Linear(1, 1), act, torch.nn.Linear(1, 1))
    with torch.no_grad():
        model[0].weight.fill_(0.0)
        model[0].bias.fill_(40.0)
        model[2].weight.fill_(1.0)
        model[2].bias.fill_(0.0)
    snn = to_spiking(model, dtype="float64")
    counts = snn.simulate(np.zeros((1, 1)), 0.05).counts[0]
    np.testing.assert_array_equal(counts, analytic_counts(snn, np.zeros((1, 1)), 50))
    assert counts.max() >= 15
    # the readout counts the same spikes
    decoded = snn.amplitudes[0] * counts.sum() / 0.05
    np.testing.assert_allclose(snn.run(np.zeros((1, 1)), 0.05), [[decoded]], rtol=RTOL_F64)


def test_long_float32_runs_count_in_float64_where_exp_t_over_tau_m_overflows_float32():
    # 200 steps of 1 ms with tau_m = 2 ms: exp(T / tau_m) = e^100 is beyond float32;
    # the closed form then computes in float64 and matches the float64 model's spikes
    model = one_layer_net()
    x = np.random.default_rng(7).integers(0, 9, (6, 3)) / 8.0  # exact in float32
    snn32, snn64 = to_spiking(model, dtype="float32"), to_spiking(model, dtype="float64")
    T = 0.2
    assert T / snn32.neurons[0].tau_m == pytest.approx(100.0)
    counts = snn32.simulate(x, T).counts[0]
    assert counts.sum() > 1000
    np.testing.assert_array_equal(counts, snn64.simulate(x, T).counts[0])
    out = snn32.run(x, T)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, snn64.run(x, T), rtol=RTOL_F32)

"""Tests of the converted network with instantaneous synapses: exact LIF spikes, short runs, spike inputs."""


import numpy as np
import pytest
import torch

from spikenet.rate import LIFRate, SoftLIFRate, poisson_encode, to_spiking
from spikenet.rate._digits_model import accuracy, softlif_classifier, train_classifier
from spikenet.sim import LIF, Network, PSCFilter
from tests.rate.test_convert import PSC_PATH, small_net

# Float64 routes to the same sums in another order: rounding only.
RTOL_F64 = 1e-12
# Short runs: the converted digits net within 0.5 percentage points of the rate net at 5 steps.
MAX_DROP_5_STEPS = 0.005
# The former default conversion and run length (PSC synapse, 200 steps).
OLD_OPTIONS = PSC_PATH  # the former defaults of to_spiking
OLD_T = 0.2


def random_net(sizes=(3, 20, 20, 2), seed=0, bias=1.2):
    """A random Linear/LIFRate network (see ``tests.rate.test_convert.small_net``)."""
    return small_net(sizes, seed=seed, bias=bias)


def sim_layer(x_current, bias, neuron, v_init, dt, steps):
    """Spikes of one LIF population of spikenet.sim driven by a per-step current (steps, batch, n)."""
    net = Network(dt=dt, batch=x_current.shape[1])
    pop = net.add_population(x_current.shape[2], neuron, bias=bias, init={"v": v_init})
    net.add_input(pop, current=x_current)
    result = net.run(steps * dt)
    return result.spike_raster(pop), len(result.spike_events(pop)[0])


# ---------------------------------------------------------------- exactness


@pytest.mark.parametrize("varying", [False, True])
def test_instantaneous_path_fires_the_spikes_of_spikenet_sim_and_counts_them_in_the_readout(varying):
    # independent reference: each layer as a spikenet.sim.Network population fed
    # the current the layer before delivers (its spikes of the step, times A / dt);
    # the input is constant, or constant over runs of 1 to 9 steps (the kernel
    # counts spikes of a neuron with an unchanged drive from its period)
    model = random_net()
    rng = np.random.default_rng(1)
    dt, steps = 1e-3, 40
    x = rng.random((5, 3))
    if varying:
        x = np.repeat(rng.random((steps, 5, 3)), rng.integers(1, 10, steps), axis=0)[:steps]
    snn = to_spiking(model, dt=dt, rate_scale=3.0, v_init=0.5, dtype="float64")
    run = snn.simulate(x, steps * dt)
    current = np.broadcast_to(x @ snn.weights[0].T, (steps, 5, 20))
    for i, counts in enumerate(run.counts):
        raster, total = sim_layer(current, snn.biases[i], snn.neurons[i], 0.5, dt, steps)
        assert counts.sum() == total > 100
        np.testing.assert_array_equal(counts > 0, raster)
        current = (snn.amplitudes[i] / dt) * counts @ snn.weights[i + 1].T
    assert snn.neurons[0] == LIF(tau_m=0.02 / 3, tau_ref=0.002 / 3)
    # readout: the final Linear applied to the last layer's spike counts per second
    rates = run.counts[-1].sum(axis=0) / (steps * dt)  # (batch, n)
    expected = snn.amplitudes[-1] * rates @ snn.weights[-1].T + snn.biases[-1]
    np.testing.assert_allclose(snn.run(x, steps * dt), expected, rtol=RTOL_F64)
    np.testing.assert_allclose(run.decoded(0.0), expected, rtol=RTOL_F64)


def test_several_spikes_per_step_are_counted():
    # tau_ref = 0.1 ms and a strong drive: the rate (closed form) far above 1 / dt
    model = torch.nn.Sequential(torch.nn.Linear(1, 1), LIFRate(amplitude=0.01), torch.nn.Linear(1, 1))
    with torch.no_grad():
        model[0].weight.fill_(0.0)
        model[0].bias.fill_(50.0)
    snn = to_spiking(model, rate_scale=20.0, dtype="float64")
    T = 0.5
    counts = snn.simulate(np.zeros((1, 1)), T).counts[0]
    rate = snn.neurons[0].rate(50.0)
    assert rate > 5 / snn.dt
    assert counts.max() >= 5
    assert abs(counts.sum() / T - rate) <= 1 / T


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_constant_time_varying_input_equals_the_static_input_exactly(dtype):
    model = random_net()
    x = np.random.default_rng(2).random((6, 3))
    snn = to_spiking(model, dtype=dtype)
    steps = 12
    static = snn.run(x, steps * snn.dt)
    varying = snn.run(np.broadcast_to(x, (steps, *x.shape)), steps * snn.dt)
    assert static.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(varying, static)
    np.testing.assert_array_equal(snn.run(torch.as_tensor(x), steps * snn.dt), static)


def test_float32_and_float64_agree_on_digits(digits_model):
    model, (_, _, X_test, _) = digits_model
    out32 = to_spiking(model, dtype="float32").run(X_test, 0.005)
    out64 = to_spiking(model, dtype="float64").run(X_test, 0.005)
    assert out32.dtype == np.float32 and out64.dtype == np.float64
    assert np.mean(out32.argmax(1) == out64.argmax(1)) >= 0.99


def test_the_whole_batch_is_one_kernel_call(monkeypatch):
    import spikenet.rate._bridge_kernel as kernel

    calls = []
    original = kernel.run_feedforward

    def counting(*args):
        calls.append(args[1])
        return original(*args)

    monkeypatch.setattr(kernel, "run_feedforward", counting)
    to_spiking(random_net()).run(np.zeros((7, 3)), T=0.01)
    assert calls == [10]


# ---------------------------------------------------------------- steps


def test_T_is_a_whole_number_of_steps():
    snn = to_spiking(random_net())
    x = np.ones((2, 3))
    assert snn.run(x, 1e-3).shape == (2, 2)  # one step is allowed
    np.testing.assert_array_equal(snn.run(x, 0.005 * (1 + 1e-12)), snn.run(x, 0.005))
    for T in (0.0015, 0.005 * (1 + 1e-8), 5e-4):
        with pytest.raises(ValueError, match="T"):
            snn.run(x, T)
        with pytest.raises(ValueError, match="T"):
            snn.simulate(x, T)


# ---------------------------------------------------------------- digits in 5 steps


def test_digits_reach_the_rate_networks_accuracy_in_5_steps_with_fewer_spikes(digits_model):
    model, (_, _, X_test, y_test) = digits_model
    with torch.no_grad():
        rate_acc = accuracy(model(X_test), y_test)
    snn = to_spiking(model)  # defaults: dt = 1 ms
    run = snn.simulate(X_test, 0.005)
    assert accuracy(snn.run(X_test, 0.005), y_test) >= rate_acc - MAX_DROP_5_STEPS
    assert accuracy(run.decoded(0.0), y_test) >= rate_acc - MAX_DROP_5_STEPS
    spikes = run.counts[0].sum() / len(X_test)
    old = to_spiking(model, **OLD_OPTIONS).simulate(X_test, OLD_T)
    old_spikes = old.rasters[0].sum() / len(X_test)
    assert 0 < spikes <= old_spikes
    # the former defaults need many more steps: at 5 they are far from the rate net
    old_short = accuracy(to_spiking(model, **OLD_OPTIONS).run(X_test, 0.005), y_test)
    assert old_short < rate_acc - 0.1


# ---------------------------------------------------------------- spike inputs


def test_poisson_encode_have_the_requested_probability():
    p = np.array([[0.0, 0.1, 0.5, 1.0]])
    steps = 20000
    raster = poisson_encode(p, steps, seed=3)
    assert raster.shape == (steps, 1, 4) and raster.dtype == bool
    mean = raster.mean(axis=0)[0]
    sd = np.sqrt(p[0] * (1 - p[0]) / steps)
    assert np.all(np.abs(mean - p[0]) <= 5 * sd)
    assert mean[0] == 0 and mean[3] == 1
    np.testing.assert_array_equal(poisson_encode(p, 50, seed=4), poisson_encode(p, 50, seed=4))
    assert not np.array_equal(poisson_encode(p, 50, seed=4), poisson_encode(p, 50, seed=5))


def test_poisson_encoding_in_run_is_a_spike_raster_input():
    snn = to_spiking(random_net(), dtype="float64")
    x = np.random.default_rng(5).random((4, 3))
    T, steps = 0.03, 30
    coded = snn.run(x, T, encode="poisson", seed=7)
    np.testing.assert_array_equal(coded, snn.run(poisson_encode(x, steps, seed=7), T))
    # inputs that always spike are the static input 1
    ones = np.ones((4, 3))
    np.testing.assert_array_equal(snn.run(ones, T, encode="poisson", seed=1), snn.run(ones, T))


def bar_events(n, steps, seed, p_on=0.6, p_off=0.05):
    """Synthetic event data: a bar of one of 4 orientations at a random place on an 8x8 sensor.

    Class 0: horizontal, 1: vertical, 2: diagonal, 3: anti-diagonal (length 5).
    Every pixel of the bar emits an event with probability ``p_on`` per step,
    every other pixel with ``p_off`` (sensor noise). Returns the event
    rasters (steps, n, 64) bool, the probability maps (n, 64) and the labels.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    maps = np.full((n, 8, 8), p_off)
    for i, c in enumerate(labels):
        a, b = rng.integers(0, 4, 2)
        s = np.arange(5)
        r0, c0 = rng.integers(0, 8, 2)
        rows, cols = {
            0: (np.full(5, r0), a + s),
            1: (a + s, np.full(5, c0)),
            2: (a + s, b + s),
            3: (a + s, b + 4 - s),
        }[int(c)]
        maps[i, rows, cols] = p_on
    maps = maps.reshape(n, 64)
    return poisson_encode(maps, steps, seed=rng), maps, labels


def test_converted_network_classifies_synthetic_event_data():
    # trained on the probability maps (rates), tested on event rasters
    _, train_maps, train_y = bar_events(1200, 1, seed=0)
    events, _, test_y = bar_events(300, 20, seed=1)
    model = softlif_classifier(n_in=64, hidden=(64,), n_out=4, seed=0)
    X = torch.as_tensor(train_maps, dtype=torch.float32)
    train_classifier(model, X, torch.as_tensor(train_y), epochs=15, seed=0)
    snn = to_spiking(model)
    acc = accuracy(snn.run(events, 0.02), test_y)
    # measured: 0.98 (rate net on the maps: 1.0); chance is 0.25
    assert acc >= 0.9


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"v_init": 1.0}, ValueError, "v_init"),
        ({"v_init": -0.1}, ValueError, "v_init"),
        ({"v_init": float("nan")}, ValueError, "v_init"),
        ({"dtype": "int32"}, ValueError, "dtype"),
        ({"dtype": "float16"}, ValueError, "dtype"),
        ({"dtype": "nonsense"}, TypeError, "dtype"),
    ],
)
def test_to_spiking_rejects_bad_short_run_options(kwargs, error, name):
    with pytest.raises(error, match=name):
        to_spiking(random_net(), **kwargs)


@pytest.mark.parametrize(
    ("x", "kwargs", "error", "match"),
    [
        (np.zeros((4, 2, 3)), {}, ValueError, "steps"),  # 4 rows, T gives 5 steps
        (np.zeros((5, 2, 4)), {}, ValueError, "x"),
        (np.zeros((5, 0, 3)), {}, ValueError, "x"),
        (np.zeros((1, 5, 2, 3)), {}, ValueError, "x"),
        (np.array([["a", "b", "c"]]), {}, TypeError, "x"),
        (np.full((2, 3), np.inf), {}, ValueError, "x"),
        (np.full((2, 3), 1.5), {"encode": "poisson"}, ValueError, "x"),
        (np.full((2, 3), 0.5), {"encode": "poison"}, ValueError, "encode"),
        (np.full((2, 3), 0.5), {"seed": 1}, ValueError, "seed"),
    ],
)
def test_run_rejects_bad_inputs(x, kwargs, error, match):
    with pytest.raises(error, match=match):
        to_spiking(random_net()).run(x, 0.005, **kwargs)


def test_soft_lif_models_convert_to_the_same_short_run_network():
    soft = torch.nn.Sequential(torch.nn.Linear(3, 5), SoftLIFRate(amplitude=0.01), torch.nn.Linear(5, 2))
    hard = torch.nn.Sequential(soft[0], LIFRate(amplitude=0.01), soft[2])
    x = np.random.default_rng(0).random((3, 3))
    np.testing.assert_array_equal(to_spiking(soft).run(x, 0.005), to_spiking(hard).run(x, 0.005))


@pytest.mark.parametrize("synapse", [None, PSCFilter(0.005)])
@pytest.mark.parametrize("v_init", [0.0, 0.5, 0.9])
def test_first_spike_comes_when_the_lif_solution_from_v_init_reaches_threshold(synapse, v_init):
    # one neuron with constant drive J: v(t) = J + (v_init - J) exp(-t / tau_m) reaches 1 at
    # t1 = tau_m ln((J - v_init) / (J - 1)), then fires every tau_ref + tau_m ln(J / (J - 1))
    model = torch.nn.Sequential(torch.nn.Linear(1, 1), LIFRate(amplitude=0.01), torch.nn.Linear(1, 1))
    J = 1.5
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].bias.fill_(J)
    snn = to_spiking(model, synapse=synapse, rate_scale=1.0, v_init=v_init, dtype="float64")
    run = snn.simulate(np.zeros((1, 1)), 0.2)
    raster = run.counts[0] if run.counts is not None else run.rasters[0]
    steps = np.flatnonzero(raster[:, 0, 0])
    t1 = 0.02 * np.log((J - v_init) / (J - 1))
    period = 0.002 + 0.02 * np.log(J / (J - 1))
    expected = np.floor((t1 + period * np.arange(len(steps))) / snn.dt).astype(int)
    assert len(steps) == int((0.2 - t1) / period) + 1
    np.testing.assert_array_equal(steps, expected)

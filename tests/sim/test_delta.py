"""Delta (voltage-jump) synapses: NEST iaf_psc_delta timing, Brunel (2000) against NEST, engine contracts."""

import numpy as np
import pytest

from spikenet.sim import HH, LIF, Delta, Network, PSCFilter
from tests.sim import brunel
from tests.sim.nest_reference import run_nest

DT = 1e-4
# Jump-driven LIF spikes fall on the time grid (arrival times), in spikenet and
# in NEST alike: equal to float64 rounding of k * dt.
GRID_ATOL = 1e-12


def _drive(net, pops, rasters, weights):
    for pop, raster, w in zip(pops, rasters, weights):
        net.add_input(pop, spikes=raster, weights=w, synapse=Delta())


def _chain(dtype=np.float64, threads=None, batch=None):
    """Three LIF neurons a -> b -> c (Delta, 1 ms and 1.5 ms), each also driven by random input jumps."""
    rng = np.random.default_rng(5)
    steps = 3000
    gens = rng.random((steps, 6)) < 0.03  # six generators, 300 Hz each
    gens[0] = False
    # generator q drives neuron q // 2 with weight w_gen[q] (excitatory and inhibitory)
    w_gen = np.array([0.55, -0.2, 0.45, 0.3, 0.6, -0.25])
    net = Network(dt=DT, dtype=dtype, threads=threads, batch=batch)
    lif = LIF(tau_m=0.02, tau_ref=0.002, v_th=1.0, v_reset=0.2)
    pops = [net.add_population(1, lif, name=name) for name in "abc"]
    net.connect(pops[0], pops[1], 0.7, synapse=Delta(), delay=1e-3)
    net.connect(pops[1], pops[2], 0.8, synapse=Delta(), delay=1.5e-3)
    for i, pop in enumerate(pops):
        w = np.zeros((1, 6))
        w[0, 2 * i:2 * i + 2] = w_gen[2 * i:2 * i + 2]
        net.add_input(pop, spikes=gens, weights=w, synapse=Delta())
    desc = {"dt": DT, "T": steps * DT, "pop_n": np.ones(3, int), "pop_tau_m": np.full(3, 0.02),
            "pop_tau_ref": np.full(3, 0.002), "pop_v_th": np.ones(3), "pop_v_reset": np.full(3, 0.2),
            "pop_bias": np.zeros(3), "v0": np.full(3, 0.2), "n_conn": 2,
            "c0_pre": 0, "c0_post": 1, "c0_i": [0], "c0_j": [0], "c0_w": [0.7], "c0_d": [1e-3],
            "c1_pre": 1, "c1_post": 2, "c1_i": [0], "c1_j": [0], "c1_w": [0.8], "c1_d": [1.5e-3]}
    k, q = np.nonzero(gens)
    order = np.lexsort((k, q))
    desc.update({"n_gen": 6, "gen_ptr": np.concatenate([[0], np.cumsum(np.bincount(q, minlength=6))]),
                 "gen_times": k[order] * DT, "g_i": np.arange(6) // 2, "g_j": np.arange(6), "g_w": w_gen,
                 "g_d": np.full(6, DT)})
    return net, desc, steps


@pytest.mark.nest
def test_chain_spike_times_equal_nest_iaf_psc_delta():
    # Summed simultaneous jumps, jumps ignored while refractory, spikes caused
    # by a jump at its arrival time, and one delay per hop: the spike times of
    # every neuron equal NEST's.
    net, desc, steps = _chain()
    res = net.run(steps * DT)
    senders, times = run_nest(desc)
    times_nest = brunel.nest_trains(senders, times, 3)
    for i, name in enumerate("abc"):
        ours = res.spike_times[name][0]
        theirs = times_nest[i][times_nest[i] < steps * DT - DT / 2]  # NEST stamps the last step's spikes at T
        assert len(ours) > 10
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=GRID_ATOL, err_msg=name)


def test_jump_to_threshold_spikes_at_arrival_and_reaches_targets_one_delay_later():
    # A spike of a caused by a jump arriving at t_a reaches b at t_a + delay:
    # no extra step per hop. Input row k arrives at (k + 1) dt.
    net = Network(dt=DT)
    a, b, c = (net.add_population(1, LIF(), name=n) for n in "abc")
    raster = np.zeros((1000, 1), dtype=bool)
    raster[99] = True  # arrives at 10.0 ms
    net.add_input(a, spikes=raster, weights=1.0, synapse=Delta())
    net.connect(a, b, 1.0, synapse=Delta(), delay=1e-3)
    net.connect(b, c, 1.0, synapse=Delta(), delay=2.5e-3)
    res = net.run(0.1)
    np.testing.assert_allclose(res.spike_times["a"][0], [0.010], atol=GRID_ATOL)
    np.testing.assert_allclose(res.spike_times["b"][0], [0.011], atol=GRID_ATOL)
    np.testing.assert_allclose(res.spike_times["c"][0], [0.0135], atol=GRID_ATOL)


def test_subthreshold_jump_adds_to_the_closed_form_voltage():
    # bias J = 0.8: v(t) = 0.8 (1 - exp(-t / tau_m)); a jump of 0.1 at t_a adds
    # 0.1 at t_a, then decays with tau_m on top of the closed form.
    tau_m = 0.02
    net = Network(dt=DT)
    pop = net.add_population(1, LIF(tau_m=tau_m), bias=0.8, name="p")
    raster = np.zeros((600, 1), dtype=bool)
    raster[199] = True  # arrives at t = 0.02 s (step 200)
    net.add_input(pop, spikes=raster, weights=0.1, synapse=Delta())
    res = net.run(0.06, record={"p": "v"})
    t = res.t
    jump = np.where(t >= 0.02 - DT / 2, 0.1 * np.exp(-(t - 0.02) / tau_m), 0.0)
    expected = 0.8 * (1 - np.exp(-t / tau_m)) + jump
    np.testing.assert_allclose(res["p", "v"][:, 0], expected, rtol=0, atol=1e-12)
    assert len(res.spike_times["p"][0]) == 0


def test_jump_on_bias_driven_neuron_spikes_exactly_at_arrival():
    # v(t_a) = 0.9 (1 - exp(-1)) = 0.569; a jump of 0.5 crosses threshold at t_a.
    net = Network(dt=DT)
    pop = net.add_population(1, LIF(), bias=0.9, name="p")
    raster = np.zeros((400, 1), dtype=bool)
    raster[199] = True
    net.add_input(pop, spikes=raster, weights=0.5, synapse=Delta())
    res = net.run(0.04, record={"p": "v"})
    np.testing.assert_allclose(res.spike_times["p"][0], [0.02], atol=GRID_ATOL)
    assert res["p", "v"][200, 0] == 0.0  # recorded after the reset


def test_refractory_neuron_ignores_jumps_including_one_at_the_end_of_its_refractory_period():
    # A jump-driven spike at 10 ms (tau_ref = 2 ms); jumps at 11 ms and at
    # exactly 12 ms are ignored (as in NEST), one at 12.1 ms is taken.
    net = Network(dt=DT)
    pop = net.add_population(1, LIF(tau_ref=0.002), name="p")
    raster = np.zeros((300, 1), dtype=bool)
    w = np.zeros((1, 1))
    w[0, 0] = 1.0
    raster[[99, 109, 119, 120], 0] = True  # arrive at 10.0, 11.0, 12.0, 12.1 ms
    net.add_input(pop, spikes=raster, weights=w, synapse=Delta())
    res = net.run(0.03, record={"p": "v"})
    np.testing.assert_allclose(res.spike_times["p"][0], [0.010, 0.0121], atol=GRID_ATOL)


def test_opposite_jumps_arriving_together_add_up_before_the_threshold_test():
    net = Network(dt=DT)
    pop = net.add_population(1, LIF(), name="p")
    raster = np.zeros((100, 2), dtype=bool)
    raster[9] = True  # both arrive at 1 ms: 1.2 - 0.5 = 0.7 < 1, no spike
    net.add_input(pop, spikes=raster, weights=np.array([[1.2, -0.5]]), synapse=Delta())
    res = net.run(0.01, record={"p": "v"})
    assert len(res.spike_times["p"][0]) == 0
    np.testing.assert_allclose(res["p", "v"][10, 0], 0.7, atol=1e-15)


@pytest.mark.nest
@pytest.mark.parametrize("regime", list(brunel.REGIMES))
def test_brunel_small_gives_nests_spikes_on_the_same_connectivity(regime):
    # Brunel (2000) model A scaled down (N_E = 400, C_E = 100, J C_E kept),
    # built once and run in both simulators with the same input spikes: every
    # spike time equals NEST's.
    m = brunel.make(regime, n_e=400, c_e=100, j_mv=1.0, T=0.2, seed=1)
    ours = brunel.run_spikenet(m)
    senders, times = run_nest(brunel.nest_description(m))
    theirs = brunel.nest_trains(senders, times[:], m.n_e + m.n_i)
    n_spikes = sum(len(s) for s in ours)
    assert n_spikes > 1000
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b[b < m.T - DT / 2], rtol=0, atol=GRID_ATOL, err_msg=f"neuron {i}")


@pytest.mark.slow
@pytest.mark.nest
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("regime", list(brunel.REGIMES))
def test_brunel_full_size_rate_and_cv_match_nest_within_seed_spread(regime):
    # Full model A (N_E = 10,000, C_E = 1,000, J = 0.1 mV, D = 1.5 ms), 0.5 s
    # (statistics over the last 0.4 s). spikenet and NEST on the same
    # connectivity and input; NEST again with another input seed gives the
    # seed-to-seed spread.
    T = 0.5
    m = brunel.make(regime, T=T, seed=0)
    ours = brunel.stats(brunel.run_spikenet(m), m.n_e, T)
    ref = []
    for seed in (0, 1):
        ms = m if seed == 0 else brunel.make(regime, T=T, seed=seed)
        senders, times = run_nest(brunel.nest_description(ms))
        ref.append(brunel.stats(brunel.nest_trains(senders, times, m.n_e + m.n_i), m.n_e, T))
    ref = np.array(ref)
    print(f"\n{regime}: spikenet rate {ours[0]:.2f} Hz CV {ours[1]:.3f}; NEST same input {ref[0, 0]:.2f} Hz "
          f"CV {ref[0, 1]:.3f}; NEST seeds rate {ref[:, 0].min():.2f}-{ref[:, 0].max():.2f} "
          f"CV {ref[:, 1].min():.3f}-{ref[:, 1].max():.3f}")
    spread = np.abs(ref[1] - ref[0])
    for q in range(2):
        assert abs(ours[q] - ref[0, q]) <= spread[q], (ours, ref)


def _feedforward(dtype=np.float64, threads=None, batch=None, copy=0, n=300):
    """Input jumps -> A -> B (Delta, sparse and dense), A also recurrent: enough activity to test the engine.

    The input raster has two copies; an unbatched network takes copy ``copy``.
    """
    rng = np.random.default_rng(2)
    steps = 2000
    raster = rng.random((steps, 2, 50)) < 0.05
    raster = raster[:, :batch] if batch is not None else np.ascontiguousarray(raster[:, copy])
    net = Network(dt=DT, dtype=dtype, threads=threads, batch=batch, seed=0)
    a = net.add_population(n, LIF(tau_ref=0.002), bias=0.5, init={"v": rng.random(n) * 0.9}, name="A")
    b = net.add_population(n // 3, LIF(tau_ref=0.003), name="B")
    net.add_input(a, spikes=raster, weights=(rng.random((n, 50)) < 0.2) * 0.3, synapse=Delta())
    net.connect(a, a, -0.05, synapse=Delta(), p=0.1, delay=1e-3)
    net.connect(a, b, rng.random((n // 3, n)) * 0.02, synapse=Delta(), delay=2e-3)
    net.connect(b, a, 0.2, synapse=PSCFilter(0.005), p=0.05, delay=DT)
    return net, steps


@pytest.mark.slow  # compiles the split (barrier) kernel with the jump pass
def test_split_over_threads_gives_the_single_thread_delta_spikes_bit_for_bit():
    record = {"A": ("v", "I_syn", "ref"), "B": ("v",)}
    out = {}
    for threads in (1, 2, 3):
        net, _ = _feedforward(threads=threads)
        out[threads] = (net.run(0.1, record=record), net.run(0.1, record=record), net._built)
    assert sum(len(s) for s in out[1][0].spike_times["B"]) > 20
    for threads in (2, 3):
        assert out[threads][2]["n_parts"] == threads
        for r1, rt in zip(out[1][:2], out[threads][:2]):
            for pop in ("A", "B"):
                for x, y in zip(r1.spike_times[pop], rt.spike_times[pop]):
                    np.testing.assert_array_equal(x, y)
            for pop, states in record.items():
                for state in states:
                    np.testing.assert_array_equal(r1[pop, state], rt[pop, state])


def test_two_runs_equal_one_long_run_with_delta_synapses():
    net1, _ = _feedforward()
    whole = net1.run(0.2)
    net2, _ = _feedforward()
    first, second = net2.run(0.0731), net2.run(0.2 - 0.0731)
    assert sum(len(s) for s in whole.spike_times["A"]) > 100
    for pop in ("A", "B"):
        for w, x, y in zip(whole.spike_times[pop], first.spike_times[pop], second.spike_times[pop]):
            np.testing.assert_array_equal(w, np.concatenate([x, y]))


@pytest.mark.slow  # compiles the batched kernel with the jump pass (about a minute)
def test_batch_copies_equal_per_sample_runs_with_delta_synapses():
    net, _ = _feedforward(batch=2)
    res = net.run(0.2)
    for b in range(2):
        ref = _feedforward(copy=b)[0].run(0.2)
        assert sum(len(s) for s in ref.spike_times["A"]) > 100
        for pop in ("A", "B"):
            for x, y in zip(ref.spike_times[pop], res.spike_times[pop][b]):
                np.testing.assert_array_equal(x, y)


@pytest.mark.slow  # compiles the float32 kernel with the jump pass
def test_float32_state_gives_the_float64_delta_spikes():
    # Jump-driven spikes fall on the grid; single precision moves the voltage
    # by ~1e-7, which changes a spike only if it lands that close to v_th.
    r64 = _feedforward()[0].run(0.2)
    r32 = _feedforward(dtype=np.float32)[0].run(0.2)
    same = total = 0
    for pop in ("A", "B"):
        for x, y in zip(r64.spike_times[pop], r32.spike_times[pop]):
            total += 1
            same += len(x) == len(y) and np.allclose(x, y, rtol=0, atol=2e-5)
    assert same / total > 0.97


def test_delta_only_networks_compile_the_jump_pass_and_others_prune_it():
    # The jump pass is behind a None-typed flag: a network without Delta
    # synapses passes None, so its kernel specialisation has no jump code.
    net = Network(dt=DT)
    a = net.add_population(10, LIF(), bias=1.2)
    net.connect(a, a, 0.01, synapse=PSCFilter(0.005), p=0.5)
    net.run(0.01)
    assert net._built["with_delta"] is None
    assert net._kernel_key.split("|")[-1] == "none"
    d, _ = _feedforward(threads=1)
    d.run(0.001)
    assert d._built["with_delta"] is not None
    # the kernel's arguments end with ..., jump_grp, with_delta, w_sdelay, dbuf, grp_doff, with_delays, plast
    assert net._kernel_key.split("|")[-6] == "none"
    assert d._kernel_key.split("|")[-6] != "none"


def test_delta_into_hh_population_raises_naming_synapse():
    net = Network(dt=DT)
    a = net.add_population(2, LIF())
    h = net.add_population(2, HH())
    with pytest.raises(ValueError, match="synapse"):
        net.connect(a, h, 1.0, synapse=Delta())
    with pytest.raises(ValueError, match="synapse"):
        net.add_input(h, spikes=np.zeros((10, 2), bool), synapse=Delta())


def test_zero_delay_out_of_a_population_receiving_jumps_raises_naming_delay():
    net = Network(dt=DT)
    a = net.add_population(2, LIF())
    b = net.add_population(2, LIF())
    net.add_input(a, spikes=np.zeros((10, 2), bool), synapse=Delta())
    net.connect(a, b, 0.1, synapse=PSCFilter(0.005))  # delay 0: a spikes at jump arrival times
    with pytest.raises(ValueError, match="delay"):
        net.run(DT)


def test_synapse_of_the_wrong_type_raises_naming_synapse():
    net = Network(dt=DT)
    a = net.add_population(2, LIF())
    with pytest.raises(TypeError, match="synapse"):
        net.connect(a, a, 0.1, synapse="delta")

"""Per-neuron LIF and HH parameters together with white noise, Conductance and Delta synapses.

A population with per-neuron values (``add_population(..., params=)``) must
give, neuron by neuron, what a population of scalar parameters gives with
that neuron's values. The network below holds one per-neuron population per
input kind; its twin holds, at the same neuron indices, one-neuron
populations of scalar parameters (or, for ``noise_eq``, one scalar
population), so every neuron draws the same noise numbers in both (the
numbers are a function of the seed and the neuron's global index). Both
networks also hold the per-neuron ``ou`` population, which keeps their
kernels the same specialisation (one compile) and is checked against the
Ornstein-Uhlenbeck statistics. Independent references: scipy ``solve_ivp``
(conductances), an event-driven closed form with NEST ``iaf_psc_delta``
timing (voltage jumps), the OU variance and autocorrelation (noise).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from spikenet.sim import HH, LIF, Conductance, Delta, Network
from tests.sim.conductance_reference import lif_reference

DT = 1e-4
T = 0.2
STEPS = round(T / DT)
N = 4
SEED = 7
SIGMA = 0.4  # LIF white noise, threshold units
_rng = np.random.default_rng(11)
LIF_PARAMS = {"tau_m": _rng.uniform(0.008, 0.03, N), "tau_ref": np.array([0.0, 0.5e-4, 0.002, 0.004]),
              "v_th": _rng.uniform(0.9, 1.1, N), "v_reset": _rng.uniform(-0.1, 0.1, N)}
EQ_LIF = LIF(tau_m=0.015, tau_ref=0.001, v_th=1.05, v_reset=0.05)
EQ_PARAMS = {"tau_m": np.full(N, 0.015), "tau_ref": np.full(N, 0.001), "v_th": np.full(N, 1.05),
             "v_reset": np.full(N, 0.05)}
HH_PARAMS = {"g_na": _rng.uniform(100.0, 130.0, N), "g_k": _rng.uniform(30.0, 40.0, N),
             "c_m": _rng.uniform(0.8, 1.2, N), "v_init": _rng.uniform(-70.0, -60.0, N)}
BIAS = {"noise_eq": np.full(N, 1.0), "noise": _rng.uniform(0.9, 1.2, N), "cond": _rng.uniform(0.6, 1.0, N),
        "delta": _rng.uniform(0.3, 0.85, N), "hh": _rng.uniform(2.0, 8.0, N)}
# Input rasters: row k arrives at (k + 1) dt.
RASTER = {name: np.random.default_rng(20 + q).random((STEPS, N)) < 0.03
          for q, name in enumerate(("cond_e", "cond_i", "delta", "hh_e", "hh_i"))}
COND_E, COND_I = Conductance(0.005, 5.0), Conductance(0.01, -1.0, 1)  # normalised reversal potentials
W_COND = 0.02
HH_E, HH_I = Conductance(0.002, 0.0), Conductance(0.005, -80.0)  # mV
W_HH = 1.5e-3  # mS/cm^2 x s
W_DELTA = np.array([0.25, -0.1, 0.35, 0.3])  # jump of each neuron's input (one weight per neuron)
# The OU population: three membrane time constants, no threshold within reach.
OU_TAUS = np.array([0.002, 0.004, 0.008])
OU_N = 1500
OU_T0 = 0.05  # statistics from here on (> 6 time constants of the slowest group)


def _ou_params():
    return {"tau_m": np.repeat(OU_TAUS, OU_N // 3), "v_th": np.full(OU_N, 50.0)}


def _lif_i(params, i):
    return LIF(**{k: float(v[i]) for k, v in params.items()})


def _add(net, name, neuron, n, bias, params=None):
    return net.add_population(n, neuron, bias=bias, name=name, params=params)


def _feed(net, pop, kind, cols):
    """The inputs of ``kind`` into ``pop``, for the neurons ``cols`` of the per-neuron population."""
    m = len(cols)
    eye = np.eye(m)
    if kind in ("noise_eq", "noise"):
        net.add_input(pop, noise=SIGMA)
    elif kind == "cond":
        net.add_input(pop, spikes=RASTER["cond_e"][:, cols], weights=W_COND * eye, synapse=COND_E)
        net.add_input(pop, spikes=RASTER["cond_i"][:, cols], weights=W_COND * eye, synapse=COND_I)
    elif kind == "delta":
        net.add_input(pop, spikes=RASTER["delta"][:, cols], weights=np.diag(W_DELTA[cols]), synapse=Delta())
    elif kind == "hh":
        net.add_input(pop, spikes=RASTER["hh_e"][:, cols], weights=W_HH * eye, synapse=HH_E)
        net.add_input(pop, spikes=RASTER["hh_i"][:, cols], weights=W_HH * eye, synapse=HH_I)


def _bias(name, cols, batch, shift=False):
    """The drive of neurons ``cols``; batch copy 1 (or, with ``shift``, the only copy) is driven harder."""
    b = BIAS[name][cols]
    step = 1.0 if name == "hh" else 0.05
    if batch is None:
        return b + step if shift else b
    return np.stack([b, b + step])


def build(per_neuron: bool, threads=None, batch=None, shift=False, dtype=np.float64) -> Network:
    """The per-neuron network (``per_neuron=True``) or its twin of scalar-parameter populations."""
    net = Network(dt=DT, seed=SEED, threads=threads, batch=batch, dtype=dtype)

    def _bias_of(name, cols):
        return _bias(name, cols, batch, shift)

    cols = list(range(N))
    if per_neuron:
        _feed(net, _add(net, "noise_eq", LIF(), N, _bias_of("noise_eq", cols), EQ_PARAMS), "noise_eq", cols)
        for kind in ("noise", "cond", "delta"):
            _feed(net, _add(net, kind, LIF(), N, _bias_of(kind, cols), LIF_PARAMS), kind, cols)
        _feed(net, _add(net, "hh", HH(), N, _bias_of("hh", cols), HH_PARAMS), "hh", cols)
    else:
        _feed(net, _add(net, "noise_eq", EQ_LIF, N, _bias_of("noise_eq", cols)), "noise_eq", cols)
        for kind in ("noise", "cond", "delta"):
            for i in range(N):
                pop = _add(net, f"{kind}{i}", _lif_i(LIF_PARAMS, i), 1, _bias_of(kind, [i]))
                _feed(net, pop, kind, [i])
        for i in range(N):
            pop = _add(net, f"hh{i}", HH(**{k: float(v[i]) for k, v in HH_PARAMS.items()}), 1,
                       _bias_of("hh", [i]))
            _feed(net, pop, "hh", [i])
    ou = net.add_population(OU_N, LIF(), bias=0.0, name="ou", params=_ou_params(), init={"v": 0.0})
    net.add_input(ou, noise=SIGMA)
    return net


def _record(per_neuron):
    if per_neuron:
        return dict.fromkeys(("noise_eq", "noise", "cond", "delta", "hh", "ou"), "v")
    rec = {"noise_eq": "v", "ou": "v"}
    rec.update({f"{kind}{i}": "v" for kind in ("noise", "cond", "delta", "hh") for i in range(N)})
    return rec


@pytest.fixture(scope="module")
def runs():
    """The per-neuron network and its twin, each run once for T."""
    pn = build(True).run(T, record=_record(True))
    twin = build(False).run(T, record=_record(False))
    return pn, twin


def _assert_twin(pn, twin, kind, b=None):
    """Neuron i of per-neuron population ``kind`` equals the scalar population ``kind{i}`` bit for bit."""
    for i in range(N):
        mine = pn.spike_times[kind][i] if b is None else pn.spike_times[kind][b][i]
        theirs = twin.spike_times[f"{kind}{i}"][0] if b is None else twin.spike_times[f"{kind}{i}"][b][0]
        np.testing.assert_array_equal(mine, theirs, err_msg=f"{kind} neuron {i}")
        v_mine = pn[kind, "v"][:, i] if b is None else pn[kind, "v"][:, b, i]
        v_theirs = twin[f"{kind}{i}", "v"][:, 0] if b is None else twin[f"{kind}{i}", "v"][:, b, 0]
        np.testing.assert_array_equal(v_mine, v_theirs, err_msg=f"{kind} neuron {i}")


def test_noise_with_equal_per_neuron_values_gives_the_scalar_population_spikes_bit_for_bit(runs):
    pn, twin = runs
    assert sum(len(x) for x in pn.spike_times["noise_eq"]) > 20
    for x, y in zip(pn.spike_times["noise_eq"], twin.spike_times["noise_eq"], strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(pn["noise_eq", "v"], twin["noise_eq", "v"])


def test_noise_neuron_i_equals_a_scalar_population_with_its_parameters(runs):
    # the noise numbers depend on the seed and the global neuron index only,
    # so neuron i draws the same numbers as the one-neuron population at its index
    pn, twin = runs
    assert all(len(x) >= 3 for x in pn.spike_times["noise"])
    _assert_twin(pn, twin, "noise")


def test_noise_gives_each_neuron_the_ornstein_uhlenbeck_variance_and_correlation_of_its_tau_m(runs):
    # tau_m dv = -v dt + sigma sqrt(tau_m) dW from v = 0: Var v(t) = sigma^2/2 (1 - exp(-2 t / tau_m)),
    # Corr(v(t), v(t + h)) = exp(-h / tau_m) once stationary. Neurons are independent, so the
    # standard error of each statistic comes from its spread over neurons.
    pn, twin = runs
    np.testing.assert_array_equal(pn["ou", "v"], twin["ou", "v"])
    v = pn["ou", "v"]
    t = np.arange(STEPS) * DT
    k0 = round(OU_T0 / DT)
    for q, tau in enumerate(OU_TAUS):
        vq = v[:, q * (OU_N // 3):(q + 1) * (OU_N // 3)]
        var_t = SIGMA**2 / 2 * -np.expm1(-2 * t / tau)
        ratio = np.mean(vq[1:] ** 2 / var_t[1:, None], axis=0)  # per neuron, all times
        sem = ratio.std(ddof=1) / math.sqrt(ratio.size)
        assert sem < 0.015  # measured 0.006 to 0.012
        assert abs(ratio.mean() - 1.0) < 4 * sem, (tau, ratio.mean(), sem)
        lag = round(tau / DT)
        corr = np.mean(vq[k0:-lag] * vq[k0 + lag:], axis=0) / (SIGMA**2 / 2)
        sem_c = corr.std(ddof=1) / math.sqrt(corr.size)
        assert sem_c < 0.015
        assert abs(corr.mean() - math.exp(-1.0)) < 4 * sem_c, (tau, corr.mean(), sem_c)


def test_conductance_neuron_i_equals_a_scalar_population_with_its_parameters(runs):
    pn, twin = runs
    assert all(len(x) >= 5 for x in pn.spike_times["cond"])
    _assert_twin(pn, twin, "cond")


def test_conductance_per_neuron_spike_times_match_solve_ivp(runs):
    # neuron 2 of the per-neuron population (tau_ref = 2 ms) against solve_ivp at rtol 1e-10: the
    # conductance pass's 4th-order error at dt = 0.1 ms, measured 2.7e-11 s on the spike times and
    # 2.9e-8 on the voltage (bounds 1e-10 s and 6e-8)
    res, _ = runs
    i = 2
    syns = []
    for key, syn in (("cond_e", COND_E), ("cond_i", COND_I)):
        arrivals = (np.flatnonzero(RASTER[key][:, i]) + 1) * DT
        syns.append((arrivals, np.full(arrivals.size, W_COND), syn.tau_s, syn.n, syn.e_rev))
    ref_spikes, v_ref = lif_reference(T, float(LIF_PARAMS["tau_m"][i]), float(LIF_PARAMS["tau_ref"][i]),
                                      float(LIF_PARAMS["v_th"][i]), float(LIF_PARAMS["v_reset"][i]),
                                      float(BIAS["cond"][i]), syns, v0=float(LIF_PARAMS["v_reset"][i]))
    spikes = res.spike_times["cond"][i]
    assert ref_spikes.size >= 5
    assert spikes.size == ref_spikes.size
    np.testing.assert_allclose(spikes, ref_spikes, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res["cond", "v"][:, i], v_ref(res.t), rtol=0, atol=6e-8)


@pytest.mark.slow  # a kernel of its own: ~45 s of compile on an empty cache (2 loaded cores)
def test_float32_per_neuron_populations_equal_the_float32_scalar_twin_bit_for_bit():
    # the per-neuron constants are cast to the state's float type as the population constants are
    pn = build(True, dtype=np.float32).run(T, record=_record(True))
    twin = build(False, dtype=np.float32).run(T, record=_record(False))
    for kind in ("noise", "cond", "delta", "hh"):
        _assert_twin(pn, twin, kind)
    for x, y in zip(pn.spike_times["noise_eq"], twin.spike_times["noise_eq"], strict=True):
        np.testing.assert_array_equal(x, y)


def _delta_reference(tau_m, tau_ref, v_th, v_reset, J, arrivals, w, T_end):
    """Spike times of a LIF with subthreshold bias ``J`` and jumps ``w`` at ``arrivals`` (NEST iaf_psc_delta).

    Between jumps ``v`` relaxes to ``J`` in closed form; a jump taking ``v`` to
    ``v_th`` fires at its arrival time and resets ``v``; jumps arriving while
    refractory (up to and including the end of the refractory period) are ignored.
    """
    spikes = []
    t, v, ref_end = 0.0, v_reset, -1.0
    for ta in arrivals:
        if ta >= T_end:
            break
        free = max(t, ref_end)
        if ta <= ref_end + 1e-12:
            continue
        v = J + (v - J) * math.exp(-(ta - free) / tau_m) if free < ta else v
        t = ta
        v += w
        if v >= v_th:
            spikes.append(ta)
            v = v_reset
            ref_end = ta + tau_ref
    return np.array(spikes)


def test_delta_per_neuron_spikes_at_the_arrival_of_the_jump_that_reaches_threshold(runs):
    pn, _ = runs
    for i in range(N):
        lif = _lif_i(LIF_PARAMS, i)
        assert BIAS["delta"][i] < lif.v_th  # every spike is caused by a jump
        arrivals = (np.flatnonzero(RASTER["delta"][:, i]) + 1) * DT
        ref = _delta_reference(lif.tau_m, lif.tau_ref, lif.v_th, lif.v_reset, BIAS["delta"][i], arrivals,
                               W_DELTA[i], T)
        mine = pn.spike_times["delta"][i]
        if W_DELTA[i] > 0:
            assert ref.size >= 5
        np.testing.assert_allclose(mine, ref, rtol=0, atol=1e-12, err_msg=f"neuron {i}")


def test_delta_neuron_i_equals_a_scalar_population_with_its_parameters(runs):
    pn, twin = runs
    _assert_twin(pn, twin, "delta")


def test_hh_conductance_neuron_i_equals_a_scalar_population_with_its_parameters(runs):
    pn, twin = runs
    assert all(len(x) >= 3 for x in pn.spike_times["hh"])
    _assert_twin(pn, twin, "hh")


def test_two_threads_give_the_one_thread_spikes_and_voltages_bit_for_bit(runs):
    pn, _ = runs
    two = build(True, threads=2).run(T, record=_record(True))
    for name in ("noise_eq", "noise", "cond", "delta", "hh", "ou"):
        for x, y in zip(pn.spike_times[name], two.spike_times[name], strict=True):
            np.testing.assert_array_equal(x, y, err_msg=name)
        np.testing.assert_array_equal(pn[name, "v"], two[name, "v"], err_msg=name)


@pytest.mark.slow  # its batched kernel: ~80 s of compile on an empty cache (2 loaded cores)
def test_batch_copies_equal_the_scalar_twin_and_the_unbatched_runs(runs):
    # every copy equals the scalar twin's copy (noise included: copy b draws
    # its own numbers); without noise, copy b equals an unbatched run with its drive
    pn = build(True, batch=2).run(T, record=_record(True))
    twin = build(False, batch=2).run(T, record=_record(False))
    for b in range(2):
        for kind in ("noise", "cond", "delta", "hh"):
            _assert_twin(pn, twin, kind, b)
    unbatched = (runs[0], build(True, shift=True).run(T, record=_record(True)))
    for b in range(2):
        for kind in ("cond", "delta", "hh"):
            for i in range(N):
                np.testing.assert_array_equal(pn.spike_times[kind][b][i], unbatched[b].spike_times[kind][i])
            np.testing.assert_array_equal(pn[kind, "v"][:, b], unbatched[b][kind, "v"])


def _pn_chain(par, bias, gens, w_gen):
    """One population of three neurons with per-neuron ``par``, chained 0 -> 1 -> 2 by Delta synapses.

    Delays 1 ms and 1.5 ms; generator ``q`` (column of ``gens``, row k arriving
    at (k + 1) dt) drives neuron ``q // 2`` with the jump ``w_gen[q]``.
    """
    net = Network(dt=DT)
    pop = net.add_population(3, LIF(), bias=bias, name="p", params=par)
    for w, d, (i, j) in ((0.7, 1e-3, (1, 0)), (0.8, 1.5e-3, (2, 1))):
        W = np.zeros((3, 3))
        W[i, j] = w
        net.connect(pop, pop, W, synapse=Delta(), delay=d)
    w_in = np.zeros((3, 6))
    w_in[np.arange(6) // 2, np.arange(6)] = w_gen
    net.add_input(pop, spikes=gens, weights=w_in, synapse=Delta())
    return net


def test_jump_spike_holds_a_second_crossing_in_its_step_at_threshold():
    # Drives so strong that a free neuron would cross again within one step
    # ((J - v_reset)(1 - exp(-dt / tau_m)) > v_th - v_reset, tau_ref = 0): by
    # the one-spike-per-step rule it fires once per step, from the fourth step
    # on at the step's start (held at v_th). The jumps (from step 20; neuron
    # 0's spikes reach neuron 1 every step) arrive at v_th and fire it at the
    # step's start; the rest of that step is held at v_th, not fired again.
    from tests.sim.step_rule import lif_one_per_step_times

    steps = 400
    gens = np.zeros((steps, 6), dtype=bool)
    gens[np.random.default_rng(8).choice(np.arange(20, steps - 1), 40, replace=False)] = True
    par = {"tau_m": np.array([0.01, 0.02, 0.015]), "tau_ref": np.zeros(3), "v_th": np.array([1.0, 0.8, 1.2]),
           "v_reset": np.array([0.0, 0.1, -0.1])}
    bias = np.array([150.0, 300.0, 250.0])
    res = _pn_chain(par, bias, gens, np.full(6, 0.3)).run(steps * DT)
    for i in range(3):
        lif = _lif_i(par, i)
        assert (bias[i] - lif.v_reset) * -math.expm1(-DT / lif.tau_m) > lif.v_th - lif.v_reset
        expected = lif_one_per_step_times(lif, bias[i], DT, steps * DT)
        np.testing.assert_allclose(res.spike_times["p"][i], expected, rtol=0, atol=1e-12, err_msg=str(i))


@pytest.mark.nest
def test_delta_chain_with_per_neuron_parameters_gives_nests_iaf_psc_delta_spikes():
    # One population of three neurons with their own tau_m, tau_ref, v_th,
    # v_reset and bias, chained 0 -> 1 -> 2 by Delta synapses (1 ms, 1.5 ms)
    # and driven by six random jump trains; NEST runs three iaf_psc_delta
    # neurons with those values on the same inputs.
    from tests.sim.brunel import nest_trains
    from tests.sim.nest_reference import run_nest

    rng = np.random.default_rng(5)
    steps = 3000
    gens = rng.random((steps, 6)) < 0.03
    gens[0] = False
    w_gen = np.array([0.55, -0.2, 0.45, 0.3, 0.6, -0.25])
    par = {"tau_m": np.array([0.02, 0.012, 0.03]), "tau_ref": np.array([0.002, 0.0035, 0.001]),
           "v_th": np.array([1.0, 0.9, 1.15]), "v_reset": np.array([0.2, 0.0, 0.1])}
    bias = np.array([0.3, 0.5, 0.0])
    res = _pn_chain(par, bias, gens, w_gen).run(steps * DT)
    desc = {"dt": DT, "T": steps * DT, "pop_n": np.ones(3, int), "pop_tau_m": par["tau_m"],
            "pop_tau_ref": par["tau_ref"], "pop_v_th": par["v_th"], "pop_v_reset": par["v_reset"],
            "pop_bias": bias, "v0": par["v_reset"], "n_conn": 2,
            "c0_pre": 0, "c0_post": 1, "c0_i": [0], "c0_j": [0], "c0_w": [0.7], "c0_d": [1e-3],
            "c1_pre": 1, "c1_post": 2, "c1_i": [0], "c1_j": [0], "c1_w": [0.8], "c1_d": [1.5e-3]}
    k, q = np.nonzero(gens)
    order = np.lexsort((k, q))
    desc.update({"n_gen": 6, "gen_ptr": np.concatenate([[0], np.cumsum(np.bincount(q, minlength=6))]),
                 "gen_times": k[order] * DT, "g_i": np.arange(6) // 2, "g_j": np.arange(6), "g_w": w_gen,
                 "g_d": np.full(6, DT)})
    senders, times = run_nest(desc)
    theirs = nest_trains(senders, times, 3)
    for i in range(3):
        ref = theirs[i][theirs[i] < steps * DT - DT / 2]  # NEST stamps the last step's spikes at T
        assert len(res.spike_times["p"][i]) > 10
        np.testing.assert_allclose(res.spike_times["p"][i], ref, rtol=0, atol=1e-12, err_msg=f"neuron {i}")

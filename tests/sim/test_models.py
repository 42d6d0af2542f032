"""Izhikevich and AdEx in simulate: accuracy against solve_ivp and Brian2 RK4, robustness, bad input."""

import numpy as np
import pytest

from spikenet.sim import AdEx, Izhikevich, NeuronModel, simulate
from tests.sim.model_refs import IZHIKEVICH_SETS, NAUD_SETS, adex_reference, izhikevich_reference

CURRENTS = (5.0, 10.0, 15.0)
DT = 1e-4  # the step under test: 0.1 ms
FIRST_SPIKE_ATOL = 1e-4  # s: first spike times within 0.1 ms of the reference
COUNT_RTOL = 0.01  # spike counts over the run within 1 % of the reference


def _izhikevich_population():
    models, drives, labels = [], [], []
    for name, (a, b, c, d) in IZHIKEVICH_SETS.items():
        for current in CURRENTS:
            models.append(Izhikevich(a, b, c, d))
            drives.append(current)
            labels.append(f"{name}, I={current:g}")
    return models, np.array(drives), labels


def _run_each(models, drives, T):
    """spikenet spike trains, one simulate call per parameter set (the model is the same class)."""
    return [simulate(m, I, T=T, dt=DT).spike_times[0] for m, I in zip(models, drives)]


def _naud_model(name, **override):
    p = dict(NAUD_SETS[name])
    current = p.pop("I")
    p.update(override)
    return AdEx(**p), current


def _compare(mine, ref, label, all_spikes_atol=None):
    assert len(ref) >= 3, label  # every case fires
    assert abs(len(mine) - len(ref)) <= COUNT_RTOL * len(ref), f"{label}: {len(mine)} vs {len(ref)} spikes"
    assert abs(mine[0] - ref[0]) <= FIRST_SPIKE_ATOL, label
    if all_spikes_atol is not None:
        k = min(len(mine), len(ref))
        np.testing.assert_allclose(mine[:k], ref[:k], rtol=0, atol=all_spikes_atol, err_msg=label)


def test_izhikevich_at_0_1_ms_matches_solve_ivp_spike_by_spike():
    models, drives, labels = _izhikevich_population()
    T = 0.5
    for m, I, label, mine in zip(models, drives, labels, _run_each(models, drives, T)):
        ref = izhikevich_reference(m.a, m.b, m.c, m.d, I, T)
        # measured: every spike within 1.3 us of the tolerance-1e-11 reference over 1 s
        _compare(mine, ref, label, all_spikes_atol=1e-5)


@pytest.mark.parametrize("name", ["tonic", "adapting", "bursting"])
@pytest.mark.parametrize("v_peak", [0.0, -40.0])
def test_adex_at_0_1_ms_matches_solve_ivp_spike_by_spike(name, v_peak):
    model, current = _naud_model(name, v_peak=v_peak)
    T = 0.5
    mine = simulate(model, current, T=T, dt=DT).spike_times[0]
    ref = adex_reference(**{k: getattr(model, k) for k in NAUD_SETS[name] if k != "I"}, I=current, T=T,
                         v_peak=v_peak)
    # measured over 1 s: within 15 us (tonic), 5 us (adapting, bursting)
    _compare(mine, ref, f"{name}, v_peak={v_peak}", all_spikes_atol=5e-5)


def test_adex_irregular_pattern_matches_solve_ivp_until_its_chaos_takes_over():
    # The irregular set is sensitive to tiny differences: two references at
    # tolerance 1e-10 and 1e-12 already disagree by 14 ms at the end of 1 s.
    # Its first spikes are well determined, and so is its rate over 0.25 s.
    model, current = _naud_model("irregular", v_peak=-40.0)
    T = 0.25
    mine = simulate(model, current, T=T, dt=DT).spike_times[0]
    ref = adex_reference(**{k: getattr(model, k) for k in NAUD_SETS["irregular"] if k != "I"}, I=current,
                         T=T, v_peak=-40.0)
    _compare(mine, ref, "irregular")
    np.testing.assert_allclose(mine[:5], ref[:5], rtol=0, atol=5e-5)


def test_adex_divergence_gives_no_overflow_and_spikes_inside_their_steps():
    model = AdEx(v_peak=20.0)
    res = simulate(model, np.array([1e3, 1e5, 1e7]), T=0.05, dt=DT, record=("v", "w"))
    assert np.all(np.isfinite(res.v)) and np.all(np.isfinite(res.w))
    assert np.all(res.v <= model.v_peak)
    for i, train in enumerate(res.spike_times):
        assert len(train) > 0
        assert np.all(np.isfinite(train))
        steps = res._steps[res._offsets[i]:res._offsets[i + 1]]  # the step each spike was stamped in
        offset = train - steps * DT
        assert np.all(offset >= -1e-15) and np.all(offset < DT)
        assert np.all(np.diff(steps) >= 1)  # at most one spike per step


def test_adex_refractory_period_holds_the_voltage_at_reset():
    model = AdEx(tau_ref=0.002)
    res = simulate(model, 2000.0, T=0.05, dt=1e-5, record=("v", "ref"))
    t_spike = res.spike_times[0][0]
    k = int(np.ceil(t_spike / 1e-5)) + 1
    held = res.v[k:k + 150, 0]  # 1.5 ms of the 2 ms
    np.testing.assert_array_equal(held, model.v_reset)
    np.testing.assert_allclose(res.ref[k, 0], model.tau_ref - (k * 1e-5 - t_spike), atol=1e-12)
    assert np.all(np.diff(res.spike_times[0]) >= model.tau_ref)


def test_recorded_states_start_with_the_initial_state_and_match_the_model_equations():
    m = Izhikevich()
    res = simulate(m, 0.0, T=1.0, dt=DT, record=("v", "u"))
    assert res.v[0, 0] == m.v_init and res.u[0, 0] == m.b * m.v_init
    # without drive the cell relaxes to the stable root of 0.04 v^2 + (5 - b) v + 140 = 0, u = b v
    v_rest = (-(5 - m.b) - np.sqrt((5 - m.b) ** 2 - 4 * 0.04 * 140)) / (2 * 0.04)
    np.testing.assert_allclose([res.v[-1, 0], res.u[-1, 0]], [v_rest, m.b * v_rest], atol=1e-3)


def test_batches_float32_init_and_time_varying_drives_run_through_the_same_kernel():
    m = Izhikevich(0.1, 0.2, -65.0, 2.0)
    ref = simulate(m, np.array([8.0, 12.0]), T=0.2, dt=DT, record=("v",))
    batch = simulate(m, np.array([[8.0, 12.0], [8.0, 12.0]]), T=0.2, dt=DT, batch=True, record=("v",))
    np.testing.assert_array_equal(batch.v[:, 1], ref.v)
    f32 = simulate(m, np.array([8.0, 12.0]), T=0.2, dt=DT, dtype=np.float32, record=("v",))
    assert f32.v.dtype == np.float32
    # the state is integrated in float64 and stored in float32
    np.testing.assert_allclose(f32.v, ref.v, atol=1e-3)
    steps = 2000
    drive = np.broadcast_to([8.0, 12.0], (steps, 2))
    stepped = simulate(m, drive, T=0.2, dt=DT)
    called = simulate(m, lambda t: np.array([8.0, 12.0]), T=0.2, dt=DT, progress=False)
    for a, b, c in zip(ref.spike_times, stepped.spike_times, called.spike_times):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    start = simulate(m, 10.0, T=0.05, dt=DT, init={"v": -70.0, "u": -10.0}, record=("v", "u"))
    assert start.v[0, 0] == -70.0 and start.u[0, 0] == -10.0


@pytest.mark.parametrize("make, word", [
    (lambda: Izhikevich(a=0.0), "a"),
    (lambda: Izhikevich(c=40.0), "c"),
    (lambda: Izhikevich(d=np.nan), "d"),
    (lambda: AdEx(c_m=-1.0), "c_m"),
    (lambda: AdEx(delta_t=0.0), "delta_t"),
    (lambda: AdEx(v_reset=10.0), "v_reset"),
    (lambda: AdEx(tau_ref=-0.001), "tau_ref"),
    (lambda: simulate(Izhikevich(), 10.0, T=0.01, record=("w",)), "record"),
    (lambda: simulate(AdEx(), 10.0, T=0.01, init={"u": 0.0}), "init"),
    (lambda: simulate(AdEx(), np.nan, T=0.01), "J"),
])
def test_bad_parameters_and_arguments_are_named(make, word):
    with pytest.raises((ValueError, TypeError), match=word):
        make()


def test_models_declare_the_interface_the_engine_reads():
    for cls in (Izhikevich, AdEx):
        assert issubclass(cls, NeuronModel)
        m = cls()
        P = m.param_matrix(4)
        assert P.shape == (len(cls.param_names), 4)
        np.testing.assert_array_equal(P[:, 0], [getattr(m, k) for k in cls.param_names])
        state = m.initial_state({}, 4)
        assert tuple(state) == cls.state_names and all(v.shape == (4,) for v in state.values())


@pytest.mark.slow
@pytest.mark.brian2
def test_izhikevich_agrees_with_brian2_rk4_at_1_us_over_1_s():
    from spikenet.sim.crosscheck import brian2_izhikevich

    models, drives, labels = _izhikevich_population()
    ref = brian2_izhikevich(models, drives, T=1.0, dt=1e-6)
    for label, mine, theirs in zip(labels, _run_each(models, drives, 1.0), ref):
        _compare(mine, theirs, label)


@pytest.mark.slow
@pytest.mark.brian2
def test_adex_agrees_with_brian2_rk4_at_1_us_over_1_s():
    from spikenet.sim.crosscheck import brian2_adex

    # Brian2's RK4 follows the exponential divergence only to a moderate cut-off
    names = ["tonic", "adapting", "bursting", "irregular"]
    pairs = [_naud_model(n, v_peak=-40.0) for n in names]
    ref = brian2_adex([m for m, _ in pairs], [c for _, c in pairs], T=1.0, dt=1e-6)
    for name, (m, current), theirs in zip(names, pairs, ref):
        mine = simulate(m, current, T=1.0, dt=DT).spike_times[0]
        _compare(mine, theirs, name)


def test_a_model_defined_in_one_outside_file_runs_in_simulate():
    from tests.sim.extending_example import PerfectIF

    drive = np.array([13.3, 37.5, 101.7])
    res = simulate(PerfectIF(), drive, T=1.0, dt=DT, record=("v",))
    for I, train in zip(drive, res.spike_times):
        k = np.arange(1, len(train) + 1)
        np.testing.assert_allclose(train, k / I, rtol=0, atol=1e-12)  # spike k at k c_m v_th / I
        assert len(train) == int(np.floor(I))

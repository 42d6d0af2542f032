"""simulate: every bad input fails early with a message naming the argument."""

import numpy as np
import pytest

from spikenet.sim import HH, LIF, simulate


@pytest.mark.parametrize("dt", [0.0, -1e-4])
def test_non_positive_dt_raises(dt):
    with pytest.raises(ValueError, match="dt"):
        simulate(LIF(), 1.5, T=0.1, dt=dt)


@pytest.mark.parametrize("T", [0.0, -1.0])
def test_non_positive_T_raises(T):
    with pytest.raises(ValueError, match="T"):
        simulate(LIF(), 1.5, T=T)


@pytest.mark.parametrize("field", ["tau_m", "tau_ref"])
def test_non_positive_time_constants_raise(field):
    with pytest.raises(ValueError, match=field):
        LIF(**{field: -0.001})


def test_zero_tau_m_raises():
    with pytest.raises(ValueError, match="tau_m"):
        LIF(tau_m=0.0)


def test_nan_dt_raises():
    with pytest.raises(ValueError, match="dt"):
        simulate(LIF(), 1.5, T=0.1, dt=float("nan"))


def test_non_numeric_T_raises_type_error():
    with pytest.raises(TypeError, match="T"):
        simulate(LIF(), 1.5, T="1s")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_J_raises(bad):
    with pytest.raises(ValueError, match="J"):
        simulate(LIF(), np.array([1.5, bad]), T=0.1)


def test_nan_from_callable_J_raises():
    with pytest.raises(ValueError, match=r"J\(t\)"):
        simulate(LIF(), lambda t: np.array([1.5 if t < 0.05 else np.nan]), T=0.1)


def test_callable_J_changing_shape_raises():
    with pytest.raises(ValueError, match=r"J\(t\)"):
        simulate(LIF(), lambda t: np.ones(2 if t < 0.05 else 3), T=0.1)


def test_callable_J_that_fails_names_J():
    def broken(t):
        raise RuntimeError("boom")

    with pytest.raises(ValueError, match=r"J\(t\) raised RuntimeError"):
        simulate(LIF(), broken, T=0.1)


def test_J_with_wrong_number_of_steps_raises():
    with pytest.raises(ValueError, match=r"J has 999 rows .* 1000 steps"):
        simulate(LIF(), np.ones((999, 3)), T=0.1, dt=1e-4)


def test_J_with_too_many_dimensions_raises():
    with pytest.raises(ValueError, match="J must have"):
        simulate(LIF(), np.ones((1000, 2, 3)), T=0.1)


def test_batched_J_with_wrong_ndim_raises():
    with pytest.raises(ValueError, match="J must have 2 or 3"):
        simulate(LIF(), np.ones(3), T=0.1, batch=True)


def test_J_of_strings_raises_type_error():
    with pytest.raises(TypeError, match="J"):
        simulate(LIF(), np.array(["a", "b"], dtype=object), T=0.1)


def test_empty_J_raises():
    with pytest.raises(ValueError, match="J"):
        simulate(LIF(), np.ones(0), T=0.1)


def test_unknown_record_name_suggests_closest():
    with pytest.raises(ValueError, match=r"record .*did you mean 'v'"):
        simulate(LIF(), 1.5, T=0.1, record=("spikes", "vv"))


def test_hh_only_state_on_lif_raises():
    with pytest.raises(ValueError, match="record"):
        simulate(LIF(), 1.5, T=0.1, record=("m",))


def test_hh_unknown_record_name_suggests_gate():
    with pytest.raises(ValueError, match=r"did you mean 'h'"):
        simulate(HH(), 1.5, T=0.001, dt=1e-5, record=("hh",))


def test_lif_dt_larger_than_tau_m_raises():
    with pytest.raises(ValueError, match="dt"):
        simulate(LIF(tau_m=0.001), 1.5, T=0.1, dt=0.002)


def test_neuron_of_wrong_type_raises():
    with pytest.raises(TypeError, match="neuron"):
        simulate("LIF", 1.5, T=0.1)


def test_unknown_init_name_raises():
    with pytest.raises(ValueError, match="init"):
        simulate(LIF(), 1.5, T=0.1, init={"u": 0.0})


def test_init_with_wrong_shape_raises():
    with pytest.raises(ValueError, match=r"init\['v'\]"):
        simulate(LIF(), np.ones(3) * 1.5, T=0.1, init={"v": np.zeros(4)})


def test_init_nan_raises():
    with pytest.raises(ValueError, match=r"init\['v'\]"):
        simulate(LIF(), 1.5, T=0.1, init={"v": np.nan})


def test_init_gate_out_of_range_raises():
    with pytest.raises(ValueError, match=r"init\['m'\]"):
        simulate(HH(), 1.5, T=0.001, dt=1e-5, init={"m": 1.5})


def test_init_not_a_mapping_raises():
    with pytest.raises(TypeError, match="init"):
        simulate(LIF(), 1.5, T=0.1, init=[0.0])


def test_bad_dtype_raises():
    with pytest.raises(TypeError, match="dtype"):
        simulate(LIF(), 1.5, T=0.1, dtype=np.int32)


def test_bad_seed_raises():
    with pytest.raises(TypeError, match="seed"):
        simulate(LIF(), 1.5, T=0.1, seed="x")


def test_an_enormous_drive_fires_once_per_step_at_each_step_start():
    # The crossing takes ~1e-302 s, so every spike after the first is held to
    # the start of its step: one spike per step, at k dt (dt = 0.1 ms).
    res = simulate(LIF(tau_ref=0.0), 1e300, T=0.01)
    np.testing.assert_allclose(res.spike_times[0], np.arange(100) * 1e-4, rtol=0, atol=1e-15)


def test_rates_start_outside_run_raises():
    res = simulate(LIF(), 1.5, T=0.1)
    with pytest.raises(ValueError, match="start"):
        res.rates(start=0.2)


def test_missing_state_attribute_says_how_to_record():
    res = simulate(LIF(), 1.5, T=0.1)
    with pytest.raises(AttributeError, match="record="):
        res.v


def test_T_must_be_a_whole_number_of_steps():
    # T/dt within float error of an integer gives that many steps (0.3/1e-4 =
    # 2999.9999999999995); a T between two steps is refused, never rounded.
    res = simulate(LIF(), 1.5, T=0.3, dt=1e-4)
    assert res.steps == len(res.t) == 3000
    assert res.T == 3000 * 1e-4
    for T in (0.00105, 0.00005, 0.3 + 1e-8):
        with pytest.raises(ValueError, match=r"^T \(.*whole number of steps"):
            simulate(LIF(), 1.5, T=T, dt=1e-4)

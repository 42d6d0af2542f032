"""spikenet.interop: Neo export checked with Elephant's statistics, and Brian2 round trips.

Elephant computes the rates and ISI CVs from the exported Neo objects on its
own; they must equal spikenet's ``rates()`` and ``cv`` (both divide the spike
count by ``t_stop - t_start`` and use the population standard deviation, so
they agree to rounding). Brian2 replays and records the spikes itself.
"""

import sys

import numpy as np
import pytest

from spikenet.interop import from_brian2, state_units, to_brian2, to_neo
from spikenet.sim import HH, LIF, Network, cv, simulate

neo = pytest.importorskip("neo")
pq = pytest.importorskip("quantities")
es = pytest.importorskip("elephant.statistics")

# Elephant 1.2 still passes copy= to quantities 0.16, which warns (no effect).
pytestmark = pytest.mark.filterwarnings("ignore:The 'copy' argument in Quantity is deprecated")

# Both sides compute the same sums in float64: agreement to 1e-12 relative.
RTOL = 1e-12


@pytest.fixture(scope="module")
def irregular_lif():
    """LIF neurons under a noisy drive (fresh value every step): irregular spike trains."""
    dt, T, n = 1e-4, 1.0, 4
    rng = np.random.default_rng(1)
    J = 1.2 + 3.0 * rng.standard_normal((round(T / dt), n))
    return simulate(LIF(), J, T=T, dt=dt, record=("spikes", "v"))


def test_neo_spike_trains_give_elephants_rates_and_cvs_equal_to_spikenets(irregular_lif):
    res = irregular_lif
    block = res.to_neo(neuron=LIF())
    (seg,) = block.segments
    trains = seg.spiketrains
    assert len(trains) == 4
    ours_cv = cv(res.spike_times)
    assert np.all(ours_cv > 0.2)  # irregular: a real test of the CV
    for i, st in enumerate(trains):
        assert st.t_start == 0.0 * pq.s and st.t_stop == res.T * pq.s and st.units == pq.s
        assert st.annotations["neuron"] == i
        rate = es.mean_firing_rate(st).rescale("Hz").magnitude
        assert rate == pytest.approx(res.rates()[i], rel=RTOL)
        assert es.cv(es.isi(st).magnitude) == pytest.approx(ours_cv[i], rel=RTOL)


def test_neo_analog_signal_holds_the_lif_voltage_dimensionless(irregular_lif):
    res = irregular_lif
    (sig,) = res.to_neo(neuron=LIF()).segments[0].analogsignals
    assert sig.units == pq.dimensionless and sig.name == "v"
    assert sig.sampling_period == res.dt * pq.s
    np.testing.assert_array_equal(sig.magnitude, res.v)
    np.testing.assert_allclose(sig.times.rescale("s").magnitude, res.t, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(sig.array_annotations["neuron"], np.arange(4))


def test_neo_analog_signal_of_hh_is_in_millivolts():
    res = simulate(HH(), 10.0, T=0.03, dt=1e-5, record=("spikes", "v", "m"))
    sigs = {s.name: s for s in to_neo(res, neuron=HH()).segments[0].analogsignals}
    assert sigs["v"].units == pq.mV and sigs["m"].units == pq.dimensionless
    np.testing.assert_array_equal(sigs["v"].magnitude, res.v)
    assert sigs["v"].rescale("V").magnitude[0, 0] == pytest.approx(res.v[0, 0] * 1e-3)
    with pytest.raises(ValueError, match="neuron="):
        res.to_neo()


def test_network_result_to_neo_keeps_populations_units_and_the_runs_interval():
    net = Network(dt=1e-4)
    net.add_population(3, LIF(), bias=np.array([1.5, 2.0, 3.0]), name="exc")
    net.add_population(2, HH(), bias=10.0, name="hh")
    net.run(0.02)
    res = net.run(0.05, record={"exc": ["v"], "hh": ["v"]})  # a second run: starts at 0.02 s
    (seg,) = res.to_neo().segments
    assert [st.annotations["population"] for st in seg.spiketrains] == ["exc"] * 3 + ["hh"] * 2
    for st in seg.spiketrains:
        pop = st.annotations["population"]
        assert st.t_start == pytest.approx(0.02 * pq.s) and st.t_stop == pytest.approx(0.07 * pq.s)
        rate = es.mean_firing_rate(st).rescale("Hz").magnitude
        assert rate == pytest.approx(res.rates(pop)[st.annotations["neuron"]], rel=RTOL)
    sigs = {s.name: s for s in seg.analogsignals}
    assert sigs["exc.v"].units == pq.dimensionless and sigs["hh.v"].units == pq.mV
    np.testing.assert_array_equal(sigs["hh.v"].magnitude, res["hh", "v"])
    assert sigs["hh.v"].t_start == pytest.approx(0.02 * pq.s)


def test_state_units_rejects_unknown_models_and_states():
    assert state_units(HH(), "v") == "mV" and state_units(LIF(), "ref") == "s"
    with pytest.raises(ValueError, match="state"):
        state_units(LIF(), "m")
    with pytest.raises(TypeError, match="neuron"):
        state_units("LIF", "v")
    with pytest.raises(TypeError, match="result"):
        to_neo([np.array([0.1])])


def test_missing_optional_dependency_names_the_extra(monkeypatch, irregular_lif):
    monkeypatch.setitem(sys.modules, "neo", None)  # makes `import neo` fail
    with pytest.raises(ImportError, match=r"spikenet\[interop\]"):
        irregular_lif.to_neo(neuron=LIF())


@pytest.fixture
def b2():
    """Brian2 with the numpy code-generation target (no compilation), restored afterwards."""
    b2 = pytest.importorskip("brian2")
    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = "numpy"
    yield b2
    b2.prefs.codegen.target = old


@pytest.mark.brian2
def test_spikes_replayed_in_brian2_come_back_on_its_grid(b2, irregular_lif):
    res = irregular_lif
    gen = to_brian2(res)
    mon = b2.SpikeMonitor(gen)
    b2.Network(gen, mon).run(res.T * b2.second, namespace={})
    back = from_brian2(mon)
    assert len(back) == 4
    for ours, theirs in zip(res.spike_times, back):
        assert theirs.size == ours.size
        # Brian2 emits a spike at the start of the step that contains it.
        assert np.all(theirs <= ours + 1e-12) and np.all(ours - theirs < res.dt)


@pytest.mark.brian2
def test_from_brian2_reads_a_monitor_as_spike_time_lists(b2):
    b2.seed(3)
    group = b2.PoissonGroup(5, rates=np.array([0.0, 20.0, 40.0, 80.0, 160.0]) * b2.Hz)
    mon = b2.SpikeMonitor(group)
    b2.Network(group, mon).run(0.5 * b2.second, namespace={})
    trains = from_brian2(mon)
    assert [t.size for t in trains] == list(np.asarray(mon.count))
    assert trains[0].size == 0
    for i, t in enumerate(trains):
        np.testing.assert_array_equal(t, np.sort(np.asarray(mon.t[mon.i == i] / b2.second)))
    # and back into Brian2 through spikenet's lists
    gen = to_brian2(trains, dt=float(b2.defaultclock.dt / b2.second))
    mon2 = b2.SpikeMonitor(gen)
    b2.Network(gen, mon2).run(0.5 * b2.second, namespace={})
    for a, b in zip(trains, from_brian2(mon2)):
        np.testing.assert_allclose(a, b, atol=1e-12)
    with pytest.raises(TypeError, match="spike_monitor"):
        from_brian2(trains)


def test_batched_result_gives_one_segment_per_copy():
    J = np.array([[1.5, 3.0], [2.0, 2.5]])
    res = simulate(LIF(), J, T=0.3, batch=True, record=("spikes", "v"))
    block = res.to_neo(neuron=LIF())
    assert len(block.segments) == 2
    for b, seg in enumerate(block.segments):
        rates = [es.mean_firing_rate(st).rescale("Hz").magnitude for st in seg.spiketrains]
        np.testing.assert_allclose(rates, res.rates()[b], rtol=RTOL)
        # the LIF closed form: G(J) = 1 / (tau_ref + tau_m ln(J / (J - 1))) bounds the count over 0.3 s
        np.testing.assert_allclose(rates, LIF().rate(J[b]), atol=1 / 0.3)
        np.testing.assert_array_equal(seg.analogsignals[0].magnitude, res.v[:, b, :])


@pytest.mark.brian2
def test_to_brian2_replays_one_population_of_a_network(b2):
    net = Network(dt=1e-4)
    net.add_population(2, LIF(), bias=np.array([1.5, 3.0]), name="a")
    net.add_population(1, LIF(), bias=2.0, name="b")
    res = net.run(0.1, record={"a": ["v"]})  # the kernel variant test_plot compiles too
    with pytest.raises(ValueError, match="population"):
        to_brian2(res)
    gen = to_brian2(res, "a")
    assert len(gen) == 2 and float(gen.dt / b2.second) == pytest.approx(1e-4)
    mon = b2.SpikeMonitor(gen)
    b2.Network(gen, mon).run(0.1 * b2.second, namespace={})
    for ours, theirs in zip(res.spike_times["a"], from_brian2(mon)):
        assert theirs.size == ours.size and np.all(np.abs(ours - theirs) < 1e-4)


def test_adex_states_get_the_units_of_the_model():
    from spikenet.sim import AdEx

    res = simulate(AdEx(), 500.0, T=0.05, record=("spikes", "v", "w"))
    sigs = {s.name: s for s in res.to_neo(neuron=AdEx()).segments[0].analogsignals}
    assert sigs["v"].units == pq.mV and sigs["w"].units == pq.pA
    np.testing.assert_array_equal(sigs["w"].magnitude, res.w)

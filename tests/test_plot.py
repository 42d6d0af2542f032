"""spikenet.plot draws the data it is given, on the axes it is given, and refuses bad input.

The expected spike times come from the LIF closed form (a neuron starting at
v = 0 under a constant J > 1 first spikes at ``tau_m ln(J / (J - 1))`` and
then every ``tau_ref + tau_m ln(J / (J - 1))``), not from the plotting code.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.sparse as sp

from spikenet import plot
from spikenet.sim import LIF, Network, simulate

LIF_MODEL = LIF()
DRIVES = np.array([1.5, 3.0])
T = 0.2
# Spike times are placed inside their step by the exact solution: 1e-9 s is
# far below dt = 1e-4 s and far above rounding.
TIME_TOL = 1e-9


def analytic_times(J, T, neuron=LIF_MODEL):
    first = neuron.tau_m * np.log(J / (J - 1.0))
    period = neuron.tau_ref + first
    return np.arange(first, T, period)


@pytest.fixture(scope="module")
def lif_result():
    return simulate(LIF_MODEL, DRIVES, T=T, record=("spikes", "v"))


@pytest.fixture(scope="module")
def net_result():
    net = Network(dt=1e-4)
    net.add_population(3, LIF_MODEL, bias=np.array([1.5, 2.0, 3.0]), name="exc")
    net.add_population(2, LIF_MODEL, bias=np.array([2.5, 4.0]), name="inh")
    return net.run(T, record={"exc": ["v"]})


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_raster_dots_are_the_analytic_spike_times_of_a_result(lif_result):
    ax = plot.raster(lif_result)
    (coll,) = ax.collections
    xy = coll.get_offsets()
    for i, J in enumerate(DRIVES):
        expected = analytic_times(J, T)
        got = np.asarray(xy[xy[:, 1] == i, 0])
        np.testing.assert_allclose(got, expected, atol=TIME_TOL)
    assert ax.get_xlabel() == "time (s)" and ax.get_xlim() == (0.0, T)


def test_raster_stacks_populations_and_keeps_the_legend_off_the_data(net_result):
    fig, ax = plt.subplots()
    assert plot.raster(net_result, ["exc", "inh"], ax=ax, time_unit="ms") is ax
    exc, inh = ax.collections
    for coll, drives, offset in ((exc, [1.5, 2.0, 3.0], 0), (inh, [2.5, 4.0], 3)):
        xy = np.asarray(coll.get_offsets())
        for i, J in enumerate(drives):
            got = xy[xy[:, 1] == i + offset, 0]
            np.testing.assert_allclose(got, 1e3 * analytic_times(J, T), atol=1e3 * TIME_TOL)
    assert ax.get_xlabel() == "time (ms)"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend_box = ax.get_legend().get_window_extent(renderer)
    assert legend_box.x0 >= ax.get_window_extent(renderer).x1  # right of the axes, over no data
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["exc", "inh"]


def test_raster_takes_spike_time_lists_and_max_neurons():
    lists = [np.array([0.01, 0.02]), np.array([]), np.array([0.005])]
    ax = plot.raster(lists, max_neurons=2)
    xy = np.asarray(ax.collections[0].get_offsets())
    np.testing.assert_array_equal(xy, [[0.01, 0.0], [0.02, 0.0]])


def test_voltage_draws_the_recorded_trace_against_time(lif_result, net_result):
    ax = plot.voltage(lif_result, neurons=[1], units="dimensionless", time_unit="ms")
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), lif_result.t * 1e3)
    np.testing.assert_array_equal(line.get_ydata(), lif_result.v[:, 1])
    assert ax.get_ylabel() == "v (dimensionless)" and ax.get_xlabel() == "time (ms)"
    # Before its first spike the LIF voltage rises from v = 0 as v(t) = J (1 - e^{-t/tau_m}).
    t = lif_result.t[lif_result.t < 0.003]
    expected = 3.0 * (1 - np.exp(-t / LIF_MODEL.tau_m))
    np.testing.assert_allclose(line.get_ydata()[: t.size], expected, atol=1e-12)
    ax = plot.voltage(net_result, "exc")
    assert len(ax.lines) == 3 and ax.get_ylabel() == "v (dimensionless)"
    np.testing.assert_array_equal(ax.lines[2].get_ydata(), net_result["exc", "v"][:, 2])


def test_population_rate_integrates_to_the_spike_count(lif_result, net_result):
    ax = plot.population_rate(lif_result, bin_width=7e-3)  # 0.2 s is not a multiple: a short last bin
    (patch,) = ax.patches
    values, edges = patch.get_data().values, patch.get_data().edges
    assert edges[0] == 0.0 and edges[-1] == pytest.approx(T)
    n_spikes = sum(analytic_times(J, T).size for J in DRIVES)
    assert np.sum(values * np.diff(edges)) * len(DRIVES) == pytest.approx(n_spikes, rel=1e-12)
    ax = plot.population_rate(net_result, bin_width=0.05, smooth=0.01)
    assert len(ax.lines) == 2 and ax.get_ylabel() == "population rate (Hz)"
    # A smoothed constant-rate population keeps its mean rate: the LIF rates G(J).
    inh_rate = np.mean(LIF_MODEL.rate(np.array([2.5, 4.0])))
    assert np.mean(ax.lines[1].get_ydata()) == pytest.approx(inh_rate, rel=0.1)


def test_tuning_curve_draws_points_and_the_analytic_curve(lif_result):
    ax = plot.tuning_curve(DRIVES, lif_result, analytic=LIF_MODEL)
    line, points = ax.lines
    np.testing.assert_array_equal(points.get_xdata(), DRIVES)
    np.testing.assert_allclose(points.get_ydata(), [analytic_times(J, T).size / T for J in DRIVES])
    np.testing.assert_allclose(line.get_ydata(), LIF_MODEL.rate(line.get_xdata()))
    assert ax.get_ylabel() == "firing rate (Hz)"


def test_weight_distribution_counts_dense_and_sparse_weights():
    rng = np.random.default_rng(0)
    W = sp.random(50, 40, density=0.1, random_state=0, data_rvs=lambda k: rng.normal(1.0, 0.2, k)).tocsr()
    ax = plot.weight_distribution(W, bins=10)
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == W.nnz
    np.testing.assert_array_equal(heights, np.histogram(W.data, bins=10)[0])
    _, ax2 = plt.subplots()
    assert plot.weight_distribution(W.toarray(), bins=10, ax=ax2) is ax2
    assert sum(p.get_height() for p in ax2.patches) == W.nnz  # zeros (absent synapses) left out
    ax3 = plot.weight_distribution(W.toarray(), bins=10, include_zeros=True)
    assert sum(p.get_height() for p in ax3.patches) == 50 * 40


def test_save_figure_marks_quick_runs(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    fig.suptitle("demo")
    path = plot.save_figure(fig, tmp_path / "f.png", quick=True)
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert fig.get_suptitle() == "demo (quick run)"


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda r, n: plot.raster(r, ax="not axes"), TypeError, "ax"),
        (lambda r, n: plot.raster(r, time_unit="min"), ValueError, "time_unit"),
        (lambda r, n: plot.raster(r, "exc"), ValueError, "population"),
        (lambda r, n: plot.raster(n, "exk"), ValueError, "population"),
        (lambda r, n: plot.raster(np.ones(3)), TypeError, "data"),
        (lambda r, n: plot.raster([[0.1, np.nan]]), ValueError, "spike_times[0]"),
        (lambda r, n: plot.raster(n, ["exc", "inh"], max_neurons=[1]), ValueError, "max_neurons"),
        (lambda r, n: plot.voltage(r, state="m"), ValueError, "state"),
        (lambda r, n: plot.voltage(n, "inh"), KeyError, "population 'inh'"),
        (lambda r, n: plot.voltage(r, neurons=[5]), ValueError, "neurons"),
        (lambda r, n: plot.population_rate([[0.1]]), ValueError, "t_stop"),
        (lambda r, n: plot.population_rate(r, bin_width=0), ValueError, "bin_width"),
        (lambda r, n: plot.tuning_curve([1.0, 2.0, 3.0], r), ValueError, "rates"),
        (lambda r, n: plot.tuning_curve([1.0, 2.0], r, analytic=3), TypeError, "analytic"),
        (lambda r, n: plot.weight_distribution(np.zeros((3, 3))), ValueError, "weights"),
        (lambda r, n: plot.save_figure("fig", "x.png"), TypeError, "fig"),
    ],
)
def test_bad_input_raises_named_errors(lif_result, net_result, call, error, name):
    with pytest.raises(error, match=name.replace("[", r"\[").replace("]", r"\]")):
        call(lif_result, net_result)


def test_batched_runs_need_a_batch_index():
    res = simulate(LIF_MODEL, np.array([[1.5, 3.0], [2.0, 2.5]]), T=0.05, batch=True)
    with pytest.raises(ValueError, match="batch"):
        plot.raster(res)
    ax = plot.raster(res, batch=1)
    xy = np.asarray(ax.collections[0].get_offsets())
    np.testing.assert_allclose(xy[xy[:, 1] == 0, 0], analytic_times(2.0, 0.05), atol=TIME_TOL)


@pytest.mark.filterwarnings("ignore:The 'copy' argument in Quantity is deprecated")  # Elephant 1.2
def test_code_on_the_plotting_docs_page_runs(tmp_path, monkeypatch):
    import re
    from pathlib import Path

    pytest.importorskip("elephant")
    page = (Path(__file__).resolve().parents[1] / "docs" / "plotting.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/plotting.md block {i}", "exec"), {"__name__": "docs"})
    assert (tmp_path / "lif.png").stat().st_size > 10_000


def test_image_grid_places_each_image_in_its_tile():
    rng = np.random.default_rng(2)
    images = rng.uniform(0, 1, (7, 64))
    ax = plot.image_grid(images, ncols=3, pad=1)
    canvas = ax.images[0].get_array()
    assert canvas.shape == (3 * 9 - 1, 3 * 9 - 1)
    for i in range(7):
        r, c = divmod(i, 3)
        np.testing.assert_array_equal(canvas[9 * r:9 * r + 8, 9 * c:9 * c + 8], images[i].reshape(8, 8))
    assert np.all(canvas[8::9, :] == 0) and np.all(canvas[:, 8::9] == 0)  # one background pixel between
    assert np.all(canvas[18:, 9:] == 0)  # the two unused cells stay background
    # crop: a blank first column in every image goes, the rest stays
    framed = images.reshape(7, 8, 8).copy()
    framed[:, :, 0] = 0.0
    canvas = plot.image_grid(framed, ncols=7, pad=0, crop=True).images[0].get_array()
    np.testing.assert_array_equal(canvas, np.hstack(list(framed[:, :, 1:])))
    with pytest.raises(ValueError, match="images"):
        plot.image_grid(rng.uniform(0, 1, (4, 60)))
    with pytest.raises(ValueError, match="pad"):
        plot.image_grid(images, pad=-1)


@pytest.mark.parametrize(
    "draw",
    [
        lambda r, n, ax: plot.raster(r, ax=ax),
        lambda r, n, ax: plot.voltage(n, "exc", ax=ax),
        lambda r, n, ax: plot.population_rate(n, "inh", ax=ax),
        lambda r, n, ax: plot.tuning_curve(DRIVES, r, ax=ax),
        lambda r, n, ax: plot.weight_distribution(np.eye(3), ax=ax),
        lambda r, n, ax: plot.image_grid(np.ones((4, 64)), ax=ax),
    ],
)
def test_every_helper_draws_on_the_axes_it_is_given_and_returns_them(lif_result, net_result, draw):
    _, (left, right) = plt.subplots(1, 2)
    assert draw(lif_result, net_result, right) is right
    assert right.has_data() and not left.has_data()

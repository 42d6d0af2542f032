"""spikenet.sweep: grids, seeds, a real LocalCluster of worker processes, failures kept as rows."""

from __future__ import annotations

import os

import numpy as np
import pytest

from spikenet.sweep import SweepError, grid_points, point_seeds, sweep

distributed = pytest.importorskip("distributed", reason="dask.distributed comes with the [test] extra")


def noisy_stat(mu, sigma, seed):
    """A random function of its parameters: reproducible only through ``seed``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(mu, sigma, 1000)
    return {"mean": float(x.mean()), "std": float(x.std()), "pid": os.getpid()}


def fails_for_negative(x, seed):
    if x < 0:
        raise ValueError(f"x must be >= 0, got {x}")
    return float(np.sqrt(x))


def lif_rate_point(J, seed):
    """A real simulation on a worker: the rate of one LIF neuron over 1 s."""
    from spikenet.sim import LIF, simulate

    res = simulate(LIF(), J, T=1.0, dt=1e-4)
    return {"rate": float(res.rates()[0]), "analytic": float(LIF().rate(J))}


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster of 2 worker processes shared by the tests of this module."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as c:
        yield c


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster) as c:
        yield c


def test_grid_is_the_cartesian_product_with_the_last_name_fastest():
    pts = grid_points({"g": [4, 5], "nu": [1.0, 2.0, 3.0]})
    assert pts == [{"g": g, "nu": nu} for g in (4, 5) for nu in (1.0, 2.0, 3.0)]
    explicit = [{"a": 1, "b": 2}, {"b": 3, "a": 0}]
    assert grid_points(explicit) == explicit
    assert grid_points({"x": np.array([0.5, 1.5])}) == [{"x": 0.5}, {"x": 1.5}]


@pytest.mark.parametrize("grid, err, word", [
    ({"x": []}, ValueError, "grid['x']"),
    ({"x": 3}, TypeError, "grid['x']"),
    ({"seed": [1, 2]}, ValueError, "seeds="),
    ([{"a": 1}, {"b": 2}], ValueError, "grid[1]"),
    ([], ValueError, "grid"),
    ("abc", TypeError, "grid"),
])
def test_bad_grid_is_named(grid, err, word):
    with pytest.raises(err, match=word.replace("[", r"\[").replace("]", r"\]")):
        grid_points(grid)


def test_derived_seeds_depend_on_seed_and_position_only():
    a = point_seeds(6, 3, seed=11)
    assert a.shape == (6, 3)
    assert len(np.unique(a)) == 18  # distinct for every point and repetition
    np.testing.assert_array_equal(a, point_seeds(6, 3, seed=11))
    assert not np.array_equal(a, point_seeds(6, 3, seed=12))
    # a longer grid keeps the seeds of the calls it shares with a shorter one
    np.testing.assert_array_equal(point_seeds(6, 3, seed=11).ravel()[:6], a.ravel()[:6])
    np.testing.assert_array_equal(point_seeds(2, [5, 7]), [[5, 7], [5, 7]])
    with pytest.raises(ValueError, match="seeds"):
        point_seeds(2, 0)
    with pytest.raises(TypeError, match="seeds"):
        point_seeds(2, [1.5])


def test_serial_sweep_returns_one_row_per_point_and_seed_in_grid_order():
    table = sweep(noisy_stat, {"mu": [0.0, 10.0], "sigma": [1.0, 2.0]}, seeds=3, seed=1,
                  client="serial", progress=False)
    assert len(table) == 12
    assert list(table.columns[:3]) == ["mu", "sigma", "seed"]
    assert list(table.columns[-3:]) == ["status", "error", "elapsed"]
    assert (table["status"] == "ok").all()
    np.testing.assert_array_equal(table["seed"].to_numpy(), point_seeds(4, 3, seed=1).ravel())
    # each row's values are the function's at that row's parameters and seed
    for _, row in table.iterrows():
        ref = noisy_stat(row["mu"], row["sigma"], int(row["seed"]))
        assert row["mean"] == ref["mean"] and row["std"] == ref["std"]


def test_a_local_cluster_gives_the_serial_table_whatever_the_workers(client):
    grid = {"mu": [0.0, 1.0, 2.0], "sigma": [0.5, 1.0]}
    serial = sweep(noisy_stat, grid, seeds=2, seed=3, client="serial", progress=False)
    dist = sweep(noisy_stat, grid, seeds=2, seed=3, client=client, progress=False)
    cols = ["mu", "sigma", "seed", "mean", "std", "status"]
    assert dist[cols].equals(serial[cols])
    # the calls really ran in the cluster's worker processes, not here
    pids = set(dist["pid"])
    assert os.getpid() not in pids
    assert pids <= set(client.run(os.getpid).values())


def test_a_sweep_connects_to_a_running_scheduler_by_address(cluster):
    table = sweep(noisy_stat, {"mu": [1.0, 2.0], "sigma": [1.0]}, seed=0,
                  address=cluster.scheduler_address, progress=False)
    assert (table["status"] == "ok").all()
    ref = sweep(noisy_stat, {"mu": [1.0, 2.0], "sigma": [1.0]}, seed=0, client="serial", progress=False)
    np.testing.assert_array_equal(table["mean"], ref["mean"])


def test_failed_points_come_back_as_rows_with_their_parameters(client):
    with pytest.warns(RuntimeWarning, match=r"2 of 4 sweep calls failed; first: \{'x': -1\.0\}"):
        table = sweep(fails_for_negative, {"x": [-1.0, 4.0, -2.0, 9.0]}, client=client, progress=False)
    assert list(table["status"]) == ["error", "ok", "error", "ok"]
    assert list(table["x"]) == [-1.0, 4.0, -2.0, 9.0]
    assert "x must be >= 0, got -2.0" in table["error"][2]
    assert table["value"][1] == 2.0 and table["value"][3] == 3.0
    assert np.isnan(table["value"][0])
    with pytest.raises(SweepError, match=r"x': -1\.0"):
        sweep(fails_for_negative, {"x": [-1.0, 4.0]}, client="serial", on_error="raise", progress=False)


def test_spikenet_simulations_run_on_the_workers(client):
    table = sweep(lif_rate_point, {"J": [1.5, 2.0, 3.0]}, client=client, progress=False)
    assert (table["status"] == "ok").all()
    # a 1 s run counts whole spikes: within one spike of the analytic rate
    np.testing.assert_allclose(table["rate"], table["analytic"], atol=1.0)


def test_default_cluster_is_started_and_closed():
    table = sweep(noisy_stat, {"mu": [0.0], "sigma": [1.0, 2.0]}, seed=5, n_workers=1, progress=False)
    ref = sweep(noisy_stat, {"mu": [0.0], "sigma": [1.0, 2.0]}, seed=5, client="serial", progress=False)
    np.testing.assert_array_equal(table["mean"], ref["mean"])


@pytest.mark.parametrize("kwargs, err, word", [
    ({"fn": 3}, TypeError, "fn"),
    ({"on_error": "ignore"}, ValueError, "on_error"),
    ({"client": "threads"}, ValueError, "client"),
    ({"client": object()}, TypeError, "client"),
    ({"n_workers": 0}, ValueError, "n_workers"),
    ({"threads_per_worker": 0}, ValueError, "threads_per_worker"),
    ({"address": 8786}, TypeError, "address"),
])
def test_bad_options_are_named(kwargs, err, word):
    args = {"fn": noisy_stat, "grid": {"mu": [0.0], "sigma": [1.0]}, "progress": False}
    args.update(kwargs)
    with pytest.raises(err, match=word):
        sweep(**args)


def test_bad_results_are_reported_as_failed_rows():
    def returns_text(x, seed):
        return "not a table row"

    with pytest.warns(RuntimeWarning, match="1 of 1"):
        table = sweep(returns_text, {"x": [1]}, client="serial", progress=False)
    assert "mapping" in table["error"][0]


def test_progress_counts_the_finished_calls_on_stderr(capsys):
    sweep(noisy_stat, {"mu": [0.0, 1.0], "sigma": [1.0, 2.0]}, client="serial", progress=True)
    err = capsys.readouterr().err
    assert "sweep" in err and "4/4" in err

"""The network examples run end to end (with --quick) and write their figures."""

import pytest

from tests.examples._runner import run_examples


@pytest.mark.parametrize(
    ("script", "figures"),
    [
        ("psc_filters.py", ["psc_filters_kernels.png", "psc_filters_filtered_train.png"]),
        ("cuba_network.py", ["cuba_network_raster.png"]),
        pytest.param("coba_network.py", ["coba_network_raster.png", "coba_network_stats.png"],
                     marks=pytest.mark.slow),  # COBA itself: tests/sim/test_coba.py
    ],
)
def test_example_runs_and_saves_figures(script, figures, tmp_path):
    run_examples([script], tmp_path, timeout=300)
    for name in figures:
        assert (tmp_path / name).stat().st_size > 10_000


@pytest.mark.slow  # for time: the model itself is tested in tests/sim or tests/rate
def test_brunel_phase_diagram_example_sweeps_on_a_cluster_and_separates_the_regimes(tmp_path):
    out = run_examples(["brunel_phase_diagram.py"], tmp_path, timeout=300)
    assert (tmp_path / "brunel_phase_diagram.png").stat().st_size > 10_000
    assert "9 points on 2 workers" in out and ", 0 failed" in out
    assert "same table: True" in out  # the cluster and the serial loop agree point by point
    rates = {line.split(" (")[0]: float(line.split("rate ")[1].split(" Hz")[0])
             for line in out.splitlines() if " Hz, synchrony " in line}
    assert rates["SR"] > 3 * rates["AI"]  # weak inhibition: near-saturated synchronous regular firing


def test_brunel_regimes_example_shows_the_four_regimes_signatures(tmp_path):
    out = run_examples(["brunel_regimes.py"], tmp_path, timeout=300)
    assert (tmp_path / "brunel_regimes.png").stat().st_size > 10_000
    stats = {}
    for line in out.splitlines():
        if " Hz, ISI CV " in line:
            name = line.split(" (")[0]
            stats[name] = {k: float(line.split(f"{k} ")[1].split()[0].rstrip(","))
                           for k in ("rate", "CV", "peak")}
    assert set(stats) == {"SR", "AI", "SI-fast", "SI-slow"}
    assert stats["SR"]["rate"] > 5 * stats["AI"]["rate"] and stats["SR"]["CV"] < 0.2  # fast and regular
    assert stats["AI"]["CV"] > 0.8 and stats["SI-fast"]["CV"] > 0.8  # irregular single neurons
    assert stats["SI-fast"]["peak"] > 100 > 60 > stats["SI-slow"]["peak"]  # fast vs slow population rhythm


@pytest.mark.slow  # for time: the model itself is tested in tests/sim or tests/rate
def test_izhikevich_network_example_fires_at_low_rates_with_a_population_rhythm(tmp_path):
    out = run_examples(["izhikevich_network.py"], tmp_path, timeout=300)
    assert (tmp_path / "izhikevich_network.png").stat().st_size > 10_000
    line = next(x for x in out.splitlines() if x.startswith("E: "))
    rate_e = float(line.split("E: ")[1].split(" Hz")[0])
    peak = float(line.split("peaks at ")[1].split(" Hz")[0])
    # Izhikevich (2003), Fig. 3: sparse firing of single neurons, alpha and gamma population rhythms
    assert 2.0 < rate_e < 20.0
    assert 8.0 <= peak <= 60.0


def test_song_stdp_example_splits_the_weights_towards_the_bounds(tmp_path):
    out = run_examples(["song_stdp.py"], tmp_path, timeout=300)
    assert (tmp_path / "song_stdp.png").stat().st_size > 10_000
    line = next(s for s in out.splitlines() if s.startswith("weights:"))
    low, high = (float(x.split("%")[0]) / 100 for x in line.split(": ")[1].split(", ")[:2])
    # uniform initial weights put 10 % of them below 0.1 w_max and 10 % above 0.9 w_max (+-1 %)
    assert low > 0.11 and high > 0.11 and low + high > 0.25
    rates = next(s for s in out.splitlines() if s.startswith("output rate:"))
    first, last = (float(part.split(" s ")[1].split(" Hz")[0]) for part in rates.split(", "))
    assert last < 0.8 * first  # the competition regulates the output rate down

"""examples/microcircuit.py runs at small scale and lands near the published full-scale rates."""

from spikenet.sim.microcircuit import FULL_MEAN_RATES, POPULATIONS
from tests.examples._runner import run_examples


def test_microcircuit_example_runs_with_rates_near_the_published_ones(tmp_path):
    out = run_examples(["microcircuit.py"], tmp_path, timeout=300)
    assert (tmp_path / "microcircuit.png").stat().st_size > 10_000
    rates = {line.split(":")[0]: float(line.split("rate ")[1].split(" Hz")[0])
             for line in out.splitlines() if " Hz (full scale" in line}
    assert list(rates) == list(POPULATIONS)
    # 2 % of the neurons, 10 % of the in-degree with compensation, 0.2 s: every
    # population within a factor 2 of the full model's rate (a silent or
    # synchronised network would be far outside)
    for name, full in zip(POPULATIONS, FULL_MEAN_RATES):
        assert full / 2 < rates[name] < 2 * full, (name, rates[name], full)

"""The network demo step simulates a real network and saves its raster."""

from spikenet.demo import STEPS


def test_network_step_is_registered():
    assert ("Networks: a CUBA network of LIF populations", "spikenet._demo_steps.network:step") in STEPS


def test_network_step_writes_raster_and_reports_rates(tmp_path):
    from spikenet._demo_steps.network import step

    lines = step(tmp_path, quick=True)
    assert (tmp_path / "network_raster.png").stat().st_size > 10_000
    rates = [float(line.split("mean rate ")[1].split(" Hz")[0]) for line in lines if "mean rate" in line]
    assert len(rates) == 2 and all(r > 1.0 for r in rates)  # the network is active

"""The bridge demo step converts a trained network and reports a real spiking accuracy."""

import re

from spikenet.demo import STEPS


def test_bridge_step_is_registered_last():
    assert STEPS[-1] == (
        "The bridge: a digits rate network run as spiking LIF neurons",
        "spikenet._demo_steps.bridge:step",
    )


def test_bridge_step_writes_figure_and_reports_accuracies(tmp_path):
    from spikenet._demo_steps.bridge import step

    lines = step(tmp_path, quick=True)
    assert (tmp_path / "bridge_digits.png").stat().st_size > 10_000
    text = "\n".join(lines)
    rate_acc = float(re.search(r"test accuracy ([\d.]+)%", text).group(1))
    spiking_acc = float(re.search(r"accuracy ([\d.]+)% at T = 0.2 s", text).group(1))
    assert rate_acc > 85  # a real (if briefly) trained classifier
    assert spiking_acc >= rate_acc - 3  # the converted network keeps its accuracy (100 images)
    assert re.search(r"\(\d+ images/s at T = 0.2 s\)", text)

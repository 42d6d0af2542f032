"""The 'Single neurons' step of spikenet demo: figures written, summary numbers right."""

import re

import numpy as np

from spikenet.demo import STEPS
from spikenet.sim import LIF


def test_neurons_demo_step_is_registered():
    assert ("Single neurons: Hodgkin-Huxley and LIF", "spikenet._demo_steps.neurons:step") in STEPS


def test_neurons_demo_step_writes_figures_and_summary(tmp_path):
    from spikenet._demo_steps.neurons import step

    lines = step(tmp_path, quick=True)
    for name in ("neuron_traces.png", "lif_tuning_curve.png"):
        path = tmp_path / name
        assert path.stat().st_size > 10_000
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = "\n".join(lines)
    # HH at 10 uA/cm^2 fires repetitively (~70 Hz): 40 ms after the step gives 2-4 spikes.
    n_hh = int(re.search(r"HH.*: (\d+) spikes", text).group(1))
    assert 2 <= n_hh <= 4
    # LIF: first spike 50 ms + tau_m ln((1.5 - v(50 ms)) / 0.5) after the step,
    # then one per 1/G(1.5) s until 0.3 s.
    lif = LIF()
    v50 = 0.5 * (1 - np.exp(-0.05 / lif.tau_m))
    first = 0.05 + lif.tau_m * np.log((1.5 - v50) / 0.5)
    expected = 1 + int((0.3 - first) * lif.rate(1.5))
    assert f"{expected} spikes" in text
    err = float(re.search(r"within ([\d.]+)%", text).group(1))
    assert err < 5.0

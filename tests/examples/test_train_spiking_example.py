"""examples/train_spiking_digits.py --quick: a short BPTT training of a spiking network on digits.

This is the default run's training check for :class:`spikenet.rate.SpikingMLP`
(the full training to snnTorch's accuracy is the slow test in
tests/rate/test_snn.py): 4 epochs of a 64-128-10 LIF network at 10 steps of
1 ms must reach 90 % test accuracy (chance: 10 %; the rate networks of the
bridge reach about 97 %), and the trained weights must give the same spikes
in spikenet.sim.
"""

import re

import pytest

from tests.examples._runner import run_examples

QUICK_ACCURACY_BAR = 90.0  # % after 4 epochs (94 % observed with seed 0)


@pytest.mark.slow  # for time: the model itself is tested in tests/sim or tests/rate
def test_quick_training_learns_digits_and_sim_gives_the_same_spikes(tmp_path):
    out = run_examples(["train_spiking_digits.py"], tmp_path, torch_threads=1)
    acc = float(re.search(r"spiking network: test accuracy ([\d.]+)% at 10 steps", out).group(1))
    assert acc >= QUICK_ACCURACY_BAR, out
    assert "same spikes: True" in out
    sim = re.search(r"spikenet.sim with the trained weights: .* test accuracy ([\d.]+)%", out)
    sim_acc = float(sim.group(1))
    assert abs(sim_acc - acc) <= 0.5
    assert (tmp_path / "train_spiking_digits.png").stat().st_size > 10_000

"""The microcircuit built by NEST with its own connection rules (benchmarks.nest_microcircuit_native)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from spikenet.sim.microcircuit import POPULATIONS, microcircuit_parameters


@pytest.mark.nest
def test_nest_native_microcircuit_has_the_model_numbers_of_neurons_and_synapses(tmp_path):
    pytest.importorskip("nest")
    out = tmp_path / "nest.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.nest_microcircuit_native", "--n-scale", "0.01",
                           "--T", "0.05", "--threads", "1", "--seed", "3", "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(out.read_text())
    par = microcircuit_parameters(0.01, 1.0, "dc")
    assert res["n_neurons"] == int(par.num_neurons.sum())
    # fixed_total_number creates exactly the model's synapses, plus one recorder connection per neuron
    assert res["n_synapses"] == int(par.num_synapses.sum()) + res["n_neurons"]
    assert list(res["rates"]) == list(POPULATIONS)
    rates = np.array(list(res["rates"].values()))
    assert np.all(np.isfinite(rates)) and np.all(rates >= 0.0) and res["n_spikes"] > 0
    # every recorded spike is counted in exactly one population
    counts = rates * par.num_neurons * 0.05
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-6)
    assert int(np.round(counts).sum()) == res["n_spikes"]
    assert res["loop_s"] > 0.0 and res["build_s"] > 0.0 and res["maxrss_gb"] > 0.0

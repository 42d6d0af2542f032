"""The short-term plasticity example: depressing and facilitating EPSP trains, steady state versus rate."""

import itertools
import math
import re

from tests.examples._runner import run_examples

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_stp_example_depresses_facilitates_and_reaches_the_fixed_point(tmp_path):
    stdout = run_examples(["stp_synapses.py"], tmp_path, timeout=300)
    assert (tmp_path / "stp_synapses.png").read_bytes()[:8] == PNG_MAGIC
    peaks = {m[1]: [float(x) for x in m[2].split(", ")]
             for m in re.finditer(r"^(\w+): EPSP peaks (.+)$", stdout, re.M)}
    dep, fac = peaks["depressing"], peaks["facilitating"]
    assert len(dep) == len(fac) == 9  # eight train spikes and the test spike
    assert dep[0] == fac[0]  # the same first amplitude w U
    assert all(b < a for a, b in itertools.pairwise(dep[:8]))  # every EPSP of the train smaller than the last
    assert all(b > a for a, b in itertools.pairwise(fac[:8]))  # and larger through the facilitating synapse
    assert dep[7] < dep[8] < dep[0]  # half a second later: partly recovered
    rows = re.findall(r"^(\w+) at ([\d.]+) Hz: .* simulated ([\d.]+) analytic ([\d.]+) relative error (\S+)$",
                      stdout, re.M)
    assert len(rows) == 6
    # the papers' parameter sets (U, tau_rec, tau_facil)
    params = {"depressing": (0.5, 0.8, 0.0), "facilitating": (0.03, 0.13, 0.53)}
    for name, rate, sim, _, _ in rows:
        U, tau_rec, tau_facil = params[name]
        h = 1 / float(rate)
        u = U / (1 - (1 - U) * (math.exp(-h / tau_facil) if tau_facil else 0.0))
        x = (1 - math.exp(-h / tau_rec)) / (1 - (1 - u) * math.exp(-h / tau_rec))
        # the trains reach the closed-form fixed point u* x* / U (printed to 8 decimals)
        assert abs(float(sim) - u * x / U) < 1e-4 * u * x / U
        assert (float(sim) < 1) == (name == "depressing")
    dep_ratios = [float(r[2]) for r in rows if r[0] == "depressing"]
    assert dep_ratios == sorted(dep_ratios, reverse=True)  # deeper depression at higher rates

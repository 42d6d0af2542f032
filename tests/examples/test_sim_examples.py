"""Run the simulation examples with --quick in a subprocess and check their output."""

import pytest

from tests.examples._runner import run_examples

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_example(script, out):
    return run_examples([script], out, timeout=300)


def test_hh_example_saves_figure_and_shows_the_four_regimes(tmp_path):
    stdout = run_example("hh_neuron.py", tmp_path)
    assert (tmp_path / "hh_neuron.png").read_bytes()[:8] == PNG_MAGIC
    lines = [line for line in stdout.splitlines() if line.startswith("J =")]
    counts = [int(line.split(":")[1].split("spikes")[0]) for line in lines]
    vmin = [float(line.split("V min")[1].split("mV")[0]) for line in lines]
    assert counts[0] == 0 and vmin[0] < -100  # negative input: hyperpolarised, silent
    # zero input: back to rest; at most the rebound spike on release from
    # hyperpolarisation (anode-break excitation, a known HH behaviour)
    assert counts[1] <= 1
    assert counts[2] <= 1  # small input: at most one spike
    assert 2 <= counts[3] < counts[4]  # larger input fires faster


def test_lif_tuning_curve_example_saves_figure_and_matches_analytic(tmp_path):
    stdout = run_example("lif_tuning_curve.py", tmp_path)
    assert (tmp_path / "lif_tuning_curve.png").read_bytes()[:8] == PNG_MAGIC
    errors = [float(line.rsplit(" ", 1)[1]) for line in stdout.splitlines() if "relative error" in line]
    assert len(errors) == 3 and max(errors) < 1e-3  # exact integration: rates equal G(J)


def _pattern_lines(stdout):
    """name -> (spike count, first ISI ms, last ISI ms) from the pattern examples' printout."""
    out = {}
    for line in stdout.splitlines():
        if " spikes, first ISI " not in line:
            continue
        name, rest = line.split(": ", 1)
        count = int(rest.split(" spikes")[0])
        first, last = (rest.split(f"{w} ISI ")[1].split(" ms")[0] for w in ("first", "last"))
        out[name] = (count, float(first) if first != "-" else None, float(last) if last != "-" else None)
    return out


def test_izhikevich_patterns_example_shows_the_papers_cell_classes(tmp_path):
    stdout = run_example("izhikevich_patterns.py", tmp_path)
    assert (tmp_path / "izhikevich_patterns.png").read_bytes()[:8] == PNG_MAGIC
    p = _pattern_lines(stdout)
    assert len(p) == 7
    rs, ib, ch, fs = (p[k] for k in ("regular spiking (RS)", "intrinsically bursting (IB)", "chattering (CH)",
                                      "fast spiking (FS)"))
    assert rs[2] > 1.5 * rs[1]  # regular spiking adapts
    assert ib[1] < 5.0 < ib[2]  # an initial burst, then single spikes
    assert ch[1] < 2.0  # chattering: bursts of closely spaced spikes
    assert fs[0] > 3 * rs[0]  # fast spiking fires without adaptation, much faster


def test_adex_patterns_example_shows_the_naud_patterns(tmp_path):
    stdout = run_example("adex_patterns.py", tmp_path)
    assert (tmp_path / "adex_patterns.png").read_bytes()[:8] == PNG_MAGIC
    p = _pattern_lines(stdout)
    assert len(p) == 8
    tonic, adapt, accel, transient = (p[k] for k in ("tonic spiking", "adaptation", "delayed accelerating",
                                                     "transient spiking"))
    assert abs(tonic[2] - tonic[1]) < 0.2 * tonic[1]  # tonic: nearly constant intervals
    assert adapt[2] > 3 * adapt[1]  # adaptation: intervals lengthen
    assert accel[2] < accel[1]  # delayed accelerating: intervals shorten
    assert transient[0] <= 2  # transient: a spike or two at the onset, then silence
    assert p["initial burst"][1] < 5.0 < p["initial burst"][2]


@pytest.mark.slow  # for time: the model itself is tested in tests/sim or tests/rate
def test_stochastic_inputs_example_matches_campbell_and_siegert(tmp_path):
    stdout = run_example("stochastic_inputs.py", tmp_path)
    assert (tmp_path / "stochastic_inputs.png").read_bytes()[:8] == PNG_MAGIC
    shot = next(line for line in stdout.splitlines() if line.startswith("shot noise"))
    mean, var = (float(shot.split(f"{word} ")[1].split(" ")[0]) for word in ("mean", "variance"))
    mean_grid, var_grid = (float(part.split(")")[0]) for part in shot.split("grid ")[1:])
    assert abs(mean / mean_grid - 1) < 0.03 and abs(var / var_grid - 1) < 0.05
    rates = [(float(line.split(": ")[2].split(" Hz")[0]), float(line.split("Siegert ")[1].split(" Hz")[0]))
             for line in stdout.splitlines() if line.startswith("noisy LIF")]
    assert len(rates) == 8
    assert all(abs(r / ref - 1) < 0.1 for r, ref in rates if ref > 10)  # quick run: 40 neurons, 2 s
    assert "cue spikes at [0.35" in stdout and ", 0.4] s" in stdout
    # the PoissonSource's rate changed between the runs: 40 Hz, then 120 Hz (50 neurons, 0.15 s each)
    src = next(line for line in stdout.splitlines() if line.startswith("sources"))
    r1, r2 = (float(part.split(" Hz")[0]) for part in src.split("stim ")[1].split(", ")[:2])
    assert abs(r1 - 40.0) < 4 * (40.0 / 7.5) ** 0.5 and abs(r2 - 120.0) < 4 * (120.0 / 7.5) ** 0.5

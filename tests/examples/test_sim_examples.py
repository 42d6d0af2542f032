"""Run the simulation examples with --quick in a subprocess and check their output."""

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

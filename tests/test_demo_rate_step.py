"""The rate-learning demo step trains real models and saves its figure."""

from spikenet.demo import STEPS


def test_rate_step_is_registered():
    assert ("Rate models: learning by gradient descent", "spikenet._demo_steps.rate_learning:step") in STEPS


def test_rate_step_trains_classifier_and_reports_momentum_gain(tmp_path):
    import torch

    from spikenet._demo_steps.rate_learning import step

    n = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks: one thread is fastest
    try:
        lines = step(tmp_path, quick=True)
    finally:
        torch.set_num_threads(n)
    assert (tmp_path / "rate_learning.png").stat().st_size > 10_000
    acc = float(lines[0].split(": ")[1].split("%")[0])
    assert acc > 80.0  # 3 epochs already classify most digits (30 reach >= 95%, tests/rate)
    plain, mom = (float(v.split()[0]) for v in lines[1].split("E = ")[1].split(", "))
    assert mom < 1e-3 * plain

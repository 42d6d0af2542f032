"""Adversarial attacks and defences on the digits (notes ch. 11)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from spikenet.rate import adversarial, datasets
from spikenet.rate.adversarial import accuracy, adversarial_training, fgsm, pgd, trades_loss

# Thresholds (one place):
# - EPS: the attack radius on [0, 1] pixels. Measured for the naturally trained MLP below:
#   FGSM accuracy 0.84 / 0.47 / 0.16 at eps = 0.05 / 0.1 / 0.15, so 0.15 is an eps where FGSM
#   drives it below the 30%.
EPS = 0.15
NATURAL_FGSM_MAX = 0.30  # issue 5, point 7
ROBUST_FACTOR = 2.0  # issue 5, point 7: a defended model keeps at least twice that accuracy
# - Clean accuracy floors: the 64-64-10 MLP reaches about 0.96 after 15 epochs; adversarially
#   trained ones about 0.92-0.94. 0.9 leaves room for seed-to-seed spread of a few percent.
CLEAN_MIN = 0.90
# - Targeted success (target = (label + 1) mod 10, over correctly classified test inputs):
#   measured 0.31 (FGSM) and 0.35 (PGD-10) at EPS, 0.82 and 0.98 at 2 EPS. Floors are set
#   about 0.1 below (over ~430 inputs the s.e. of a rate is <= 0.025).
TARGETED_FGSM_MIN = 0.2
TARGETED_PGD_2EPS_MIN = 0.9
# - PGD-10 starts where FGSM's single step would go and then only climbs the loss further, so
#   it is at least as strong up to a few test inputs that a longer path lands differently:
#   0.02 (9 of 450 inputs) of slack. Measured: PGD below FGSM by 0.04-0.07 (untargeted) and
#   above it by 0.04 (targeted).
PGD_SLACK = 0.02
NATURAL_EPOCHS = 15
LR = 5e-3


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """One intra-op thread while this module trains (module scope: it also covers the shared
    trained-model fixture); small models gain nothing from more, and oversubscribed CI cores
    make torch's thread pool spin. The previous setting is restored afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _mlp(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))


@pytest.fixture(scope="module")
def digits():
    Xtr, ytr, Xte, yte = datasets.digits(seed=0)
    return tuple(torch.from_numpy(a) for a in (Xtr, ytr, Xte, yte))


@pytest.fixture(scope="module")
def natural(digits):
    # eps = 0 makes the adversarial loss the plain cross-entropy: natural training.
    Xtr, ytr, _, _ = digits
    model = _mlp(0)
    adversarial_training(model, (Xtr, ytr), epochs=NATURAL_EPOCHS, eps=0.0, lr=LR, seed=0)
    return model.eval()


def _linear_model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Linear(64, 10).double()


def test_fgsm_matches_analytic_gradient_sign_of_softmax_regression():
    # For logits z = x W^T + b and mean cross-entropy, dL/dx = (softmax(z) - onehot(t)) W / n.
    model = _linear_model()
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(0, 1, (20, 64)))
    t = torch.from_numpy(rng.integers(0, 10, 20))
    with torch.no_grad():
        p = torch.softmax(model(x), dim=1)
        grad = (p - F.one_hot(t, 10).double()) @ model.weight / len(x)
    eps = 0.1
    expected = (x + eps * grad.sign()).clamp(0, 1)
    torch.testing.assert_close(fgsm(model, x, t, eps), expected, rtol=0, atol=1e-15)
    # Targeted: a step down the gradient of the target's loss.
    expected_t = (x - eps * grad.sign()).clamp(0, 1)
    torch.testing.assert_close(fgsm(model, x, t, eps, targeted=True), expected_t, rtol=0, atol=1e-15)


def test_fgsm_perturbation_exactly_within_eps_and_range(natural, digits):
    _, _, Xte, yte = digits
    for eps in (1e-3, 0.1, 0.3, 1 / 3):
        x_adv = fgsm(natural, Xte, yte, eps)
        # float64 differences of float32 values are exact: a true bound, no round-off allowance.
        assert float((x_adv.double() - Xte.double()).abs().max()) <= eps
        assert float(x_adv.min()) >= 0.0 and float(x_adv.max()) <= 1.0
        assert x_adv.dtype == Xte.dtype and x_adv.shape == Xte.shape


def test_fgsm_without_clip_moves_every_pixel_with_nonzero_gradient_by_eps(natural, digits):
    _, _, Xte, yte = digits
    x = Xte[:50]
    x_adv = fgsm(natural, x, yte[:50], 0.25, clip=None)
    d = (x_adv.double() - x.double()).abs()
    moved = d > 0
    assert moved.float().mean() > 0.5
    torch.testing.assert_close(d[moved], torch.full_like(d[moved], 0.25), rtol=0, atol=1e-7)


def test_fgsm_and_pgd_drive_natural_model_below_30_percent(natural, digits):
    _, _, Xte, yte = digits
    assert accuracy(natural, Xte, yte) >= CLEAN_MIN
    acc_fgsm = accuracy(natural, fgsm(natural, Xte, yte, EPS), yte)
    acc_pgd = accuracy(natural, pgd(natural, Xte, yte, EPS, alpha=EPS / 4, steps=10), yte)
    assert acc_fgsm < NATURAL_FGSM_MAX
    assert acc_pgd <= acc_fgsm + PGD_SLACK  # PGD is at least as strong as one FGSM step


def test_pgd_single_full_step_equals_fgsm(natural, digits):
    _, _, Xte, yte = digits
    torch.testing.assert_close(pgd(natural, Xte, yte, 0.1, alpha=0.1, steps=1), fgsm(natural, Xte, yte, 0.1),
                               rtol=0, atol=0)


def test_pgd_stays_in_ball_with_random_start(natural, digits):
    _, _, Xte, yte = digits
    x_adv = pgd(natural, Xte, yte, 0.07, alpha=0.03, steps=7, random_start=True, seed=1)
    assert float((x_adv.double() - Xte.double()).abs().max()) <= 0.07
    assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1
    again = pgd(natural, Xte, yte, 0.07, alpha=0.03, steps=7, random_start=True, seed=1)
    torch.testing.assert_close(x_adv, again, rtol=0, atol=0)


def test_targeted_attacks_reach_the_target_class(natural, digits):
    _, _, Xte, yte = digits
    with torch.no_grad():
        correct = natural(Xte).argmax(1) == yte
    x, y = Xte[correct], yte[correct]
    target = (y + 1) % 10

    def success(x_adv):
        return accuracy(natural, x_adv, target)

    rates = {}
    for eps in (EPS, 2 * EPS):
        rates[eps] = (success(fgsm(natural, x, target, eps, targeted=True)),
                      success(pgd(natural, x, target, eps, alpha=eps / 4, steps=10, targeted=True)))
    print("targeted success (FGSM, PGD-10): " + ", ".join(f"eps={e:.2f}: {f:.3f}, {p:.3f}"
                                                        for e, (f, p) in rates.items()))
    assert rates[EPS][0] >= TARGETED_FGSM_MIN
    assert rates[EPS][1] >= rates[EPS][0] - PGD_SLACK
    assert rates[2 * EPS][1] >= TARGETED_PGD_2EPS_MIN
    # Without targeting, the same budget mostly lands in other classes than the target.
    untargeted = fgsm(natural, x, y, EPS)
    assert success(untargeted) < rates[EPS][0]


@pytest.mark.parametrize("method", ["fgsm", "trades"])
def test_defended_model_keeps_twice_the_robust_accuracy(natural, digits, method):
    Xtr, ytr, Xte, yte = digits
    natural_robust = accuracy(natural, fgsm(natural, Xte, yte, EPS), yte)
    assert natural_robust < NATURAL_FGSM_MAX
    model = _mlp(0)
    kwargs = {"mix": 1.0} if method == "fgsm" else {"beta": 6.0, "steps": 3}
    adversarial_training(model, (Xtr, ytr), epochs=NATURAL_EPOCHS, eps=EPS, method=method, lr=LR, seed=0,
                         **kwargs)
    model.eval()
    robust = accuracy(model, fgsm(model, Xte, yte, EPS), yte)
    robust_pgd = accuracy(model, pgd(model, Xte, yte, EPS, alpha=EPS / 4, steps=10), yte)
    print(f"{method}: clean {accuracy(model, Xte, yte):.3f}, FGSM {robust:.3f}, PGD-10 {robust_pgd:.3f}; "
          f"natural model FGSM {natural_robust:.3f}")
    assert accuracy(model, Xte, yte) >= CLEAN_MIN
    assert robust >= ROBUST_FACTOR * natural_robust
    # Not gradient masking: the multi-step attack does not break it either.
    assert robust_pgd >= ROBUST_FACTOR * natural_robust


@pytest.mark.slow
def test_pgd_adversarial_training_also_keeps_twice_the_robust_accuracy(natural, digits):
    Xtr, ytr, Xte, yte = digits
    natural_robust = accuracy(natural, fgsm(natural, Xte, yte, EPS), yte)
    model = _mlp(0)
    adversarial_training(model, (Xtr, ytr), epochs=NATURAL_EPOCHS, eps=EPS, method="pgd", steps=5, lr=LR,
                         seed=0)
    model.eval()
    assert accuracy(model, Xte, yte) >= CLEAN_MIN
    robust_pgd = accuracy(model, pgd(model, Xte, yte, EPS, alpha=EPS / 4, steps=10), yte)
    assert robust_pgd >= ROBUST_FACTOR * natural_robust


def test_trades_loss_is_cross_entropy_plus_beta_kl(natural, digits):
    _, _, Xte, yte = digits
    x, t = Xte[:64], yte[:64]
    ce = F.cross_entropy(natural(x), t)
    torch.testing.assert_close(trades_loss(natural, x, t, 0.1, beta=0.0, seed=0), ce)
    # eps = 0: the adversary is x itself and the KL term vanishes.
    torch.testing.assert_close(trades_loss(natural, x, t, 0.0, beta=5.0, seed=0), ce)
    l1 = trades_loss(natural, x, t, 0.1, beta=1.0, seed=0)
    l3 = trades_loss(natural, x, t, 0.1, beta=3.0, seed=0)
    kl = (l1 - ce).detach()
    assert float(kl) > 0
    # Same seed, same adversary: the loss is linear in beta.
    torch.testing.assert_close(l3.detach(), (ce + 3 * kl).detach(), rtol=1e-5, atol=1e-6)


def test_trades_loss_gradient_reaches_parameters_and_keeps_mode():
    model = _mlp(1).train()
    x = torch.rand(8, 64)
    t = torch.arange(8)
    loss = trades_loss(model, x, t, 0.1, beta=1.0, seed=0)
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert model.training


def test_adversarial_training_is_reproducible_with_seed(digits):
    Xtr, ytr, _, _ = digits
    losses = []
    for _ in range(2):
        m = _mlp(3)
        losses.append(adversarial_training(m, (Xtr[:200], ytr[:200]), epochs=2, eps=0.1, method="pgd",
                                           steps=2, seed=5))
    assert losses[0] == losses[1]


def test_module_exports():
    assert adversarial.fgsm is fgsm and adversarial.pgd is pgd


# ---- bad input -------------------------------------------------------------------------

def test_negative_eps_raises():
    model = _linear_model()
    x = torch.rand(3, 64, dtype=torch.float64)
    with pytest.raises(ValueError, match="eps"):
        fgsm(model, x, torch.tensor([0, 1, 2]), -0.1)
    with pytest.raises(ValueError, match="eps"):
        pgd(model, x, torch.tensor([0, 1, 2]), -0.1, alpha=0.01, steps=2)
    with pytest.raises(ValueError, match="eps"):
        trades_loss(model, x, torch.tensor([0, 1, 2]), -0.1, beta=1.0)


def test_non_positive_alpha_or_steps_raise():
    model = _linear_model()
    x = torch.rand(3, 64, dtype=torch.float64)
    with pytest.raises(ValueError, match="alpha"):
        pgd(model, x, torch.tensor([0, 1, 2]), 0.1, alpha=0.0, steps=2)
    with pytest.raises(ValueError, match="steps"):
        pgd(model, x, torch.tensor([0, 1, 2]), 0.1, alpha=0.1, steps=0)


def test_labels_of_wrong_shape_raise():
    model = _linear_model()
    with pytest.raises(ValueError, match="t must"):
        fgsm(model, torch.rand(3, 64, dtype=torch.float64), torch.tensor([0, 1]), 0.1)


def test_bad_clip_raises():
    model = _linear_model()
    with pytest.raises(ValueError, match="clip"):
        fgsm(model, torch.rand(3, 64, dtype=torch.float64), torch.tensor([0, 1, 2]), 0.1, clip=(1, 0))


def test_nan_input_raises():
    model = _linear_model()
    x = torch.rand(3, 64, dtype=torch.float64)
    x[0, 0] = float("nan")
    with pytest.raises(ValueError, match="x contains NaN"):
        fgsm(model, x, torch.tensor([0, 1, 2]), 0.1)


def test_unknown_defence_method_raises(digits):
    Xtr, ytr, _, _ = digits
    with pytest.raises(ValueError, match="method"):
        adversarial_training(_mlp(0), (Xtr, ytr), epochs=1, eps=0.1, method="tradez")


def test_mix_outside_unit_interval_raises(digits):
    Xtr, ytr, _, _ = digits
    with pytest.raises(ValueError, match="mix"):
        adversarial_training(_mlp(0), (Xtr, ytr), epochs=1, eps=0.1, mix=1.5)

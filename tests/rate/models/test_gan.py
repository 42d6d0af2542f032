"""GAN on a ring of 8 Gaussians: mode coverage (notes ch. 12)."""

import numpy as np
import pytest
import torch

from spikenet.rate.models import GAN
from spikenet.rate.models.gan import ring_of_gaussians

# Mode counting (one place):
# - a sample belongs to its nearest centre if it lies within MODE_RADIUS = 5 std of it;
# - a mode is covered when at least MODE_MIN_SHARE of the samples belong to it (a uniform
#   mixture gives 12.5% each; 2% of 1000 samples is 20, far above what stray samples between
#   modes supply).
# Measured with 960 Adam steps (64-unit MLPs, lr 1e-3, batch 64): 8, 7 and 8 modes covered for
# seeds 0-2; the issue asks for at least 6.
STD = 0.05
MODE_RADIUS = 5 * STD
MODE_MIN_SHARE = 0.02
MIN_MODES = 6


def _mlp(n_in, n_out, hidden, act):
    return torch.nn.Sequential(torch.nn.Linear(n_in, hidden), act(), torch.nn.Linear(hidden, hidden), act(),
                               torch.nn.Linear(hidden, n_out))


def covered_modes(samples, centres):
    d = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)
    nearest = d.argmin(axis=1)
    near = d.min(axis=1) < MODE_RADIUS
    counts = np.bincount(nearest[near], minlength=len(centres))
    return int(np.sum(counts >= MODE_MIN_SHARE * len(samples))), counts


def test_mode_counter_on_known_mixtures():
    X, centres = ring_of_gaussians(1000, std=STD, seed=0)
    assert covered_modes(X, centres)[0] == 8
    collapsed = np.repeat(centres[:3], 334, axis=0)[:1000] + 0.01
    assert covered_modes(collapsed, centres)[0] == 3
    assert covered_modes(np.zeros((1000, 2)), centres)[0] == 0


def test_gan_samples_cover_at_least_six_of_eight_modes(seed=0):
    X, centres = ring_of_gaussians(1024, std=STD, seed=0)
    torch.manual_seed(seed)
    gan = GAN(_mlp(2, 2, 64, torch.nn.ReLU), _mlp(2, 1, 64, lambda: torch.nn.LeakyReLU(0.2)))
    hist = gan.fit(X, epochs=60, lr=1e-3, batch_size=64, seed=seed)
    samples = gan.sample(1000, seed=1).numpy()
    n_modes, counts = covered_modes(samples, centres)
    print(f"GAN covers {n_modes} of 8 modes; samples per mode {counts.tolist()}")
    assert n_modes >= MIN_MODES
    assert len(hist.d_loss) == 60 and np.all(np.isfinite(hist.g_loss))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_gan_mode_coverage_holds_for_other_seeds(seed):
    test_gan_samples_cover_at_least_six_of_eight_modes(seed)


def test_sample_is_seeded_and_latent_dim_inferred():
    gan = GAN(_mlp(3, 2, 8, torch.nn.ReLU), _mlp(2, 1, 8, torch.nn.ReLU))
    assert gan.latent_dim == 3
    torch.testing.assert_close(gan.sample(5, seed=2), gan.sample(5, seed=2))
    assert gan.sample(5, seed=2).shape == (5, 2)
    p = gan.discriminate(torch.zeros(4, 2))
    assert p.shape == (4,) and bool(((p > 0) & (p < 1)).all())


def test_discriminator_step_lowers_its_loss_on_fixed_fakes():
    # One fit epoch trains D to separate real points from the current fakes: check the sign of
    # the change against a direct evaluation of the notes' discriminator loss.
    X, _ = ring_of_gaussians(256, seed=1)
    torch.manual_seed(0)
    gan = GAN(_mlp(2, 2, 16, torch.nn.ReLU), _mlp(2, 1, 16, torch.nn.ReLU))
    real = torch.from_numpy(X)

    def d_loss():
        fake = gan.sample(256, seed=5)
        return float(-torch.log(gan.discriminate(real)).mean() - torch.log(1 - gan.discriminate(fake)).mean())

    before = d_loss()
    gan.fit(X, epochs=3, lr=1e-3, lr_d=1e-2, batch_size=64, seed=0)
    assert d_loss() < before


def test_bad_arguments_raise():
    G, D = _mlp(2, 2, 8, torch.nn.ReLU), _mlp(2, 1, 8, torch.nn.ReLU)
    with pytest.raises(TypeError, match="generator"):
        GAN(lambda z: z, D)
    with pytest.raises(ValueError, match="epochs"):
        GAN(G, D).fit(np.zeros((10, 2)), epochs=0)
    with pytest.raises(ValueError, match="data contains NaN"):
        GAN(G, D).fit(np.full((10, 2), np.nan), epochs=1)
    with pytest.raises(ValueError, match="one logit per sample"):
        GAN(G, _mlp(2, 3, 8, torch.nn.ReLU)).fit(np.zeros((10, 2)), epochs=1)
    with pytest.raises(ValueError, match="latent_dim must be given"):
        GAN(torch.nn.Tanh(), D)

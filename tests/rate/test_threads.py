"""Training loops choose torch's intra-op thread count for their duration and restore it after."""

import numpy as np
import pytest
import torch

from spikenet.rate import GAN, adversarial, fit
from spikenet.rate._threads import SMALL_WORK

# A thread count that differs from the one chosen for small models (1) and
# from torch's default on the test machines, so that each change is visible.
CALLER_THREADS = 3


@pytest.fixture
def caller_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(CALLER_THREADS)
    yield CALLER_THREADS
    torch.set_num_threads(previous)


class _Spy(torch.nn.Module):
    """A linear model that records torch's thread count at every forward pass.

    ``extra`` adds an unused parameter so that the work per minibatch
    (batch size times trainable parameters) can be made large without
    computing anything large.
    """

    def __init__(self, n_in=2, n_out=1, extra=0):
        super().__init__()
        self.lin = torch.nn.Linear(n_in, n_out)
        self.extra = torch.nn.Parameter(torch.zeros(extra)) if extra else None
        self.seen = []

    def forward(self, x):
        self.seen.append(torch.get_num_threads())
        return self.lin(x)


def _data(n=8, n_in=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)).astype(np.float32), rng.normal(size=(n, 1)).astype(np.float32)


def test_fit_uses_one_thread_for_a_small_model_and_restores_the_callers_setting(caller_threads):
    model = _Spy()
    fit(model, _data(), "mse", epochs=3, batch_size=4, progress=False)
    assert model.seen and set(model.seen) == {1}
    assert torch.get_num_threads() == caller_threads


def test_fit_keeps_the_callers_threads_when_a_minibatch_is_large(caller_threads):
    n = 256
    extra = SMALL_WORK // n  # batch_size * parameters >= SMALL_WORK with the Linear's 3 parameters
    model = _Spy(extra=extra)
    fit(model, _data(n), "mse", epochs=1, progress=False)
    assert set(model.seen) == {caller_threads}
    # one sample fewer per minibatch is below the threshold: one thread
    small = _Spy(extra=extra)
    fit(small, _data(n), "mse", epochs=1, batch_size=n - 2, progress=False)
    assert set(small.seen) == {1}


@pytest.mark.parametrize("threads", [1, 2, 5])
def test_fit_threads_argument_overrides_the_choice(caller_threads, threads):
    model = _Spy()
    fit(model, _data(), "mse", epochs=2, progress=False, threads=threads)
    assert set(model.seen) == {threads}
    assert torch.get_num_threads() == caller_threads


def test_fit_restores_the_callers_threads_after_an_exception(caller_threads):
    model = _Spy()

    def failing_loss(y, t):
        raise RuntimeError("loss failed on purpose")

    with pytest.raises(RuntimeError, match="on purpose"):
        fit(model, _data(), failing_loss, epochs=1, progress=False)
    assert model.seen == [1]
    assert torch.get_num_threads() == caller_threads


def test_fit_restores_the_callers_threads_after_divergence(caller_threads):
    model = _Spy()
    with torch.no_grad():
        model.lin.weight.fill_(1e30)
    X, T = _data()
    with pytest.raises(FloatingPointError):
        fit(model, (X * 1e10, T), "mse", epochs=2, progress=False, threads=2)
    assert model.seen == [2]
    assert torch.get_num_threads() == caller_threads


@pytest.mark.parametrize("threads, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError),
                                            (True, TypeError), ("2", TypeError)])
def test_fit_refuses_bad_threads(threads, error):
    with pytest.raises(error, match="threads"):
        fit(_Spy(), _data(), "mse", epochs=1, progress=False, threads=threads)


def test_gan_fit_chooses_and_restores_threads(caller_threads):
    G, D = _Spy(2, 2), _Spy(2, 1)
    GAN(G, D).fit(np.zeros((8, 2), np.float32), epochs=1, batch_size=4, seed=0)
    assert set(G.seen) == set(D.seen) == {1}
    assert torch.get_num_threads() == caller_threads
    G.seen.clear()
    GAN(G, D).fit(np.zeros((8, 2), np.float32), epochs=1, batch_size=4, seed=0, threads=2)
    assert set(G.seen) == {2}
    assert torch.get_num_threads() == caller_threads


def test_adversarial_training_chooses_and_restores_threads(caller_threads):
    model = _Spy(4, 3)
    X = np.random.default_rng(0).uniform(size=(8, 4)).astype(np.float32)
    t = np.arange(8) % 3
    adversarial.adversarial_training(model, (X, t), epochs=1, eps=0.1, batch_size=4, seed=0)
    assert set(model.seen) == {1}
    assert torch.get_num_threads() == caller_threads
    model.seen.clear()
    adversarial.adversarial_training(model, (X, t), epochs=1, eps=0.1, batch_size=4, seed=0, threads=2)
    assert set(model.seen) == {2}
    assert torch.get_num_threads() == caller_threads

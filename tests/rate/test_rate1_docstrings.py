"""The Examples sections of the rate-model docstrings run and print what they show."""

import doctest
import importlib

import pytest

FAST = ["activations", "losses", "autodiff", "backprop", "datasets", "layers"]
SLOW = ["train", "demos"]  # their examples train small networks


def _run(name):
    module = importlib.import_module(f"spikenet.rate.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0


@pytest.mark.parametrize("name", FAST)
def test_docstring_examples_run(name):
    _run(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_training_docstring_examples_run(name):
    _run(name)

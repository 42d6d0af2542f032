"""Fixtures shared by the rate-model tests."""

import pytest

from spikenet.rate._digits_model import load_digits_data, softlif_classifier, train_classifier


@pytest.fixture(scope="session")
def digits_model():
    """A 64-128-10 SoftLIF classifier trained 10 epochs on the digits (a few seconds), and its data.

    Returns ``(model, (X_train, y_train, X_test, y_test))``; shared by every
    test module that converts or measures it, so it is trained once per run.
    """
    data = load_digits_data(seed=0)
    model = train_classifier(softlif_classifier(hidden=(128,), seed=0), data[0], data[1], epochs=10, seed=0)
    return model, data

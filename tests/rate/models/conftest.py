"""Fixtures for the architecture tests."""

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Train with one intra-op thread (the small models here gain nothing from more, and the
    shared CI cores are oversubscribed otherwise); the previous setting is restored after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)

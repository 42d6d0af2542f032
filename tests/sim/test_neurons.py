"""Neuron dataclasses: validation and closed forms."""

import numpy as np
import pytest

from spikenet.sim import HH, LIF


def test_lif_rate_matches_notes_formula_for_defaults():
    # Notes 1.4: G(J) = 1 / (tau_ref - tau_m ln(1 - 1/J)) for J > 1.
    J = np.array([0.5, 1.0, 1.5, 3.0, 10.0])
    expected = np.where(J > 1, 1 / (0.002 - 0.02 * np.log(1 - 1 / np.maximum(J, 1.0001))), 0.0)
    np.testing.assert_allclose(LIF().rate(J), expected, rtol=1e-12)


def test_lif_rate_general_threshold_and_reset():
    lif = LIF(tau_m=0.01, tau_ref=0.001, v_th=2.0, v_reset=-1.0)
    J = 3.0
    isi = 0.001 + 0.01 * np.log((J + 1.0) / (J - 2.0))
    assert lif.rate(J) == pytest.approx(1 / isi, rel=1e-12)
    assert lif.rate(1.5) == 0.0


@pytest.mark.parametrize("kwargs, name", [
    ({"tau_m": 0.0}, "tau_m"), ({"tau_m": -1.0}, "tau_m"), ({"tau_ref": -1e-3}, "tau_ref"),
    ({"tau_m": float("nan")}, "tau_m"), ({"v_th": 0.0, "v_reset": 0.5}, "v_reset"),
])
def test_lif_rejects_bad_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        LIF(**kwargs)


def test_lif_rejects_non_numbers():
    with pytest.raises(TypeError, match="tau_m"):
        LIF(tau_m="fast")


@pytest.mark.parametrize("kwargs, name", [({"c_m": 0.0}, "c_m"), ({"g_na": -1.0}, "g_na"),
                                          ({"v_init": float("inf")}, "v_init")])
def test_hh_rejects_bad_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        HH(**kwargs)

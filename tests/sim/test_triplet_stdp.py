"""Triplet STDP (Pfister & Gerstner 2006) under regular pairing: weight change versus pairing frequency.

Pre/post pairs with lag +10 ms or -10 ms repeated at frequency rho. For the
all-to-all triplet rule the traces reach a periodic steady state, where the
weight change per pairing has the closed form (geometric series of the traces)

    dw = r1 (A2+ + A3+ o2) - o1 (A2- + A3- r2),

with r1, o1 the fast traces at the post and pre spikes and o2, r2 the slow
traces just before them (each a sum exp(-lag / tau) / (1 - exp(-1/(rho tau)))).
The kernel's change over one late period must match it, and reproduce the
paper's frequency dependence (visual-cortex parameters): potentiation for
+10 ms rising with frequency; depression for -10 ms at low frequency that
turns into potentiation at 50 Hz.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from spikenet.sim import LIF, Delta, Network, TripletSTDP

DT = 1e-4
LAG = 0.010
SCALE = 1e-4  # amplitudes scaled down so that the plastic input leaves the post relay's spikes unchanged
PAPER = TripletSTDP()  # the all-to-all visual-cortex set


def steady_state_dw(rho, lag, p=PAPER):
    """Weight change per pairing in the periodic steady state (``lag = t_post - t_pre``)."""
    P = 1.0 / rho

    def geo(tau):
        return 1.0 / -np.expm1(-P / tau)

    a = abs(lag)
    if lag > 0:
        r1 = np.exp(-a / p.tau_plus) * geo(p.tau_plus)
        o1 = np.exp(-(P - a) / p.tau_minus) * geo(p.tau_minus)
    else:
        r1 = np.exp(-(P - a) / p.tau_plus) * geo(p.tau_plus)
        o1 = np.exp(-a / p.tau_minus) * geo(p.tau_minus)
    o2 = np.exp(-P / p.tau_y) * geo(p.tau_y)
    r2 = np.exp(-P / p.tau_x) * geo(p.tau_x)
    return r1 * (p.a2_plus + p.a3_plus * o2) - o1 * (p.a2_minus + p.a3_minus * r2)


def simulated_dw(rho, n_pairs):
    """Weight change over the last whole period of ``n_pairs`` pairings, for lags +10 ms and -10 ms."""
    P = 1.0 / rho
    t0 = 0.05
    steps = round((t0 + n_pairs * P) / DT)
    k = np.arange(n_pairs)
    raster_pre = np.zeros((steps, 2), bool)
    raster_post = np.zeros((steps, 2), bool)
    for col, lag in enumerate((LAG, -LAG)):
        # a relay spikes one step after its raster row; the pre spike arrives one step (the delay) later
        t_pre = t0 + k * P
        raster_pre[np.rint(t_pre / DT).astype(int) - 2, col] = True
        raster_post[np.rint((t_pre + lag) / DT).astype(int) - 1, col] = True
    net = Network(dt=DT)
    relay = LIF(tau_ref=0.0, v_reset=0.0)
    pre = net.add_population(2, relay, name="pre")
    post = net.add_population(2, relay, name="post")
    net.add_input(pre, spikes=raster_pre, weights=2.0 * np.eye(2), synapse=Delta())
    net.add_input(post, spikes=raster_post, weights=2.0 * np.eye(2), synapse=Delta())
    rule = TripletSTDP(a2_plus=SCALE * PAPER.a2_plus, a3_plus=SCALE * PAPER.a3_plus,
                       a2_minus=SCALE * PAPER.a2_minus, a3_minus=SCALE * PAPER.a3_minus, w_min=-1.0)
    conn = net.connect(pre, post, sp.csr_matrix(np.eye(2) * 1e-12), delay=DT, plasticity=rule)
    # weights every 5 ms (a divisor of every period)
    res = net.run(steps * DT, record={conn: "w"}, record_every=0.005)
    st = res.spike_times
    assert all(len(st["post"][c]) == n_pairs and len(st["pre"][c]) == n_pairs for c in range(2))
    w = res[conn, "w"]
    per = round(P / 0.005)
    out = []
    for col, after in ((0, 0.015), (1, 0.005)):
        # one whole period that ends just after the last pairing's later spike
        end = round((t0 + (n_pairs - 1) * P + after) / 0.005)
        out.append((w[end, col] - w[end - per, col]) / SCALE)
    return np.array(out)


@pytest.mark.parametrize("rho,n_pairs", [(1.0, 8), (10.0, 60), (20.0, 60), (40.0, 60), (50.0, 60)])
def test_weight_change_per_pairing_matches_steady_state_expression(rho, n_pairs):
    got = simulated_dw(rho, n_pairs)
    want = np.array([steady_state_dw(rho, LAG), steady_state_dw(rho, -LAG)])
    # the traces are at their steady state to ~exp(-60 P / tau_y) (1e-4 at 50 Hz)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-9)


def test_potentiation_rises_with_pairing_frequency_as_in_the_paper():
    rhos = [0.1, 1.0, 10.0, 20.0, 40.0, 50.0]
    ltp = [steady_state_dw(r, LAG) for r in rhos]
    ltd = [steady_state_dw(r, -LAG) for r in rhos]
    assert np.all(np.diff(ltp) > 0)
    assert abs(ltp[0]) < 1e-6 and ltd[0] < -1e-3  # low frequency: no LTP for +10 ms, LTD for -10 ms
    assert ltd[-1] > 0  # 50 Hz: both orders potentiate
    sim = [simulated_dw(r, 60 if r > 5 else 8)[0] for r in (1.0, 20.0, 50.0)]
    assert sim[0] < sim[1] < sim[2]

"""Connection rules: exact degrees and counts, autapses and multapses, uniformity, distributions, cost."""

import numpy as np
import pytest
from scipy import stats

from spikenet.sim import LIF, Network, PSCFilter
from spikenet.sim.connectivity import (
    Normal,
    Uniform,
    fixed_indegree,
    fixed_outdegree,
    fixed_total_number,
    pairwise_bernoulli,
)


def _pairs(s):
    return s.post * s.shape[1] + s.pre


@pytest.mark.parametrize("multapses", [True, False])
@pytest.mark.parametrize("autapses", [True, False])
def test_fixed_indegree_gives_every_target_exactly_k_synapses(multapses, autapses):
    s = fixed_indegree(300, 300, 40, autapses=autapses, multapses=multapses, seed=1)
    assert len(s) == 300 * 40
    np.testing.assert_array_equal(s.in_degrees(), 40)
    if not autapses:
        assert not np.any(s.pre == s.post)
    if not multapses:
        assert np.unique(_pairs(s)).size == len(s)
    # sources are uniform: out-degrees ~ Binomial(12000, 1/300) (chi-square at the 1e-4 level)
    out = s.out_degrees()
    chi2 = ((out - out.mean()) ** 2 / out.mean()).sum()
    assert stats.chi2.sf(chi2, 299) > 1e-4


@pytest.mark.parametrize("multapses", [True, False])
def test_fixed_outdegree_gives_every_source_exactly_k_synapses(multapses):
    s = fixed_outdegree(200, 500, 25, multapses=multapses, seed=2)
    np.testing.assert_array_equal(s.out_degrees(), 25)
    assert s.shape == (500, 200)
    if not multapses:
        assert np.unique(_pairs(s)).size == len(s)


def test_dense_draws_without_multapses_fill_rows_exactly():
    s = fixed_indegree(10, 10, 9, autapses=False, multapses=False, seed=3)
    W = s.to_sparse().toarray()
    np.testing.assert_array_equal(W, 1.0 - np.eye(10))  # every other neuron once
    with pytest.raises(ValueError, match="distinct"):
        fixed_indegree(10, 10, 10, autapses=False, multapses=False)


@pytest.mark.parametrize("multapses", [True, False])
@pytest.mark.parametrize("autapses", [True, False])
def test_fixed_total_number_is_exact_and_uniform_over_pairs(multapses, autapses):
    s = fixed_total_number(50, 50, 20000 if multapses else 1500, autapses=autapses, multapses=multapses,
                           seed=4)
    assert len(s) == (20000 if multapses else 1500)
    if not autapses:
        assert not np.any(s.pre == s.post)
    if not multapses:
        assert np.unique(_pairs(s)).size == len(s)
    # in-degrees of a uniform draw: multinomial, mean total / n_post
    deg = s.in_degrees()
    chi2 = ((deg - deg.mean()) ** 2 / deg.mean()).sum()
    assert stats.chi2.sf(chi2, 49) > 1e-4 if multapses else deg.sum() == 1500


def test_pairwise_bernoulli_count_follows_the_binomial_law():
    n, p = 400, 0.05
    counts = [len(pairwise_bernoulli(n, n, p, autapses=False, seed=s)) for s in range(20)]
    pairs = n * (n - 1)
    mean, sd = pairs * p, np.sqrt(pairs * p * (1 - p))
    assert abs(np.mean(counts) - mean) < 5 * sd / np.sqrt(20)
    assert 0.5 * sd < np.std(counts) < 2.0 * sd
    s = pairwise_bernoulli(n, n, p, autapses=False, seed=0)
    assert not np.any(s.pre == s.post) and np.unique(_pairs(s)).size == len(s)
    assert len(pairwise_bernoulli(5, 7, 1.0)) == 35 and len(pairwise_bernoulli(5, 7, 0.0)) == 0


def test_rules_cost_follows_the_synapses_not_the_pairs():
    # 1e6 x 1e6 pairs: any rule that touched every pair would not finish
    s = fixed_indegree(10**6, 10**6, 2, autapses=False, multapses=False, seed=5)
    assert len(s) == 2 * 10**6
    b = pairwise_bernoulli(10**6, 10**6, 1e-8, seed=6)
    assert 9000 < len(b) < 11000
    t = fixed_total_number(10**6, 10**6, 5000, multapses=False, seed=7)
    assert np.unique(_pairs(t)).size == 5000


def test_same_seed_same_synapses():
    a = fixed_indegree(100, 80, 5, weight=Normal(1.0, 0.5), delay=Uniform(0.001, 0.002), seed=11)
    b = fixed_indegree(100, 80, 5, weight=Normal(1.0, 0.5), delay=Uniform(0.001, 0.002), seed=11)
    for x, y in ((a.pre, b.pre), (a.post, b.post), (a.weight, b.weight), (a.delay, b.delay)):
        np.testing.assert_array_equal(x, y)
    c = fixed_indegree(100, 80, 5, seed=12)
    assert not np.array_equal(a.pre, c.pre)


def test_bounded_normal_weights_follow_the_truncated_normal_law():
    s = fixed_total_number(1000, 1000, 200000, weight=Normal(0.1, 0.1, low=0.0), seed=8)
    assert s.weight.min() >= 0.0
    ref = stats.truncnorm(-1.0, np.inf, loc=0.1, scale=0.1)  # (low - mean) / std = -1
    assert abs(s.weight.mean() - ref.mean()) < 5 * ref.std() / np.sqrt(len(s))
    assert stats.kstest(s.weight, ref.cdf).pvalue > 1e-4
    clipped = Normal(-0.4, 0.2, high=0.0, bound="clip").sample(np.random.default_rng(0), 100000)
    assert clipped.max() == 0.0
    assert abs(np.mean(clipped == 0.0) - stats.norm.sf(2.0)) < 0.005  # P(x > 0) = P(z > 2)


def test_synapse_lists_drive_a_network_through_their_weight_matrix():
    s = fixed_indegree(200, 100, 20, weight=0.05, seed=9)
    W = s.to_sparse()
    assert W.shape == (100, 200)
    np.testing.assert_allclose(np.asarray(W.sum(axis=1)).ravel(), 20 * 0.05)  # multapses add up
    net = Network(dt=1e-4)
    pre = net.add_population(200, LIF(), bias=2.0, name="pre")
    post = net.add_population(100, LIF(), name="post")
    net.connect(pre, post, W, synapse=PSCFilter(0.005))
    res = net.run(0.2, record={"post": "I_syn"})
    # the identical pre neurons fire together: every post neuron gets 20 x 0.05 of charge per volley
    current = res["post", "I_syn"]
    assert current.max() > 0
    np.testing.assert_allclose(current, np.broadcast_to(current[:, :1], current.shape), rtol=1e-12)


@pytest.mark.parametrize("call, err, word", [
    (lambda: fixed_indegree(0, 5, 1), ValueError, "n_pre"),
    (lambda: fixed_indegree(5, 5, -1), ValueError, "indegree"),
    (lambda: fixed_indegree(5, 5, 1.5), TypeError, "indegree"),
    (lambda: fixed_indegree(5, 6, 1, autapses=False), ValueError, "autapses"),
    (lambda: pairwise_bernoulli(5, 5, 1.5), ValueError, "p"),
    (lambda: fixed_total_number(3, 3, 10, multapses=False), ValueError, "n_synapses"),
    (lambda: fixed_indegree(5, 5, 2, weight=[1.0, 2.0]), ValueError, "weight"),
    (lambda: fixed_indegree(5, 5, 2, delay=-0.001), ValueError, "delay"),
    (lambda: Normal(0.0, -1.0), ValueError, "std"),
    (lambda: Normal(0.0, 1.0, low=1.0, high=0.0), ValueError, "low"),
    (lambda: Uniform(1.0, 1.0), ValueError, "low"),
])
def test_bad_arguments_are_named(call, err, word):
    with pytest.raises(err, match=word):
        call()

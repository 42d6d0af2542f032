"""The plastic CUBA benchmark case: its name, parsing and which simulators run it."""

from benchmarks import __main__ as bm
from benchmarks import cases as C


def test_cuba_stdp_case_is_named_parsed_and_in_the_full_set():
    (case,) = bm._parse_cases("cuba-4000-stdp", smoke=False)
    assert (case.kind, case.n, case.T, case.dt) == ("cuba_stdp", 4000, 1.0, 1e-4)
    assert case.name == "cuba-4000-stdp"
    assert "cuba-4000-stdp" in [c.name for c in C.FULL_CASES]
    assert [c.name for c in bm._parse_cases("cuba-4000", smoke=False)] == ["cuba-4000"]


def test_cuba_stdp_runs_spikenet_on_one_thread_and_brian2():
    case = C.make_case("cuba_stdp", 4000)
    assert C.applies(C.Sim("spikenet", 1), case)
    assert not C.applies(C.Sim("spikenet", 2), case)  # plastic networks are not split over threads
    assert C.applies(C.Sim("brian2", 1, mode="standalone"), case)
    assert C.applies(C.Sim("brian2", 1, mode="cython"), case)
    assert not C.applies(C.Sim("nest", 1), case)
    assert case.kind in C.KINDS

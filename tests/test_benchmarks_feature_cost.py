"""A network runs the same machine code as an engine without the optional features it does not use."""

import ast

import pytest

from benchmarks.feature_cost import _SOURCE, FEATURES, compare, stripped_source


def test_stripping_replaces_feature_blocks_by_their_else_part():
    src = ("def f(x, plast, stp, gen):\n"
           "    if plast is not None:\n        x += 1\n"
           "    if stp is not None:\n        x += 2\n    else:\n        x -= 3\n"
           "    if gen is not None and x > -100:\n        x += 100\n    elif x < 0:\n        x += 10\n"
           "    if x is not None:\n        x += 4\n"
           "    return x\n")
    lean, removed = stripped_source(src, ("plast", "stp", "gen"))
    ns = {}
    exec(lean, ns)
    assert removed == 3
    assert ns["f"](0, "rule", "rule", "gen") == 11  # -3, then the elif's +10, then +4: feature code gone


@pytest.mark.parametrize("feature", FEATURES)
def test_the_kernel_reads_each_feature_only_behind_a_none_test(feature):
    # With the feature's blocks removed, _run_copy only passes the argument on
    # to other calls: no statement outside `if X is not None` reads it.
    lean, removed = stripped_source(_SOURCE.read_text(), (feature,))
    assert removed >= 1
    run_copy = next(n for n in ast.walk(ast.parse(lean))
                    if isinstance(n, ast.FunctionDef) and n.name == "_run_copy")
    parent = {c: n for n in ast.walk(run_copy) for c in ast.iter_child_nodes(n)}
    uses = [n for n in ast.walk(run_copy) if isinstance(n, ast.Name) and n.id == feature]
    for n in uses:
        assert isinstance(parent[n], ast.Call) and n in parent[n].args, (
            f"line {n.lineno}: {feature} read outside an `if {feature} is not None` block")


@pytest.mark.slow
def test_kernel_without_the_features_compiles_to_the_same_assembly():
    res = compare(n=400, features=FEATURES)
    assert res["no_feature"]["equal"], res
    assert not res["stdp"]["equal"], res  # the comparison sees the plasticity code when it is used

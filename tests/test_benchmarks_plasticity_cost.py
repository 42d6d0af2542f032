"""A network without plasticity runs the same machine code as an engine without plasticity code."""

import ast

import pytest

from benchmarks.plasticity_cost import _SOURCE, compare, stripped_source


def test_stripping_replaces_plasticity_blocks_by_their_else_part():
    src = ("def f(x, plast, stp):\n"
           "    if plast is not None:\n        x += 1\n"
           "    if stp is not None:\n        x += 2\n    else:\n        x -= 3\n"
           "    if x is not None:\n        x += 4\n"
           "    return x\n")
    lean, removed = stripped_source(src)
    ns = {}
    exec(lean, ns)
    assert removed == 2
    assert ns["f"](0, "rule", "rule") == 1  # -3 + 4: the plasticity increments are gone, the rest kept


def test_every_plasticity_statement_of_the_kernel_is_behind_a_none_test():
    # After the blocks are removed, the plasticity arguments only pass through
    # to _run_copy: no statement outside an `if plast/stp is not None` reads them.
    lean, removed = stripped_source(_SOURCE.read_text())
    assert removed >= 2
    tree = ast.parse(lean)
    parent = {c: n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
    uses = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in ("plast", "stp")]
    assert uses, "the kernel no longer passes the plasticity arguments: update this check"
    for n in uses:
        p = parent[n]
        assert isinstance(p, ast.Call) and getattr(p.func, "id", None) == "_run_copy", (
            f"line {n.lineno}: {n.id} read outside an `if {n.id} is not None` block")


@pytest.mark.slow
def test_kernel_without_plastic_connections_compiles_to_the_same_assembly():
    res = compare(n=400)
    assert res["no_plasticity"]["equal"], res
    assert not res["stdp"]["equal"], res  # the comparison sees the plasticity code when it is used

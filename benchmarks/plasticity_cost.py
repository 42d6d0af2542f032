"""What a network without plasticity pays for the engine's plasticity code: its machine code, compared.

``python -m benchmarks.plasticity_cost`` compiles the network kernel
(``_run_copy`` of :mod:`spikenet.sim.kernels.network`) twice for the
argument types of a network without plastic connections (CUBA by default):
once from the kernel's source as it is, once from the same source with every
plasticity statement deleted (each ``if plast is not None:`` and
``if stp is not None:`` block replaced by its ``else`` part). Both are
compiled in this process (their Numba caches start empty, beside the
temporary module files), from module files of
the same name length, and their assembly is compared after the symbol names
are replaced by a placeholder. Equal assembly means a network without
plasticity runs the very instructions it would run if spike-timing and
short-term plasticity did not exist in the engine: it pays nothing at run
time, which a timing cannot resolve to better than a few per cent on a
shared machine.

As a check that the comparison can see a difference, the same two sources
are also compiled for a network whose excitatory connections carry STDP:
there the assemblies must differ.

The result is printed and written as JSON to ``--out``; the exit status is 0
when the non-plastic assemblies are equal and the plastic ones differ.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import re
import sys
import tempfile
from pathlib import Path

_SOURCE = Path(__file__).resolve().parents[1] / "spikenet" / "sim" / "kernels" / "network.py"
_FEATURES = ("plast", "stp")
_SYMBOL = re.compile(r"_ZN[0-9A-Za-z_$.]+|\b(?:kern_[ab])\b")


class _DropFeature(ast.NodeTransformer):
    """Replace every ``if NAME is not None:`` statement (NAME a plasticity argument) by its ``else`` part."""

    def __init__(self):
        self.removed = 0

    def visit_If(self, node):
        self.generic_visit(node)
        t = node.test
        if (isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id in _FEATURES
                and len(t.ops) == 1 and isinstance(t.ops[0], ast.IsNot)
                and isinstance(t.comparators[0], ast.Constant) and t.comparators[0].value is None):
            self.removed += 1
            return node.orelse or [ast.Pass()]
        return node


def stripped_source(src: str) -> tuple[str, int]:
    """The kernel source without its plasticity statements, and how many ``if`` blocks were removed."""
    tree = ast.parse(src)
    tr = _DropFeature()
    tree = ast.fix_missing_locations(tr.visit(tree))
    return ast.unparse(tree), tr.removed


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _capture_args(stdp: bool, n: int):
    """Arguments the network passes to ``run_network`` for the benchmark CUBA (``stdp``: plastic E->E)."""
    import spikenet.sim as sn
    import spikenet.sim.kernels.network as kn
    from benchmarks.run_spikenet import build_cuba

    captured = {}
    real = kn.run_network

    def grab(*args):
        captured["args"] = args
        return real(*args)

    kn.run_network = grab
    try:
        net, _, _ = build_cuba(sn, n, 1e-4, 0, "float64", stdp)
        net.run(2e-3)
    finally:
        kn.run_network = real
    return captured["args"]


def _asm(mod, sig) -> list[str]:
    mod._run_copy.compile(sig)
    text = mod._run_copy.inspect_asm(sig)
    lines = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith((".file", ".ident", ".section", "#", ".loc", ".cfi")):
            continue
        lines.append(_SYMBOL.sub("SYM", s))
    return lines


def compare(n: int = 4000) -> dict:
    """Compile both sources for a non-plastic and a plastic CUBA network; return the comparison."""
    saved = os.environ.get("SPIKENET_AOT_DIR")
    os.environ["SPIKENET_AOT_DIR"] = ""  # the Numba kernel, not the ahead-of-time module
    try:
        return _compare(n)
    finally:
        if saved is None:
            del os.environ["SPIKENET_AOT_DIR"]
        else:
            os.environ["SPIKENET_AOT_DIR"] = saved


def _compare(n: int) -> dict:
    from numba import typeof

    src = _SOURCE.read_text()
    lean, removed = stripped_source(src)
    out = {"source": str(_SOURCE), "removed_if_blocks": removed, "n": n}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kern_a.py").write_text(src)
        (Path(tmp) / "kern_b.py").write_text(lean)
        full = _load(Path(tmp) / "kern_a.py", "kern_a")
        bare = _load(Path(tmp) / "kern_b.py", "kern_b")
        for label, stdp in (("no_plasticity", False), ("stdp", True)):
            args = _capture_args(stdp, n)
            sig = tuple(typeof(a) for a in (0, 0, *args))
            a, b = _asm(full, sig), _asm(bare, sig)
            diff = sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))
            out[label] = {"lines_with_plasticity_code": len(a), "lines_without": len(b),
                          "differing_lines": diff, "equal": a == b}
    out["pays_nothing"] = out["no_plasticity"]["equal"] and not out["stdp"]["equal"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000, help="CUBA network size")
    ap.add_argument("--out", default="benchmarks/output/plasticity_cost.json")
    a = ap.parse_args(argv)
    res = compare(a.n)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2))
    for k in ("no_plasticity", "stdp"):
        r = res[k]
        print(f"{k:14s} assembly lines {r['lines_with_plasticity_code']} (source as is) vs "
              f"{r['lines_without']} (plasticity deleted): {'equal' if r['equal'] else 'different'} "
              f"({r['differing_lines']} lines differ)")
    print(f"removed {res['removed_if_blocks']} plasticity blocks; a network without plasticity "
          f"{'pays nothing' if res['pays_nothing'] else 'PAYS for the plasticity code'}")
    print(f"wrote {a.out}")
    return 0 if res["pays_nothing"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

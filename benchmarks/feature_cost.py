"""What a network pays for engine features it does not use: its machine code, compared.

``python -m benchmarks.feature_cost`` compiles the network kernel
(``_run_copy`` of :mod:`spikenet.sim.kernels.network`) twice for the
argument types of the CUBA network, which uses none of the optional
features: once from the kernel's source as it is, once from the same source
with every statement of the chosen features deleted (each
``if X is not None ...:`` block, ``X`` one of the feature arguments, replaced
by its ``else`` part; by default ``plast`` and ``stp``, the plasticity rules;
``gen`` covers per-neuron parameters and NeuronModel populations, ``inp``
Poisson inputs and noise, ``cond`` conductances). Both are
compiled in this process (their Numba caches start empty, beside the
temporary module files), from module files of
the same name length, and their assembly is compared after the symbol names
are replaced by a placeholder. Equal assembly means a network without
plasticity runs the very instructions it would run if spike-timing and
short-term plasticity did not exist in the engine: it pays nothing at run
time, which a timing cannot resolve to better than a few per cent on a
shared machine. The same holds for each other feature given.

As a check that the comparison can see a difference, the same two sources
are also compiled for the CUBA network with STDP on its excitatory
connections when plasticity is among the features (there the assemblies
must differ).

The result is printed and written as JSON to ``--out``; the exit status is 0
when the assemblies for CUBA are equal (and the plastic ones differ).
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
PLASTICITY = ("plast", "stp")
FEATURES = ("plast", "stp", "gen", "inp", "cond")
_SYMBOL = re.compile(r"_ZN[0-9A-Za-z_$.]+|\b(?:kern_[ab])\b")


class _DropFeature(ast.NodeTransformer):
    """Replace every ``if X is not None [and ...]:`` statement (X a feature argument) by its ``else`` part."""

    def __init__(self, features):
        self.features = tuple(features)
        self.removed = 0

    def _is_feature_test(self, t):
        if isinstance(t, ast.BoolOp) and isinstance(t.op, ast.And):
            return self._is_feature_test(t.values[0])  # X is None makes the whole `and` false
        return (isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id in self.features
                and len(t.ops) == 1 and isinstance(t.ops[0], ast.IsNot)
                and isinstance(t.comparators[0], ast.Constant) and t.comparators[0].value is None)

    def visit_If(self, node):
        self.generic_visit(node)
        if self._is_feature_test(node.test):
            self.removed += 1
            return node.orelse or [ast.Pass()]
        return node


def stripped_source(src: str, features=PLASTICITY) -> tuple[str, int]:
    """The kernel source without the statements of ``features``, and how many ``if`` blocks were removed."""
    tree = ast.parse(src)
    tr = _DropFeature(features)
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


def compare(n: int = 4000, features=PLASTICITY) -> dict:
    """Compile both sources for CUBA (and for CUBA with STDP if ``plast`` is a feature); the comparison."""
    saved = os.environ.get("SPIKENET_AOT_DIR")
    os.environ["SPIKENET_AOT_DIR"] = ""  # the Numba kernel, not the ahead-of-time module
    try:
        return _compare(n, tuple(features))
    finally:
        if saved is None:
            del os.environ["SPIKENET_AOT_DIR"]
        else:
            os.environ["SPIKENET_AOT_DIR"] = saved


def _compare(n: int, features: tuple) -> dict:
    from numba import typeof

    src = _SOURCE.read_text()
    lean, removed = stripped_source(src, features)
    out = {"source": str(_SOURCE), "features": list(features), "removed_if_blocks": removed, "n": n}
    cases = [("no_feature", False)] + ([("stdp", True)] if "plast" in features else [])
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "kern_a.py").write_text(src)
        (Path(tmp) / "kern_b.py").write_text(lean)
        full = _load(Path(tmp) / "kern_a.py", "kern_a")
        bare = _load(Path(tmp) / "kern_b.py", "kern_b")
        for label, stdp in cases:
            args = _capture_args(stdp, n)
            sig = tuple(typeof(a) for a in (0, 0, *args))
            a, b = _asm(full, sig), _asm(bare, sig)
            diff = sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))
            out[label] = {"lines_with_plasticity_code": len(a), "lines_without": len(b),
                          "differing_lines": diff, "equal": a == b}
    out["pays_nothing"] = out["no_feature"]["equal"] and not out.get("stdp", {"equal": False})["equal"]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4000, help="CUBA network size")
    ap.add_argument("--features", default=",".join(PLASTICITY),
                    help=f"comma-separated feature arguments to delete, of {','.join(FEATURES)}")
    ap.add_argument("--out", default="benchmarks/output/feature_cost.json")
    a = ap.parse_args(argv)
    features = tuple(f for f in a.features.split(",") if f)
    bad = [f for f in features if f not in FEATURES]
    if bad or not features:
        ap.error(f"--features: choose from {', '.join(FEATURES)}; got {a.features!r}")
    res = compare(a.n, features)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2))
    for k in ("no_feature", "stdp"):
        if k not in res:
            continue
        r = res[k]
        print(f"{k:14s} assembly lines {r['lines_with_plasticity_code']} (source as is) vs "
              f"{r['lines_without']} (features deleted): {'equal' if r['equal'] else 'different'} "
              f"({r['differing_lines']} lines differ)")
    print(f"removed {res['removed_if_blocks']} blocks of {', '.join(features)}; a network without them "
          f"{'pays nothing' if res['pays_nothing'] else 'PAYS for their code'}")
    print(f"wrote {a.out}")
    return 0 if res["pays_nothing"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""The bridge's peers: snnTorch and SpikingJelly on the digits benchmark, each in its own venv.

Every peer runs in a virtual environment of its own with the CPU build
``torch==2.13.0`` (created by ``setup_venvs.sh`` when missing), in a fresh
process, on the split ``spikenet.rate.datasets.digits(seed=0)`` written to an
``.npz`` file, and is measured as spikenet's bridge is: the whole test set as
one batch, accuracy at each step count (1 ms steps), images per second at
each torch thread count (median of repeated runs after a warm-up).

Entry points
------------
``run(case, steps, threads)``
    One peer; returns a dict (see :func:`run`). ``case`` is one of
    :data:`PEERS`.
``python -m benchmarks.bridge_peers``
    Both peers, a table on stdout, optionally the raw results as JSON.

Accuracies are valid on a loaded machine; images/s only on a quiet one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: peer name -> runner script (run with the peer venv's python)
PEERS = {"snntorch": "run_snntorch.py", "spikingjelly": "run_spikingjelly.py"}
#: every runner: the peers plus spikenet's converted network (run with this python)
RUNNERS = {"spikenet": "run_spikenet.py", **PEERS}
#: the repository root (spikenet's runner imports this checkout's spikenet)
REPO = HERE.parent.parent
#: the runners print their result on one line after this prefix (see _peer_common.py)
RESULT_PREFIX = "BRIDGE_PEER_RESULT "
DEFAULT_STEPS = (5, 10, 25, 200)
DEFAULT_THREADS = (1, 2)


class PeerUnavailable(RuntimeError):
    """A peer's venv is missing and could not be created (e.g. no network)."""


def venv_root() -> Path:
    """Where the peers' venvs live: ``$SPIKENET_PEER_VENVS``, else ``~/.cache/spikenet/bridge_peers``."""
    env = os.environ.get("SPIKENET_PEER_VENVS")
    return Path(env) if env else Path.home() / ".cache" / "spikenet" / "bridge_peers"


def peer_python(case, root=None) -> Path:
    """Path of the python of ``case``'s venv (which may not exist yet)."""
    _check_case(case)
    return Path(root or venv_root()) / case / "bin" / "python"


def ensure_venvs(root=None, timeout=1800) -> Path:
    """Create the peers' venvs with ``setup_venvs.sh`` unless they work already.

    Returns the venv root; raises :class:`PeerUnavailable` with the script's
    output when it fails (no network, no disk space...).
    """
    root = Path(root or venv_root())
    try:
        proc = subprocess.run(["bash", str(HERE / "setup_venvs.sh"), str(root)], capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PeerUnavailable(f"setup_venvs.sh did not finish in {timeout} s") from exc
    if proc.returncode != 0:
        raise PeerUnavailable(f"setup_venvs.sh failed ({proc.returncode}):\n{proc.stdout[-2000:]}"
                              f"{proc.stderr[-2000:]}")
    return root


def write_digits(path) -> Path:
    """Write the benchmark's digits split (``datasets.digits(seed=0)``) to ``path`` as an ``.npz``."""
    import numpy as np

    from spikenet.rate import datasets

    X_train, y_train, X_test, y_test = datasets.digits(seed=0)
    np.savez(path, X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)
    return Path(path)


def parse_result(text) -> dict:
    """The result line of a runner's output, with step and thread keys as ints.

    Returns ``{"accuracy": {steps: float}, "images_per_s": {threads: {steps:
    float}}, "seconds": {threads: {steps: float}}, ...}`` plus the runner's
    other fields (library, version, ...). Raises ``ValueError`` when the
    output holds no result line.
    """
    lines = [ln for ln in text.splitlines() if ln.startswith(RESULT_PREFIX)]
    if not lines:
        raise ValueError("no result line in the runner's output:\n" + text[-2000:])
    raw = json.loads(lines[-1][len(RESULT_PREFIX):])
    out = dict(raw)
    out["accuracy"] = {int(s): float(a) for s, a in raw["accuracy"].items()}
    for key in ("images_per_s", "seconds"):
        out[key] = {int(t): {int(s): float(v) for s, v in per.items()} for t, per in raw.get(key, {}).items()}
    if "thread_settings" in raw:
        out["thread_settings"] = {int(t): v for t, v in raw["thread_settings"].items()}
    return out


def _as_list(name, value):
    vals = [value] if isinstance(value, int) else list(value)
    if not vals or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in vals):
        raise ValueError(f"{name} must be a positive int or a sequence of them, got {value!r}")
    return vals


def _check_case(case, allowed=PEERS):
    if case not in allowed:
        raise ValueError(f"case must be one of {sorted(allowed)}, got {case!r}")


def run(case, steps=DEFAULT_STEPS, threads=DEFAULT_THREADS, *, epochs=None, repeats=5, root=None, setup=True,
        timeout=3600, hidden=None) -> dict:
    """Train and measure one peer in its venv, in a fresh process.

    Parameters
    ----------
    case : {"snntorch", "spikingjelly", "spikenet"}
        The peer, or ``"spikenet"``: spikenet's converted network, run by
        this python with this checkout on ``PYTHONPATH`` and
        ``NUMBA_NUM_THREADS`` = the largest thread count.
    steps : int or sequence of int
        Step counts (1 ms steps) at which accuracy and images/s are measured.
    threads : int or sequence of int
        torch thread counts for the images/s.
    epochs : int, optional
        Training epochs (default: the runner's, 60 for snnTorch, 200 for the
        ReLU net SpikingJelly converts, 30 for spikenet's SoftLIF net).
    repeats : int
        Timed runs per (threads, steps); the median is kept.
    root : path, optional
        Venv root (default :func:`venv_root`).
    setup : bool
        Create the venvs when missing (else raise :class:`PeerUnavailable`).
    timeout : float
        Seconds allowed to the runner.
    hidden : int, optional
        Hidden units (default: the runner's, 64).

    Returns
    -------
    dict
        ``accuracy`` {steps: fraction}, ``images_per_s`` {threads: {steps:
        images/s}}, ``seconds`` (the medians behind them), ``library``,
        ``version``, ``torch``, ``epochs``, ``n_test``, ``hidden`` and
        ``thread_settings`` {threads: torch, BLAS (and for spikenet Numba)
        thread settings while timing}.
    """
    _check_case(case, RUNNERS)
    steps = _as_list("steps", steps)
    threads = _as_list("threads", threads)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    if case == "spikenet":
        python = Path(sys.executable)
        env.update(PYTHONPATH=str(REPO), NUMBA_NUM_THREADS=str(max(threads)))
    else:
        python = peer_python(case, root)
    if not python.exists():
        if not setup:
            raise PeerUnavailable(f"no venv for {case} at {python.parent.parent}; "
                                  f"run {HERE / 'setup_venvs.sh'}")
        ensure_venvs(root)
    with tempfile.TemporaryDirectory() as tmp:
        data = write_digits(Path(tmp) / "digits.npz")
        cmd = [str(python), str(HERE / RUNNERS[case]), "--data", str(data),
               "--steps", ",".join(map(str, steps)), "--threads", ",".join(map(str, threads)),
               "--repeats", str(repeats)]
        if epochs is not None:
            cmd += ["--epochs", str(int(epochs))]
        if hidden is not None:
            cmd += ["--hidden", str(int(hidden))]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=str(HERE), env=env,
                              check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{case} runner failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return parse_result(proc.stdout)


def accuracy_table(results, steps=DEFAULT_STEPS) -> str:
    """A markdown table of accuracy (%) per step count, one row per result (``{name: run(...)}``)."""
    head = "| library | " + " | ".join(f"{s} steps" for s in steps) + " |"
    rule = "|---|" + "---|" * len(steps)
    rows = [head, rule]
    for name, res in results.items():
        cells = [f"{100 * res['accuracy'][s]:.1f} %" if s in res["accuracy"] else "-" for s in steps]
        rows.append(f"| {name} {res.get('version', '')}".rstrip() + " | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv=None):
    """``python -m benchmarks.bridge_peers``: run the peers and print their accuracy and speed."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m benchmarks.bridge_peers", description=__doc__.splitlines()[0])
    p.add_argument("--cases", default=",".join(PEERS), help="comma-separated peers (default: all)")
    p.add_argument("--steps", default=",".join(map(str, DEFAULT_STEPS)))
    p.add_argument("--threads", default=",".join(map(str, DEFAULT_THREADS)))
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", default=None, help="write the raw results to this file")
    args = p.parse_args(argv)
    steps = [int(s) for s in args.steps.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    results = {}
    for case in args.cases.split(","):
        results[case] = run(case, steps, threads, epochs=args.epochs, repeats=args.repeats)
    print(accuracy_table(results, steps))
    for case, res in results.items():
        for t, per in res["images_per_s"].items():
            speeds = ", ".join(f"{s} steps: {v:,.0f}" for s, v in per.items())
            print(f"{case} images/s at {t} thread(s): {speeds}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``spikenet`` command line: ``spikenet demo``, ``spikenet bench`` and ``spikenet aot``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Shown by --help: plain text (the module docstring above is reStructuredText).
DESCRIPTION = ("Spiking and rate neural networks from Python. Commands: 'demo' (a guided tour), "
               "'bench' (benchmarks against Brian2 and NEST) and 'aot' (compile the network kernel "
               "ahead of time).")

COMPILE_NOTICE = ("spikenet: compiling the simulation kernels once (about 20 s; later runs start "
                  "fast)...")


def kernel_cache_is_empty() -> bool:
    """Whether no Numba kernel of :mod:`spikenet.sim` has a usable compiled copy on disk.

    Every kernel module under ``spikenet.sim.kernels`` is imported and each
    cached Numba dispatcher's cache index is read where Numba itself reads
    it (next to the source, or under ``NUMBA_CACHE_DIR``). An index written
    for another version of the source or of Numba counts as empty, as it
    does for Numba. Compiling nothing, this takes well under a second.

    Returns
    -------
    bool
        True when no kernel has a current cache entry (a first run compiles
        them all); False when at least one has, or when the cache cannot be
        inspected (then nothing is announced).
    """
    import importlib
    import pkgutil

    try:
        from numba.core.dispatcher import Dispatcher

        import spikenet.sim.kernels as kernels

        seen = False
        for info in pkgutil.iter_modules(kernels.__path__):
            module = importlib.import_module(f"{kernels.__name__}.{info.name}")
            for obj in vars(module).values():
                cache_file = getattr(getattr(obj, "_cache", None), "_cache_file", None)
                if not isinstance(obj, Dispatcher) or cache_file is None:
                    continue
                seen = True
                if cache_file._load_index():
                    return False
        return seen
    except Exception:  # a notice is never worth a crash
        return False


def _announce_compilation() -> None:
    if kernel_cache_is_empty():
        print(COMPILE_NOTICE, file=sys.stderr, flush=True)


def _version() -> str:
    from spikenet import __version__

    return f"spikenet {__version__}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spikenet`` console script.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Process exit status.
    """
    parser = argparse.ArgumentParser(prog="spikenet", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="a guided tour that simulates, plots and prints a summary")
    demo.add_argument("--out", type=Path, default=Path("spikenet-demo"),
                      help="folder for the figures (default: ./spikenet-demo)")
    demo.add_argument("--quick", action="store_true", help="smaller sizes (used by the tests)")

    bench = sub.add_parser("bench", help="run the benchmark suite against Brian2 (and NEST); "
                                         "'spikenet bench --help' lists its options")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER,
                       help="arguments passed on to 'python -m benchmarks'")

    aot = sub.add_parser("aot", help="compile the network kernel ahead of time for common LIF "
                                     "network configurations, so that their runs start without Numba")
    aot.add_argument("--out", type=Path, default=None,
                     help="folder of the compiled module (default: $SPIKENET_AOT_DIR, else "
                          "spikenet/sim/kernels/__pycache__/aot)")
    aot.add_argument("--dtypes", default="float64,float32",
                     help="state dtypes to cover, comma-separated (default: float64,float32)")

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bench"]:
        # every option after 'bench' (including --help) belongs to the benchmark runner
        args = argparse.Namespace(command="bench", bench_args=argv[1:])
    else:
        args = parser.parse_args(argv)
    if args.command == "demo":
        from spikenet.demo import run_demo

        _announce_compilation()
        run_demo(args.out, quick=args.quick)
        return 0
    if args.command == "aot":
        import time

        from spikenet.sim import aot as aot_module

        dtypes = tuple(d.strip() for d in args.dtypes.split(",") if d.strip())
        t0 = time.perf_counter()
        try:
            folder = aot_module.build_common(args.out, dtypes)
        except ValueError as exc:
            print(f"spikenet aot: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:  # e.g. a read-only installation folder
            print(f"spikenet aot: {exc}; choose a writable folder with --out or "
                  f"${aot_module.ENV_VAR}", file=sys.stderr)
            return 2
        print(f"compiled network kernel written to {folder} in {time.perf_counter() - t0:.0f} s")
        return 0
    if args.command == "bench":
        # benchmarks/ sits next to the package in a source checkout; a console
        # script does not put the working directory on sys.path, so add the root.
        root = Path(__file__).resolve().parent.parent
        if (root / "benchmarks" / "__main__.py").is_file() and str(root) not in sys.path:
            sys.path.insert(0, str(root))
        try:
            from benchmarks.__main__ import main as bench_main
        except ImportError:
            print("spikenet bench runs from a source checkout: the benchmarks/ folder "
                  "must be importable (run it from the repository root).", file=sys.stderr)
            return 2
        if not {"-h", "--help"} & set(args.bench_args):
            _announce_compilation()
        return bench_main(args.bench_args)
    return 2  # pragma: no cover - argparse enforces the choices


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

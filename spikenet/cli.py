"""The ``spikenet`` command line: ``spikenet demo``, ``spikenet bench`` and ``spikenet aot``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


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
    parser = argparse.ArgumentParser(prog="spikenet", description=__doc__)
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
        return bench_main(args.bench_args)
    return 2  # pragma: no cover - argparse enforces the choices


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

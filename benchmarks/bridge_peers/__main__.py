"""``python -m benchmarks.bridge_peers``: see :mod:`benchmarks.bridge_peers`."""

import sys

from benchmarks.bridge_peers import main

sys.exit(main())

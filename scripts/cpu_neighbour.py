"""A bursty CPU neighbour for robustness runs of the live tests on a shared machine.

Busy 50-400 ms, then idle 0-300 ms, at random, for the given seconds. Start one per core,
``for k in 1 2; do python3 scripts/cpu_neighbour.py 100 & done``, then run the test.
"""

from __future__ import annotations

import random
import sys
import time


def main(seconds: float) -> None:
    end = time.monotonic() + seconds
    rnd = random.Random()
    while time.monotonic() < end:
        busy_until = time.monotonic() + rnd.uniform(0.05, 0.4)
        while time.monotonic() < busy_until:
            pass
        time.sleep(rnd.uniform(0.0, 0.3))


if __name__ == "__main__":
    main(float(sys.argv[1]))

"""How long the disk takes to make a commit durable: fdatasync of one 8 kB write, as PostgreSQL's WAL does.

    python benchmarks/fsync.py [--dir /var/lib/postgresql] [--seconds 8]

Every COMMIT waits for one (synchronous_commit, which the bot keeps: an update answered 200 must survive a
crash), so a stall here stalls every turn that commits meanwhile; the p99 of the webhook at a fixed rate cannot
be lower than what the tail of this shows. Prints p50, p99, p99.9, max and the count over 10 ms.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=None, help="a folder on the disk to test (default: the temp folder)")
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    latencies = []
    with tempfile.NamedTemporaryFile(dir=args.dir) as handle:
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            os.pwrite(handle.fileno(), b"x" * 8192, 0)
            started = time.perf_counter()
            os.fdatasync(handle.fileno())
            latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    n = len(latencies)
    print(f"fdatasync of 8 kB in {args.dir or tempfile.gettempdir()}: {n:,} in {args.seconds:.0f} s; "
          f"p50 {latencies[n // 2]:.2f} ms, p99 {latencies[int(n * 0.99)]:.2f} ms, "
          f"p99.9 {latencies[int(n * 0.999)]:.2f} ms, max {latencies[-1]:.1f} ms; "
          f"over 10 ms: {sum(1 for x in latencies if x > 10)}")


if __name__ == "__main__":
    main()

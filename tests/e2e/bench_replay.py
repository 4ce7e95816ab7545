"""Replay cost of `gort report` against a recording's length: synthetic recordings of one process
doing one GC per second (two STW pauses) for 1 hour to 4 days, CPU time and max RSS of each report.
Linear replay keeps CPU/GC roughly constant across lengths. Usage: python3 bench_replay.py"""

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gortlib  # noqa: E402
import synthetic_recording  # noqa: E402
from test_hostile import run_rusage  # noqa: E402


def main():
    d = tempfile.mkdtemp(prefix="gort-bench-replay-")
    try:
        print("%10s %10s %10s %12s %12s" % ("seconds", "file KiB", "CPU s", "µs CPU/GC", "max RSS KiB"))
        for seconds in (3600, 14400, 86400, 345600):
            path = os.path.join(d, "gc-%d.gort" % seconds)
            synthetic_recording.gc_day(path, seconds)
            rc, out, err, rss, cpu = run_rusage([gortlib.GORT, "report", path, "--json"], timeout=600)
            if rc != 0:
                sys.exit("gort report failed: %s" % err)
            print("%10d %10d %10.3f %12.2f %12d" % (seconds, os.path.getsize(path) // 1024, cpu,
                                                    cpu * 1e6 / seconds, rss))
    finally:
        shutil.rmtree(d, True)


if __name__ == "__main__":
    main()

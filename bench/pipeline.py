"""`make bench-pipeline`: build time and peak memory on synthetic raw/ sets, and `check` on raw/.

Each build runs in a fresh process so its peak memory is its own. Targets (issue 2): the
400,000-result set builds in under 60 s and 2 GB on a 2-core machine; `check` of the real
data in under 1 s.

    python -m bench.pipeline [--sizes 4000 40000 400000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
GENERATOR_VERSION = 1


def synthetic_set(n: int) -> Path:
    """The synthetic raw/ set of n results, generated once and reused."""
    from bench.synth import generate

    folder = OUT / f"synth-{n}"
    stamp = folder / ".generated"
    if not (stamp.exists() and stamp.read_text() == str(GENERATOR_VERSION)):
        generate(n, folder)
        stamp.write_text(str(GENERATOR_VERSION))
    return folder


def _one(raw: str, mode: str) -> None:
    """Run one build (or check) in this process and print its figures as JSON."""
    start = time.perf_counter()
    from pipeline.build import validated_tables
    from pipeline.write import write_release

    imported = time.perf_counter()
    frames = validated_tables(Path(raw))
    validated = time.perf_counter()
    if mode == "build":
        with tempfile.TemporaryDirectory() as tmp:
            write_release(frames, Path(tmp), "0.0.0", "2000-01-01")
    done = time.perf_counter()
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    results = sum(frames[t].height for t in ("classification_results", "detection_results", "segmentation_results"))
    print(json.dumps({
        "results": results, "import_s": imported - start, "validate_s": validated - imported,
        "write_s": done - validated, "total_s": done - start, "peak_mb": self_kb / 1024, "workers_peak_mb": workers_kb / 1024,
    }))


def _measure(raw: Path, mode: str) -> dict:
    wall = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bench.pipeline", "--one", str(raw), "--mode", mode],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["wall_s"] = time.perf_counter() - wall
    return figures


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="*", default=[4000, 40000, 400000])
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--mode", default="build", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        _one(args.one, args.mode)
        return
    print("pipeline benchmark (fresh process per run; times in seconds, memory in MB)")
    print(f"{'set':>16} {'results':>8} {'validate':>9} {'write':>7} {'build':>7} {'wall':>7} {'peak MB':>9} {'per 1k':>7}")
    rows = []
    for n in args.sizes:
        raw = synthetic_set(n)
        f = _measure(raw, "build")
        peak = f["peak_mb"] + f["workers_peak_mb"]
        rows.append((n, f["total_s"] - f["import_s"]))
        print(f"{'synth-' + str(n):>16} {f['results']:>8} {f['validate_s']:>9.2f} {f['write_s']:>7.2f} "
              f"{f['total_s'] - f['import_s']:>7.2f} {f['wall_s']:>7.2f} {peak:>9.0f} "
              f"{1000 * (f['total_s'] - f['import_s']) / f['results']:>7.3f}")
    real = _measure(ROOT / "raw", "check")
    print(f"{'raw/ (check)':>16} {real['results']:>8} {real['validate_s']:>9.2f} {'-':>7} {'-':>7} {real['wall_s']:>7.2f} "
          f"{real['peak_mb']:>9.0f}")
    print("build = validate + write, excluding interpreter start and imports "
          f"({real['import_s']:.2f} s here); wall = the whole command; peak = parent + parallel loaders.")
    print("targets: 400,000 results under 60 s and 2,048 MB; check of raw/ under 1 s")


if __name__ == "__main__":
    main()

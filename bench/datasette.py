"""`make bench-datasette`: latency of every canned query, in-process, on the latest release and
on a release built from the 400,000-result synthetic set. Target (issue 4): each under 50 ms on
the real release.

    python -m bench.datasette [--skip-large]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from datasette.app import Datasette

from viewer.releases import DB_NAME, resolve

ROOT = Path(__file__).resolve().parent.parent
DB = "heedless-backbones"


async def _measure(release: Path, runs: int) -> list[tuple[str, float, float, int]]:
    metadata = json.loads((release / "datasette-metadata.json").read_text())
    ds = Datasette(immutables=[str(release / DB_NAME)], metadata=metadata, settings={"sql_time_limit_ms": 120000})
    out = []
    for name in metadata["databases"][DB]["queries"]:
        params = "&q=a" if name == "search_backbones" else ""
        path = f"/{DB}/{name}.json?_shape=array&_size=max{params}"
        first = await ds.client.get(path)
        assert first.status_code == 200, (name, first.text[:300])
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            response = await ds.client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        out.append((name, statistics.median(times), max(times), len(first.json())))
    return out


def report(title: str, release: Path, runs: int) -> None:
    print(f"\n{title} ({release.name})")
    print(f"  {'canned query':<36} {'p50':>9} {'max':>9} {'rows':>7}")
    for name, p50, worst, rows in asyncio.run(_measure(release, runs)):
        print(f"  {name:<36} {p50:>6.1f} ms {worst:>6.1f} ms {rows:>7}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--skip-large", action="store_true")
    p.add_argument("-n", type=int, default=20)
    args = p.parse_args()
    print("Datasette canned queries through Datasette's own client (JSON, all rows), in-process")
    report("latest real release", resolve(ROOT / "releases"), args.n)
    if not args.skip_large:
        from bench.viewer import large_release

        report("400,000-result synthetic release", resolve(large_release()), max(3, args.n // 5))
    print("\ntarget: each canned query under 50 ms on the real release")


if __name__ == "__main__":
    main()

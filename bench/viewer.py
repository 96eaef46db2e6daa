"""`make bench-viewer`: latency, throughput and page size of the viewer behind gunicorn.

Targets (issue 3), on the latest real release: the default page and a result-vs-result page
at p50 under 50 ms uncached and under 5 ms cached; at least 300 requests/s with 8 concurrent
clients on the default page; default page HTML (with its embedded plot data) under 300 KB.
On a release built from the 400,000-result synthetic set: p50 under 300 ms.

    python -m bench.viewer [--skip-large]
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "default page": "/",
    "result vs result": "/?x=result&x_task=detection&x_dataset=coco&x_metric=box_ap",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn serving the viewer on a free port."""

    def __init__(self, releases: Path, cache_size: int, workers: int = 2):
        self.port = free_port()
        env = {**os.environ, "HEEDLESS_RELEASES_DIR": str(releases), "HEEDLESS_CACHE_SIZE": str(cache_size)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "4", "--bind",
             f"127.0.0.1:{self.port}", "--preload", "viewer.wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                self.get("/about")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("viewer did not start")

    def get(self, path: str, conn: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        if own:
            conn.close()
        return response.status, body

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def latency(server: Server, path: str, n: int) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        status, _ = server.get(path, conn)
        times.append((time.perf_counter() - start) * 1000)
        assert status == 200, (path, status)
    conn.close()
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def throughput(server: Server, path: str, clients: int, seconds: float) -> float:
    done = [0] * clients
    stop = time.perf_counter() + seconds

    def run(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        while time.perf_counter() < stop:
            server.get(path, conn)
            done[i] += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def large_release() -> Path:
    """A release built from the 400,000-result synthetic set (built once, kept in bench/out)."""
    from bench.pipeline import synthetic_set

    releases = ROOT / "bench" / "out" / "releases-400000"
    if not (releases / "v0.0.1" / "SHA256SUMS").exists():
        raw = synthetic_set(400000)
        subprocess.run([sys.executable, "-m", "pipeline", "release", "--quiet", "--raw", str(raw), "--releases",
                        str(releases), "--version", "0.0.1"], cwd=ROOT, check=True)
    return releases


def report(name: str, releases: Path, n: int, big: bool = False) -> None:
    uncached = Server(releases, cache_size=0)
    try:
        size = len(uncached.get("/")[1])
        rows = []
        for label, path in PAGES.items():
            uncached.get(path)  # load the release into both workers' memory first
            rows.append((label, *latency(uncached, path, n)))
    finally:
        uncached.stop()
    cached = Server(releases, cache_size=512)
    try:
        for path in PAGES.values():
            cached.get(path)
        hits = {label: latency(cached, path, n * 2) for label, path in PAGES.items()}
        rps = throughput(cached, "/", clients=8, seconds=5) if not big else None
    finally:
        cached.stop()
    print(f"\n{name}")
    print(f"  {'page':<20} {'uncached p50':>13} {'p95':>8} {'cached p50':>11} {'p95':>8}")
    for label, p50, p95 in rows:
        c50, c95 = hits[label]
        print(f"  {label:<20} {p50:>10.1f} ms {p95:>5.1f} ms {c50:>8.2f} ms {c95:>5.2f} ms")
    print(f"  default page size: {size / 1024:.0f} KB (HTML with embedded plot data, BokehJS excluded)")
    if rps is not None:
        print(f"  default page, 8 concurrent clients (cached): {rps:.0f} requests/s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--skip-large", action="store_true", help="skip the 400,000-result release")
    p.add_argument("-n", type=int, default=40, help="requests per latency figure")
    args = p.parse_args()
    print("viewer benchmark: gunicorn, 2 workers x 4 threads, keep-alive HTTP/1.1 client on the same machine")
    report("latest real release", ROOT / "releases", args.n)
    if not args.skip_large:
        report("400,000-result synthetic release", large_release(), max(10, args.n // 4), big=True)
    print("\ntargets: p50 < 50 ms uncached and < 5 ms cached; >= 300 requests/s; page < 300 KB; 400k p50 < 300 ms")


if __name__ == "__main__":
    main()

"""`make bench-viewer`: latency, throughput, transfer size and time to a drawn plot, measured on the
server `make up` runs (the same gunicorn command line, from viewer.serve).

Targets (issues 3 and 10), on the latest real release:
- the default page and a result-vs-result page: p50 <= 50 ms uncached and <= 5 ms cached;
- the default page with 8 concurrent clients (cached): >= 1,000 requests/s (issue 3 asked >= 300);
- the default page's HTML with its embedded plot data: < 300 KB uncompressed, <= 80 KB compressed;
- search and compare pages, where the viewer has them: p50 <= 30 ms uncached;
- navigation to a drawn plot in headless Chromium with BokehJS cached: p50 <= 400 ms.
On a release built from the 400,000-result synthetic set: p50 under 300 ms.

    python -m bench.viewer [--skip-large] [--skip-browser] [-n 40]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from viewer.serve import viewer_command

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "default page": "/",
    "result vs result": "/?x=result&x_task=detection&x_dataset=coco&x_metric=box_ap",
    "params vs GMACs": "/?y=params&x=gmacs",
}
OPTIONAL_PAGES = {  # measured when the viewer serves them (a 404 skips them)
    "search": "/search?q=conv",
    "compare": "/compare?m=convnext_t&m=swin_t&m=deit_s",
}
ENCODINGS = {"identity": "identity", "gzip": "gzip", "brotli": "br"}
WORKERS = 2  # `make up`'s default (python -m viewer.serve --workers)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str, conn: http.client.HTTPConnection | None = None,
        encoding: str = "identity") -> tuple[int, bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers={"Accept-Encoding": encoding})
    response = conn.getresponse()
    body = response.read()
    if own or response.getheader("Connection", "").lower() == "close":
        conn.close()
    return response.status, body


class Server:
    """The viewer as `make up` serves it (viewer.serve.viewer_command), on a free port."""

    def __init__(self, releases: Path, cache_size: int):
        self.port = free_port()
        env = {**os.environ, "HEEDLESS_RELEASES_DIR": str(releases), "HEEDLESS_CACHE_SIZE": str(cache_size)}
        self.command = viewer_command("127.0.0.1", self.port, WORKERS)
        self.proc = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                get(self.port, "/about")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("viewer did not start")

    def warm(self, path: str) -> int:
        """Load a page in every worker (each loads the release once), and return its status."""
        status = 0
        for _ in range(WORKERS * 3):
            status = get(self.port, path)[0]
        return status

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def latency(port: int, path: str, n: int) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        status, _ = get(port, path, conn)
        times.append((time.perf_counter() - start) * 1000)
        assert status == 200, (path, status)
    conn.close()
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def _client(port: int, path: str, stop_at: float, out: multiprocessing.Queue) -> None:
    done = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.perf_counter() < stop_at:
        get(port, path, conn, "br, gzip")
        done += 1
    conn.close()
    out.put(done)


def throughput(port: int, path: str, clients: int, seconds: float) -> float:
    """Requests per second with `clients` client processes (processes: one Python client's GIL would
    measure the client, not the server)."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    start = time.perf_counter()
    procs = [multiprocessing.Process(target=_client, args=(port, path, start + 0.5 + seconds, queue)) for _ in range(clients)]
    for p in procs:
        p.start()
    total = sum(queue.get(timeout=seconds + 60) for _ in procs)
    for p in procs:
        p.join()
    return total / (time.perf_counter() - start - 0.5)


def sizes(port: int, path: str) -> dict[str, int]:
    return {name: len(get(port, path, encoding=enc)[1]) for name, enc in ENCODINGS.items()}


def time_to_plot(port: int, n: int) -> tuple[list[float], list[float]] | str:
    """Milliseconds from navigation start to BokehJS's drawn plot on the default page, BokehJS cached, and to
    the whole page in place (its controls and table are laid out once the plot is drawn)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "playwright is not installed"
    if not Path("/usr/bin/chromium").exists():
        return "Debian's chromium is not installed (make browser)"
    # Checked inside the page at every animation frame from the start of each navigation; the first frame in
    # which the plot is drawn records its time there. So the figure is when the plot was drawn, not when the
    # driver's next round trip reached a page still busy with what comes after the plot. The frame in which the
    # rest of the page (controls and table, laid out after the plot) is in place is recorded too.
    watch = ("(function check() { var now = performance.now(), root = document.documentElement;"
             " if (window.__drawn === undefined && window.Bokeh && Bokeh.documents.length === 1"
             " && Bokeh.documents[0].is_idle && Object.keys(Bokeh.index).length > 0) { window.__drawn = now; }"
             " if (window.__drawn !== undefined && !root.classList.contains('plot-pending')"
             " && !root.classList.contains('controls-pending'))"
             " { window.__complete = now; return; }"
             " requestAnimationFrame(check); })();")
    ready = "() => window.__complete !== undefined"
    times, complete = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.add_init_script(watch)
        url = f"http://127.0.0.1:{port}/"
        for _ in range(3):  # BokehJS and the page's assets in the browser's cache, and their compiled code in V8's
            page.goto(url)  # (Chromium keeps a script's code cache from its second run on)
            page.wait_for_function(ready)
        for _ in range(n):
            page.goto("about:blank")
            page.goto(url)
            page.wait_for_function(ready, polling="raf")
            drawn, done = page.evaluate("() => [window.__drawn, window.__complete]")
            times.append(drawn)
            complete.append(done)
        browser.close()
    return sorted(times), sorted(complete)


def report(name: str, releases: Path, n: int, big: bool = False, browser: bool = True) -> None:
    uncached = Server(releases, cache_size=0)
    try:
        print(f"\n{name}\n  server: {' '.join(Path(c).name if c == sys.executable else c for c in uncached.command)}")
        pages = dict(PAGES)
        for label, path in OPTIONAL_PAGES.items():
            if uncached.warm(path) == 200:
                pages[label] = path
        rows = []
        for label, path in pages.items():
            uncached.warm(path)
            rows.append((label, *latency(uncached.port, path, n)))
    finally:
        uncached.stop()
    cached = Server(releases, cache_size=512)
    try:
        for path in pages.values():
            cached.warm(path)
        hits = {label: latency(cached.port, path, n * 2) for label, path in pages.items()}
        page_sizes = sizes(cached.port, "/")
        json_sizes = sizes(cached.port, "/plot-region.json?x=params")
        rps = throughput(cached.port, "/", clients=8, seconds=5) if not big else None
        drawn = time_to_plot(cached.port, 25) if browser and not big else None
    finally:
        cached.stop()
    print(f"  {'page':<20} {'uncached p50':>13} {'p95':>8} {'cached p50':>11} {'p95':>8}")
    for label, p50, p95 in rows:
        c50, c95 = hits[label]
        print(f"  {label:<20} {p50:>10.1f} ms {p95:>5.1f} ms {c50:>8.2f} ms {c95:>5.2f} ms")
    print("  default page (HTML with its embedded plot data, BokehJS excluded): "
          + ", ".join(f"{k} {v / 1024:.0f} KB" for k, v in page_sizes.items()))
    print("  one form change (/plot-region.json): " + ", ".join(f"{k} {v / 1024:.0f} KB" for k, v in json_sizes.items()))
    if rps is not None:
        print(f"  default page, 8 concurrent client processes (cached, brotli): {rps:.0f} requests/s")
    if isinstance(drawn, tuple):
        plot, whole = drawn
        print(f"  navigation to a drawn plot, headless Chromium, BokehJS cached: p50 {statistics.median(plot):.0f} ms, "
              f"p95 {plot[int(0.95 * (len(plot) - 1))]:.0f} ms ({len(plot)} loads); to the whole page in place (controls "
              f"and table, laid out after the plot): p50 {statistics.median(whole):.0f} ms")
    elif isinstance(drawn, str):
        print(f"  navigation to a drawn plot: not measured ({drawn})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--skip-large", action="store_true", help="skip the 400,000-result release")
    p.add_argument("--skip-browser", action="store_true", help="skip the time to a drawn plot in Chromium")
    p.add_argument("-n", type=int, default=40, help="requests per latency figure")
    args = p.parse_args()
    print(f"viewer benchmark: the `make up` server ({WORKERS} gunicorn workers), HTTP/1.1 clients on the same machine, "
          f"{os.cpu_count()} CPUs")
    report("latest real release", ROOT / "releases", args.n, browser=not args.skip_browser)
    if not args.skip_large:
        report("400,000-result synthetic release", large_release(), max(10, args.n // 4), big=True)
    print("\ntargets: p50 <= 50 ms uncached and <= 5 ms cached; >= 1,000 requests/s; default page < 300 KB and "
          "<= 80 KB compressed;\n         search and compare p50 <= 30 ms; drawn plot p50 <= 400 ms; 400k p50 < 300 ms")


def large_release() -> Path:
    """A release built from the 400,000-result synthetic set (built once, kept in bench/out)."""
    from bench.pipeline import synthetic_set

    releases = ROOT / "bench" / "out" / "releases-400000"
    if not (releases / "v0.0.1" / "SHA256SUMS").exists():
        raw = synthetic_set(400000)
        subprocess.run([sys.executable, "-m", "pipeline", "release", "--quiet", "--raw", str(raw), "--releases",
                        str(releases), "--version", "0.0.1"], cwd=ROOT, check=True)
    return releases


if __name__ == "__main__":
    main()

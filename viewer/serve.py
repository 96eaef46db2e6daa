"""Serve the viewer (gunicorn) and Datasette (read-only, immutable) on localhost.

    python -m viewer.serve [--releases releases] [--release latest] [--viewer-port 5000]
                           [--datasette-port 8001] [--no-viewer | --no-datasette]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from viewer.releases import DB_NAME, resolve

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "datasette_plugins"
SQL_TIME_LIMIT_MS = 1000


def datasette_command(release: Path, host: str, port: int) -> list[str]:
    """The Datasette command line: immutable database, release metadata, SQL time limit."""
    return [
        sys.executable, "-m", "datasette", "serve",
        "--immutable", str(release / DB_NAME),
        "--metadata", str(release / "datasette-metadata.json"),
        "--plugins-dir", str(PLUGINS),
        "--host", host, "--port", str(port),
        "--setting", "sql_time_limit_ms", str(SQL_TIME_LIMIT_MS),
        "--setting", "max_returned_rows", "5000",
        "--setting", "allow_download", "on",
        "--setting", "default_cache_ttl", "86400",
    ]


def viewer_command(host: str, port: int, workers: int) -> list[str]:
    """The production WSGI server for the viewer."""
    return [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{host}:{port}",
        "--access-logfile", "-", "viewer.wsgi:app",
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m viewer.serve", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--releases", default="releases")
    p.add_argument("--release", default="latest", help="version to serve in Datasette (default: latest)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--viewer-port", type=int, default=5000)
    p.add_argument("--datasette-port", type=int, default=8001)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--no-viewer", action="store_true")
    p.add_argument("--no-datasette", action="store_true")
    args = p.parse_args(argv)
    releases = Path(args.releases).resolve()
    try:
        release = resolve(releases, args.release)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    viewer_url = f"http://{args.host}:{args.viewer_port}"
    datasette_url = f"http://{args.host}:{args.datasette_port}"
    env = {**os.environ, "HEEDLESS_VIEWER_URL": viewer_url, "HEEDLESS_RELEASES_DIR": str(releases),
           "HEEDLESS_RELEASE": args.release, "HEEDLESS_DATASETTE_URL": "" if args.no_datasette else datasette_url}
    procs = []
    if not args.no_datasette:
        procs.append(subprocess.Popen(datasette_command(release, args.host, args.datasette_port), env=env, cwd=ROOT))
        print(f"Datasette ({release.name}, read-only): {datasette_url}/", flush=True)
    if not args.no_viewer:
        procs.append(subprocess.Popen(viewer_command(args.host, args.viewer_port, args.workers), env=env, cwd=ROOT))
        print(f"Viewer ({release.name}): {viewer_url}/", flush=True)
    print("Press Ctrl-C to stop.", flush=True)

    def stop(*_: object) -> None:
        for proc in procs:
            proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(proc.poll() is None for proc in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for proc in procs:
            proc.wait(timeout=10)
    return max((proc.returncode or 0) for proc in procs) if procs else 0


if __name__ == "__main__":
    sys.exit(main())

"""Serve the viewer (gunicorn) and Datasette (read-only, immutable) on localhost.

    heedless serve [--releases releases] [--release latest] [--host 127.0.0.1] [--viewer-port 5000]
                   [--datasette-port 8001] [--workers 2] [--no-viewer | --no-datasette]
                   [--viewer-url PUBLIC] [--datasette-url PUBLIC]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from viewer.releases import DB_NAME, resolve

ROOT = Path(__file__).resolve().parent.parent
CONFIG, METADATA = "datasette.yaml", "datasette-metadata.json"


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def datasette_one_metadata(release: Path) -> dict[str, Any]:
    """Datasette 0.65 reads plugins, canned queries and table options from its metadata: the release's
    datasette.yaml (minus settings, which become --setting flags) merged into its metadata."""
    config = yaml.safe_load((release / CONFIG).read_text(encoding="utf-8"))
    meta = json.loads((release / METADATA).read_text(encoding="utf-8"))
    return _merge(meta, {k: v for k, v in config.items() if k != "settings"})


def datasette_settings(release: Path) -> dict[str, Any]:
    """The settings block of the release's datasette.yaml."""
    return dict(yaml.safe_load((release / CONFIG).read_text(encoding="utf-8")).get("settings", {}))


def _is_datasette_1() -> bool:
    from datasette.version import __version__

    return int(__version__.split(".")[0]) >= 1


def datasette_command(release: Path, host: str, port: int, workdir: Path | None = None) -> list[str]:
    """The Datasette command line: the immutable database with the release's configuration and metadata.

    Datasette 1.0 reads them as they are (-c datasette.yaml -m datasette-metadata.json); on 0.65 the two are
    merged into one metadata file in `workdir` and the settings are passed as --setting flags."""
    command = [sys.executable, "-m", "datasette", "serve", "--immutable", str(release / DB_NAME),
               "--host", host, "--port", str(port)]
    if _is_datasette_1():
        return [*command, "--config", str(release / CONFIG), "--metadata", str(release / METADATA)]
    workdir = workdir or Path(tempfile.mkdtemp(prefix="heedless-datasette-"))
    merged = workdir / "metadata.json"
    merged.write_text(json.dumps(datasette_one_metadata(release), indent=2))
    command += ["--metadata", str(merged)]
    for key, value in datasette_settings(release).items():
        command += ["--setting", key, ("on" if value else "off") if isinstance(value, bool) else str(value)]
    return command


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
    p.add_argument("--viewer-url", help="the viewer's public address, for links from Datasette (behind a proxy)")
    p.add_argument("--datasette-url", help="Datasette's public address, for links from the viewer (behind a proxy)")
    args = p.parse_args(argv)
    releases = Path(args.releases).resolve()
    try:
        release = resolve(releases, args.release)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    viewer_url = args.viewer_url or f"http://{args.host}:{args.viewer_port}"
    datasette_url = args.datasette_url or f"http://{args.host}:{args.datasette_port}"
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

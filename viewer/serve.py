"""Serve the viewer (gunicorn) and Datasette (read-only, immutable) on localhost, supervised.

    heedless serve [--releases releases] [--release latest] [--host 127.0.0.1] [--viewer-port 5000]
                   [--datasette-port 8001] [--workers 2] [--no-viewer | --no-datasette]
                   [--viewer-url PUBLIC] [--datasette-url PUBLIC]

The release is resolved and its files hashed against SHA256SUMS once, before anything starts;
the viewer and Datasette then serve that same version. A server that dies is started again
(the other one keeps serving); one that keeps dying is given up with a message.
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
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from viewer.releases import DB_NAME, ReleaseDamaged, resolve

ROOT = Path(__file__).resolve().parent.parent
RESTARTS_ALLOWED = 5  # restarts of one server within RESTART_WINDOW_S before it is given up
RESTART_WINDOW_S = 60.0
RESTART_DELAY_S = 1.0
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
    """The production WSGI server for the viewer: gunicorn with gevent workers (viewer.worker), so
    slow clients hold a greenlet each, never a worker; a request must be complete within the
    keep-alive time; workers are recycled after many requests so their memory cannot creep."""
    return [
        sys.executable, "-m", "gunicorn",
        "--worker-class", "viewer.worker.ViewerWorker",
        "--workers", str(workers),
        "--worker-connections", "1000",
        "--keep-alive", "5",
        "--timeout", "30",
        "--graceful-timeout", "10",
        "--max-requests", "20000", "--max-requests-jitter", "2000",
        "--limit-request-line", "8190",
        "--bind", f"{host}:{port}",
        "--access-logfile", "-",
        "viewer.wsgi:app",
    ]


@dataclass
class Child:
    """One supervised server."""

    name: str
    command: list[str]
    proc: subprocess.Popen | None = None
    starts: deque = field(default_factory=deque)
    due: float = 0.0  # when a restart is due (after RESTART_DELAY_S)
    given_up: bool = False


class Supervisor:
    """Start servers, start again any that dies, stop them all on SIGTERM or Ctrl-C."""

    def __init__(self, env: dict[str, str], out: TextIO = sys.stdout):
        self.env = env
        self.out = out
        self.children: list[Child] = []
        self.stopping = False

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def add(self, name: str, command: list[str]) -> None:
        self.children.append(Child(name, command))

    def _start(self, child: Child) -> None:
        now = time.monotonic()
        while child.starts and now - child.starts[0] > RESTART_WINDOW_S:
            child.starts.popleft()
        if len(child.starts) > RESTARTS_ALLOWED:
            child.given_up = True
            self.say(f"{child.name} exited {len(child.starts)} times within {RESTART_WINDOW_S:.0f} s; not starting it "
                     "again (see its messages above)")
            return
        child.starts.append(now)
        # each server in its own process group, so that what a dead server leaves behind (a
        # gunicorn worker holding the port) can be ended with it
        child.proc = subprocess.Popen(child.command, env=self.env, cwd=ROOT, start_new_session=True)
        self.say(f"{child.name} started (pid {child.proc.pid})")

    def run(self) -> int:
        for child in self.children:
            self._start(child)
        while not self.stopping:
            live = [c for c in self.children if not c.given_up]
            if not live:
                return 1
            for child in live:
                if child.proc is None or child.proc.poll() is None:
                    continue
                if child.due == 0.0:
                    _end_group(child.proc)
                    self.say(f"{child.name} (pid {child.proc.pid}) exited with status {child.proc.returncode}; "
                             f"starting it again in {RESTART_DELAY_S:.0f} s")
                    child.due = time.monotonic() + RESTART_DELAY_S
                elif time.monotonic() >= child.due:
                    child.due = 0.0
                    self._start(child)
            time.sleep(0.1)
        return 0

    def stop(self, *_: object) -> None:
        self.stopping = True

    def shutdown(self) -> None:
        procs = [c.proc for c in self.children if c.proc is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            _end_group(proc)


def _end_group(proc: subprocess.Popen) -> None:
    """Kill whatever is left of a server's process group once the server itself has exited."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m viewer.serve", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--releases", default="releases")
    p.add_argument("--release", default="latest", help="version to serve (default: latest)")
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
        from pipeline.integrity import verify_folder

        verify_folder(release)
    except (FileNotFoundError, ReleaseDamaged) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    viewer_url = args.viewer_url or f"http://{args.host}:{args.viewer_port}"
    datasette_url = args.datasette_url or f"http://{args.host}:{args.datasette_port}"
    # both serve the release resolved here, even if a newer one is cut while they run
    env = {**os.environ, "HEEDLESS_VIEWER_URL": viewer_url, "HEEDLESS_RELEASES_DIR": str(releases),
           "HEEDLESS_RELEASE": release.name, "HEEDLESS_DATASETTE_URL": "" if args.no_datasette else datasette_url,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}
    supervisor = Supervisor(env)
    if not args.no_datasette:
        supervisor.add("Datasette", datasette_command(release, args.host, args.datasette_port))
        print(f"Datasette ({release.name}, read-only): {datasette_url}/", flush=True)
    if not args.no_viewer:
        supervisor.add("Viewer", viewer_command(args.host, args.viewer_port, args.workers))
        print(f"Viewer ({release.name}): {viewer_url}/", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    signal.signal(signal.SIGTERM, supervisor.stop)
    try:
        return supervisor.run()
    except KeyboardInterrupt:
        return 0
    finally:
        supervisor.shutdown()


if __name__ == "__main__":
    sys.exit(main())

"""heedless COMMAND ...: one entry point for everything a user or contributor runs.

    heedless check | build | release | diff | verify | dist | reconcile | new-source | new-family   (the pipeline)
    heedless serve [--releases DIR] [--release latest] [--viewer-port N] [--datasette-port N] ...  (viewer, Datasette)
    heedless preview [--raw raw] [--releases releases] [serve options]   (build raw/ now and serve that build)

`preview` never cuts a release: it builds raw/ into build/preview and serves that folder, so a contributor
sees a new family in the viewer and in Datasette seconds after editing raw/.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

PREVIEW_DIR = "build"
PREVIEW_NAME = "preview"


def preview(argv: list[str]) -> int:
    """Build raw/ into build/preview (labelled '<latest>+preview') and serve it."""
    from pipeline.__main__ import main as pipeline_main
    from pipeline.release import fmt_version, list_releases

    p = argparse.ArgumentParser(prog="heedless preview", add_help=False)
    p.add_argument("--raw", default="raw")
    p.add_argument("--releases", default="releases")
    p.add_argument("--build-only", action="store_true", help="build the preview and stop (no servers)")
    known, serve_args = p.parse_known_args(argv)
    existing = list_releases(Path(known.releases))
    label = (fmt_version(existing[-1]) if existing else "0.0.0") + "+preview"
    start = time.perf_counter()
    code = pipeline_main(["build", "--raw", known.raw, "--releases", known.releases,
                          "--out", f"{PREVIEW_DIR}/{PREVIEW_NAME}", "--version", label])
    if code:
        return code
    print(f"preview of raw/ built in {time.perf_counter() - start:.2f} s", file=sys.stderr, flush=True)
    if known.build_only:
        return 0
    from viewer.serve import main as serve_main

    # one viewer worker: the preview is for one person, and it starts sooner
    workers = [] if "--workers" in serve_args else ["--workers", "1"]
    return serve_main(["--releases", PREVIEW_DIR, "--release", PREVIEW_NAME, *workers, *serve_args])


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    if args[0] == "serve":
        from viewer.serve import main as serve_main

        return serve_main(args[1:])
    if args[0] == "preview":
        return preview(args[1:])
    from pipeline.__main__ import main as pipeline_main

    return pipeline_main(args)

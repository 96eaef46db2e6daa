"""Browser packages the viewer serves itself (never from a CDN), pinned in static/vendor/vendor.json.

    python -m viewer.vendor          # fetch each pinned package with npm, check it, copy its files
    python -m viewer.vendor --check  # check the copied files against their recorded sha256

Each package is fetched with `npm pack NAME@VERSION`; its tarball must match the registry integrity
(sha512) recorded in vendor.json, and every copied file is recorded with its sha256 and the path it
has in the tarball, so a reviewer can compare the copy with the published package.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
MANIFEST = VENDOR / "vendor.json"


def load_manifest() -> dict:
    """The pinned packages: name, version, integrity, licence and the files copied from each."""
    return json.loads(MANIFEST.read_text())  # type: ignore[no-any-return]


def check() -> list[str]:
    """Every vendored file whose sha256 differs from the manifest (or that is missing)."""
    problems = []
    for name, package in load_manifest()["packages"].items():
        for target, meta in package["files"].items():
            path = VENDOR / name / target
            if not path.exists():
                problems.append(f"{name}/{target}: missing (run `python -m viewer.vendor`)")
            elif hashlib.sha256(path.read_bytes()).hexdigest() != meta["sha256"]:
                problems.append(f"{name}/{target}: differs from {name}@{package['version']} ({meta['from']})")
    return problems


def fetch() -> None:
    """Fetch each package with npm, check its integrity, copy its files and record their hashes."""
    manifest = load_manifest()
    for name, package in manifest["packages"].items():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["npm", "pack", "--silent", f"{name}@{package['version']}"], cwd=tmp, check=True,
                           stdout=subprocess.DEVNULL)
            tarball = next(Path(tmp).glob("*.tgz"))
            integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
            if integrity != package["integrity"]:
                raise SystemExit(f"{name}@{package['version']}: tarball integrity {integrity} != {package['integrity']}")
            with tarfile.open(tarball) as tar:
                tar.extractall(tmp, filter="data")
            (VENDOR / name).mkdir(parents=True, exist_ok=True)
            for target, meta in package["files"].items():
                shutil.copyfile(Path(tmp) / meta["from"], VENDOR / name / target)
                meta["sha256"] = hashlib.sha256((VENDOR / name / target).read_bytes()).hexdigest()
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m viewer.vendor", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="only check the copied files")
    args = p.parse_args(argv)
    if not args.check:
        fetch()
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line: python -m pipeline {check,build,release,diff,verify,dist,reconcile,new-source,new-family}."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ReleaseError, ValidationFailed
from .integrity import ReleaseDamaged


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr)


@contextmanager
def _progress(args: argparse.Namespace, what: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar over raw files, shown for large sets unless --quiet."""
    from .load import count_files

    total = count_files(Path(args.raw)) if Path(args.raw).is_dir() else 0
    if args.quiet or total < 200:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=what, unit="file", file=sys.stderr) as bar:
        yield bar.update


def check_cache_path(raw: Path) -> Path:
    """build/check-cache/<raw folder>.pickle: what `check` read from each raw/ file last time."""
    import hashlib

    name = hashlib.sha256(str(raw.resolve()).encode()).hexdigest()[:16]
    return Path("build") / "check-cache" / f"{name}.pickle"


def cmd_check(args: argparse.Namespace) -> int:
    from .build import validated_tables

    start = time.perf_counter()
    cache = None if args.no_cache else check_cache_path(Path(args.raw))
    with _progress(args, "checking") as progress:
        frames = validated_tables(Path(args.raw), progress=progress, cache=cache)
    results = sum(frames[t].height for t in ("classification_results", "detection_results", "segmentation_results"))
    _say(args, f"raw/ is valid: {frames['families'].height} families, {frames['backbones'].height} backbones, "
               f"{frames['checkpoints'].height} checkpoints, {results} results, "
               f"{frames['throughput'].height} throughput figures ({time.perf_counter() - start:.2f} s)")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from .release import fmt_version, list_releases, today
    from .write import release_date

    releases = Path(args.releases)
    existing = list_releases(releases)
    version = args.version or (fmt_version(existing[-1]) if existing else "0.0.0")
    # the latest release's date by default, so a build of unchanged raw/ reproduces it byte for byte
    date = args.date or (release_date(releases / f"v{fmt_version(existing[-1])}") if existing else None) or today()
    out = Path(args.out)
    start = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=out.parent))
    tmp.chmod(0o755)
    try:
        with _progress(args, "building") as progress:
            from .release import build_into

            build_into(Path(args.raw), tmp, version, date, progress,
                       cache=None if args.no_cache else check_cache_path(Path(args.raw)))
        if out.exists():
            shutil.rmtree(out)
        shutil.move(str(tmp), out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _say(args, f"built {out} (version label {version}) in {time.perf_counter() - start:.2f} s")
    if not args.verify:
        return 0
    from .integrity import release_folders, verify_folder

    verify_folder(out)
    folders = release_folders(releases)
    if folders:
        # hash the latest release's files: comparing SHA256SUMS texts alone trusts files nobody checked
        latest = folders[-1]
        verify_folder(latest)
        same = (latest / "SHA256SUMS").read_text() == (out / "SHA256SUMS").read_text()
        if same:
            _say(args, f"raw/ reproduces {latest.name} byte for byte")
        else:
            from .diff import diff_releases

            d = diff_releases(latest, out)
            what = d.required_bump()
            _say(args, f"raw/ differs from {latest.name}" + (f" (a {what} change)" if what else " (same data, other bytes)")
                 + ": run `python -m pipeline diff " + latest.name + " " + str(out) + "` to see it, "
                 "and `python -m pipeline release --version X.Y.Z` to cut a release")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from .release import cut_release

    with _progress(args, "releasing") as progress:
        target = cut_release(Path(args.raw), Path(args.releases), args.version, progress, date=args.date)
    _say(args, f"released {target}; changelog updated in {Path(args.releases) / 'CHANGELOG.md'}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from .diff import diff_releases, render
    from .release import resolve_release

    releases = Path(args.releases)
    a, b = resolve_release(releases, args.a), resolve_release(releases, args.b)
    d = diff_releases(a, b)
    print(f"# {a.name} -> {b.name}" + (f" (a {d.required_bump()} change)" if d.required_bump() else " (no change)"))
    print("\n".join(render(d)))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .integrity import ReleaseDamaged, release_folders, verify
    from .release import ReleaseError

    releases = Path(args.releases)
    if args.targets:
        try:
            targets = [_verify_target(releases, t) for t in args.targets]
        except ReleaseError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    elif args.release:
        tag = args.release if args.release.startswith("v") else f"v{args.release}"
        targets = [releases / tag]
    else:
        targets = release_folders(releases)
        if not targets:
            print(f"error: no release in {releases}", file=sys.stderr)
            return 2
    damaged = 0
    for target in targets:
        try:
            sums = verify(target)
        except ReleaseDamaged as exc:
            damaged += 1
            print(f"{target}: DAMAGED", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            continue
        _say(args, f"{target}: OK, {len(sums)} files match SHA256SUMS")
    if damaged:
        print(f"{damaged} of {len(targets)} release(s) damaged: do not serve or publish them; restore them "
              "from their published archives or cut them again", file=sys.stderr)
        return 1
    return 0


def _verify_target(releases: Path, target: str) -> Path:
    """A folder or archive that exists, else a version ('0.4.0', 'v0.4.0', 'latest') of --releases."""
    from .release import resolve_release

    return Path(target) if Path(target).exists() else resolve_release(releases, target)


def cmd_dist(args: argparse.Namespace) -> int:
    from .dist import make_archive
    from .release import resolve_release

    archive, checksum = make_archive(resolve_release(Path(args.releases), args.version), Path(args.out))
    print(archive)
    print(checksum)
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from .reconcile import reconcile_main

    return reconcile_main(args)


EXIT_OK, EXIT_REFUSED, EXIT_ERROR, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 70, 130
EXIT_CODES = (
    "exit status: 0 done; 1 raw/ refused (the report says what to fix); 2 usage or release error; "
    "70 internal error (a bug in the pipeline: please report it with the traceback); 130 interrupted"
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__, epilog=EXIT_CODES)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--raw", default="raw", help="raw/ folder (default: raw)")
    common.add_argument("--releases", default="releases", help="releases/ folder (default: releases)")
    common.add_argument("--quiet", "-q", action="store_true", help="no progress or summary output")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", parents=[common], help="validate raw/ only")
    c.add_argument("--no-cache", action="store_true",
                   help="parse every file afresh (by default unchanged files are taken from build/check-cache/)")
    c.set_defaults(func=cmd_check)
    b = sub.add_parser("build", parents=[common], help="run the whole pipeline into a scratch folder")
    b.add_argument("--out", default="build/release", help="scratch folder (default: build/release)")
    b.add_argument("--version", help="version label (default: the latest release's)")
    b.add_argument("--verify", action="store_true", help="compare with the latest release")
    b.add_argument("--date", help="release date label, YYYY-MM-DD (default: the latest release's, else today)")
    b.add_argument("--no-cache", action="store_true", help="parse every raw/ file afresh (as release always does)")
    b.set_defaults(func=cmd_build)
    r = sub.add_parser("release", parents=[common], help="cut releases/vX.Y.Z")
    r.add_argument("--version", required=True)
    r.add_argument("--date", help="release date, YYYY-MM-DD (default: today, UTC)")
    r.set_defaults(func=cmd_release)
    d = sub.add_parser("diff", parents=[common], help="what changed between two releases")
    d.add_argument("a", help="older release: version (0.1.0) or folder")
    d.add_argument("b", help="newer release: version or folder")
    d.set_defaults(func=cmd_diff)
    v = sub.add_parser("verify", parents=[common], help="hash every file of releases (or archives) against SHA256SUMS")
    v.add_argument("targets", nargs="*", help="release folders, archives (.tar.gz, .zip) or versions (0.4.0, latest); default: every release")
    v.add_argument("--release", help="one release of --releases by version (0.4.0 or v0.4.0)")
    v.set_defaults(func=cmd_verify)
    ds = sub.add_parser("dist", parents=[common], help="pack a release into one archive with its checksum file")
    ds.add_argument("--version", default="latest", help="version (0.4.0) or 'latest' (default)")
    ds.add_argument("--out", default="dist", help="folder for the archive (default: dist)")
    ds.set_defaults(func=cmd_dist)
    from .scaffold import add_parsers

    add_parsers(sub, common)
    rc = sub.add_parser("reconcile", parents=[common], help="cross-check raw/ against reference data")
    rc.add_argument("--sources", required=True, help="folder with timm/ and mmpretrain/ reference files")
    rc.add_argument("--known", default="raw/known_differences.yaml", help="reviewed known differences")
    rc.set_defaults(func=cmd_reconcile)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ValidationFailed as exc:
        print(exc.report(), file=sys.stderr)
        return EXIT_REFUSED
    except ReleaseDamaged as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except (ReleaseError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:  # a bug, never a verdict on raw/: its own status, so scripts can tell the two apart
        traceback.print_exc()
        print("internal error: a bug in the pipeline, not a problem in raw/; please report it with the traceback above",
              file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())

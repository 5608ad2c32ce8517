"""Build, validate and push dataset releases.

examples:
  vqft release build release/specs/demo.yaml -o build/demo
  vqft release validate build/demo
  vqft release push build/demo --repo my-org/qft-cas-demo --tag v0.1.0
  vqft release push build/demo --repo my-org/qft-cas-demo --dry-run

`build` streams records through the spec's stages into data/<config>/<split>-*.parquet, writes manifest.json
and the dataset card (README.md + images/), then validates the folder. Re-running after an interruption
finishes the job without rewriting finished shards. `push` uploads to the Hugging Face Hub in commits of a few
shards, skipping files the Hub already has, so a failed push costs at most one batch and re-running resumes it.
The token comes from HF_TOKEN or `hf auth login` and is never printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from release.cli import CommandError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="build a release folder from a spec", description=__doc__,
                               formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    build.add_argument("spec", type=Path, help="release spec YAML, e.g. release/specs/demo.yaml")
    build.add_argument("-o", "--output", type=Path, required=True, help="release folder to write")
    build.add_argument(
        "--overwrite", action="store_true", help="start over in a folder built from another spec"
    )
    build.add_argument("--no-validate", action="store_true", help="skip the validation at the end")
    build.add_argument("--quiet", action="store_true", help="print only the summary")

    validate = actions.add_parser("validate", help="check a release folder", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    validate.add_argument("folder", type=Path, help="a folder written by `vqft release build`")
    validate.add_argument("--no-load", action="store_true", help="skip the load_dataset checks (faster)")

    push = actions.add_parser("push", help="upload a release folder to the Hub", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    push.add_argument("folder", type=Path, help="a folder written by `vqft release build`")
    push.add_argument("--repo", default=None, help="ORG/NAME on the Hub (default: the spec's repo_id)")
    push.add_argument("--revision", default=None, help="branch to push to (created if missing; default main)")
    push.add_argument("--tag", default=None, help="tag the pushed commit, e.g. v0.1.0")
    push.add_argument("--private", action="store_true", help="create the repo as private")
    push.add_argument("--dry-run", action="store_true", help="list what would be uploaded, upload nothing")
    push.add_argument("--batch-size", type=int, default=8, help="files per commit (default: 8)")
    push.add_argument("--retries", type=int, default=4, help="retries of a failed request (default: 4)")
    push.add_argument("--no-validate", action="store_true", help="push without validating first")


def run(args: argparse.Namespace) -> int:
    return {"build": _build, "validate": _validate, "push": _push}[args.action](args)


def _load_snippet(repo_or_path: str, configs: list[str]) -> str:
    lines = ["from datasets import load_dataset"]
    lines += [f"{name} = load_dataset({repo_or_path!r}, {name!r})" for name in configs]
    return "\n".join(lines)


def _build(args: argparse.Namespace) -> int:
    from curation.records.tokens import TokenizerError
    from release.build import BuildError, build_release
    from release.spec import SpecError, load_spec
    from release.splits import SplitError

    log = (lambda message: None) if args.quiet else (lambda message: print(message, file=sys.stderr))
    start = time.perf_counter()
    try:
        spec = load_spec(args.spec)
        result = build_release(
            spec,
            args.output,
            overwrite=args.overwrite,
            progress=not args.quiet and sys.stderr.isatty(),
            log=log,
        )
    except (SpecError, BuildError, SplitError, TokenizerError) as exc:
        raise CommandError(str(exc)) from None
    manifest = result.manifest
    print(f"{'config':<12} {'split':<8} {'rows':>8} {'tokens':>12} {'shards':>6}")
    for name, config in manifest["configs"].items():
        for split, info in config["splits"].items():
            print(
                f"{name:<12} {split:<8} {info['rows']:>8,} {info['tokens']['total']:>12,} {len(info['shards']):>6}"
            )
    print(
        f"built {args.output} in {time.perf_counter() - start:.1f}s "
        f"({result.parts_written} shard(s) written, {result.parts_reused} reused)"
    )
    status = 0
    if not args.no_validate:
        status = _report_validation(args.output, load=True)
    print("\nload it with:\n" + _load_snippet(str(args.output), list(manifest["configs"])))
    return status


def _report_validation(folder: Path, load: bool) -> int:
    from release.validate import validate_release

    report = validate_release(folder, load=load)
    print(report.format())
    if not report.ok:
        print(f"{folder}: validation failed", file=sys.stderr)
        return 1
    return 0


def _validate(args: argparse.Namespace) -> int:
    if not (args.folder / "manifest.json").is_file():
        raise CommandError(
            f"{args.folder} has no manifest.json; build it with `vqft release build SPEC -o {args.folder}`"
        )
    return _report_validation(args.folder, load=not args.no_load)


def _push(args: argparse.Namespace) -> int:
    from release.push import PushError, push_release

    if args.retries < 0:
        raise CommandError(f"--retries must be at least 0, got {args.retries}")
    if args.batch_size < 1:
        raise CommandError(f"--batch-size must be at least 1, got {args.batch_size}")
    if not args.no_validate and not args.dry_run and _report_validation(args.folder, load=False):
        raise CommandError(f"{args.folder} failed validation; fix it (or rebuild) before pushing")
    try:
        result = push_release(
            args.folder,
            repo_id=args.repo,
            revision=args.revision,
            tag=args.tag,
            private=args.private,
            dry_run=args.dry_run,
            batch_size=args.batch_size,
            attempts=args.retries + 1,
            log=lambda message: print(message, file=sys.stderr),
        )
    except PushError as exc:
        raise CommandError(str(exc)) from None
    if args.dry_run:
        for path, size in result.to_upload:
            print(f"would upload {path} ({size:,} bytes)")
        print(f"{len(result.to_upload)} file(s) to upload, {len(result.unchanged)} already on the Hub")
        return 0
    print(f"uploaded {len(result.uploaded)} file(s) in {result.commits} commit(s), "
          f"{len(result.unchanged)} already on the Hub")  # fmt: skip
    print(result.url)
    revision = (
        f", revision={result.tag or result.revision!r}" if (result.tag or result.revision != "main") else ""
    )
    print("\nload it with:\nfrom datasets import load_dataset")
    for name in result.configs:
        print(f"{name} = load_dataset({result.repo_id!r}, {name!r}{revision})")
    return 0

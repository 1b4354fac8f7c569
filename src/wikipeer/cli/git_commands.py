"""`wikipeer verify-git`: check a wiki's git repository offline, with nothing but the repository."""

from __future__ import annotations

import argparse
import sys


def verify_git(args: argparse.Namespace) -> int:
    from wikipeer.cli.progress import progress_bar
    from wikipeer.gitpeer.hook import install_hook
    from wikipeer.gitpeer.verify import open_git, verify_repo

    if args.install_hook:
        hook = install_hook(args.dir)
        print(f"installed {hook}: every fetch into this repository is verified first")
    tips = known = None
    if args.new:
        # Only what a fetch brings: what the refs reach already was verified when it came.
        with open_git(args.dir) as repo:
            known = [sha for name, sha in repo.refs.as_dict().items() if name != b"HEAD"]
        tips = [sha.encode("ascii") for sha in args.new]
    with progress_bar("verifying", None, args.quiet, "commits") as update:
        report = verify_repo(args.dir, tips, known or (), progress=update)
    for problem in report.problems:
        print(f"{problem.commit}: {problem.reason}")
    shallow = f" ({report.shallow} at a shallow clone's edge, checked without their parents)" if report.shallow else ""
    if report.problems:
        print(f"wikipeer: {len(report.problems)} commit{'s' if len(report.problems) != 1 else ''} did not verify; "
              f"{report.verified} verified{shallow}", file=sys.stderr)
        return 1
    print(f"{report.verified} commit{'s' if report.verified != 1 else ''} verified{shallow}")
    return 0

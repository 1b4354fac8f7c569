"""The backup commands: init, run, list, verify, restore and forget (see docs/backup.md)."""

from __future__ import annotations

import argparse
import fcntl
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wikipeer.backup import forget as forgetting
from wikipeer.backup import locking, rollback
from wikipeer.backup import repository as repos
from wikipeer.backup.extract import extract
from wikipeer.backup.mirror import read_only_message
from wikipeer.backup.restore import restore
from wikipeer.backup.run import run_backup
from wikipeer.backup.snapshots import DamagedSnapshot, Snapshot
from wikipeer.backup.targets import TargetError
from wikipeer.backup.verify import verify_target
from wikipeer.cli.progress import progress_bar
from wikipeer.cli.shell import _dir, _open, out
from wikipeer.errors import UserError
from wikipeer.store.keyring import NODE_KEY


def _settings(args: argparse.Namespace) -> dict[str, repos.TargetSettings]:
    directory = _dir(args)
    return repos.load_settings(directory) if directory.is_dir() else {}


def _pick(args: argparse.Namespace) -> tuple[str, repos.TargetSettings | None]:
    """The target URL the user named, or the node's only one, with the node's settings for it."""
    settings = _settings(args)
    if args.target:
        url = repos.target_url(args.target)
        return url, settings.get(url)
    if len(settings) == 1:
        url = next(iter(settings))
        return url, settings[url]
    known = ", ".join(settings) or "none set up"
    raise UserError(f"name the backup target (this node's targets: {known})")


def _key_text(args: argparse.Namespace) -> str | None:
    path = getattr(args, "key_file", None)
    if path is None:
        return None
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise UserError(f"cannot read the key file {path}: {exc.strerror}") from None


def _repo(args: argparse.Namespace, writing: bool = False) -> tuple[repos.Repository, repos.TargetSettings | None]:
    """The target the user named, opened, with the node's settings for it; a mirror refused when ``writing``."""
    url, settings = _pick(args)
    repo = repos.open_repository(url, _key_text(args), settings, getattr(args, "endpoint", None))
    if writing and repo.target.read_only:
        raise UserError(read_only_message(repo.url))
    return repo, settings


def backup_init(args: argparse.Namespace) -> int:
    node = _open(args)
    url = repos.target_url(args.target)
    if url.startswith(("http://", "https://")):
        raise UserError(read_only_message(url))
    repo, key = repos.create(url, args.public, node.keyring.get(NODE_KEY).public, args.endpoint)
    settings = repos.load_settings(node.dir)
    settings[url] = repos.TargetSettings(url, repo.descriptor["id"], args.public,
                                         key.hex() if key else None, args.endpoint)
    repos.save_settings(node.dir, settings)
    if key is None:
        out.print(f"{url} is ready: a public target (unencrypted; only what anyone may hold goes there)")
    else:
        out.print(f"{url} is ready, encrypted with this key (kept in {node.dir / repos.SETTINGS}; "
                  f"keep a copy away from the node: restore needs it):")
        out.print(key.hex())
    return 0


@contextmanager
def _one_run_at_a_time(node_dir: Path) -> Iterator[None]:
    """Hold the node's backup lock: two runs at once would each send what the other is sending."""
    with open(node_dir / "backup.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError("another 'wikipeer backup run' of this node is going on; wait for it to end") from None
        yield


def backup_run(args: argparse.Namespace) -> int:
    node = _open(args)
    repo, settings = _repo(args, writing=True)
    if repo.descriptor["node"] != node.keyring.get(NODE_KEY).public:
        raise UserError(f"{repo.url} holds the backups of the node with key {repo.descriptor['node']}, not this one's; "
                        "import that node key ('wikipeer key import') or back up to a new target")
    signing_key = node.keyring.signing_key(NODE_KEY, node.passphrase)
    with (_one_run_at_a_time(node.dir), locking.hold(repo, node.dir),
          progress_bar("backing up", None, args.quiet, "blocks") as bar):
        # Told before the run: the new snapshot becomes the record and would hide the rollback.
        rolled_back = rollback.rolled_back(repo, settings)
        report = run_backup(node.store, repo, signing_key, lambda done, total: bar(done, total=total), node.dir)
        if report.snapshot is not None:
            rollback.record(node.dir, repo.url, report.snapshot)
    if rolled_back:
        out.print(f"ROLLED BACK {repo.url}: {rolled_back}")
    if report.snapshot is None:
        out.print(f"{repo.url}: nothing changed since the last snapshot; nothing written")
        return 1 if rolled_back else 0
    out.print(f"{repo.url}: {report.blocks} blocks in {report.packs} new packs ({report.bytes} bytes); "
              f"snapshot {report.snapshot.id} at log position {report.snapshot.position}")
    return 1 if rolled_back else 0


def backup_list(args: argparse.Namespace) -> int:
    repo, _ = _repo(args)
    for name in repo.snapshot_names():
        try:
            snap = repo.load(name)
        except (DamagedSnapshot, TargetError) as exc:  # listed all the same, with what is wrong
            out.print(f"{name.rsplit('-', 1)[-1]}  damaged: {exc}")
            continue
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(snap.time))
        out.print(f"{snap.id}  {when}  position {snap.position}  {len(snap.heads)} pages  {len(snap.packs)} packs")
    return 0


def _fraction(text: str) -> float:
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        value = -1
    if not 0 < value <= 1:
        raise UserError(f"--sample {text}: give a share of the packs, such as 5% or 0.05")
    return value


def backup_verify(args: argparse.Namespace) -> int:
    repo, settings = _repo(args)
    sample = _fraction(args.sample) if args.sample else 1.0
    with progress_bar("verifying", None, args.quiet, "packs") as bar:
        report = verify_target(repo, sample, lambda done, total: bar(done, total=total))
    rolled_back = rollback.rolled_back(repo, settings)
    if rolled_back:
        out.print(f"ROLLED BACK {rolled_back}")
    for problem in report.problems:
        out.print(f"DAMAGED {problem}")
    verdict = "problems found" if report.problems or rolled_back else "all sound"
    out.print(f"{repo.url}: {report.snapshots} snapshots, {report.packs} packs and {report.blocks} blocks checked; "
              f"{verdict}")
    return 1 if report.problems or rolled_back else 0


def backup_restore(args: argparse.Namespace) -> int:
    repo, _ = _repo(args)
    snap = repo.find(args.snapshot)
    if args.files:
        return _restore_files(repo, snap, args.files, args.to)
    with progress_bar("restoring", None, args.quiet, "packs") as bar:
        report = restore(repo, snap, Path(args.to), lambda done, total: bar(done, total=total))
    for problem in report.problems:
        out.print(f"DAMAGED {problem}")
    for reason in report.refused:
        out.print(f"refused: {reason}")
    for page in report.pages_differing:
        out.print(f"NOT AS AT THE SNAPSHOT: {page}")
    waiting = f", {report.held} waiting for lost blocks" if report.held > 0 else ""
    if report.accounts:
        out.print(f"{report.accounts} web accounts restored, with their keys")
    out.print(f"restored snapshot {snap.id} to {args.to}: {report.accepted} of {report.blocks} blocks "
              f"taken{waiting}; {len(snap.heads) - len(report.pages_differing)} of {len(snap.heads)} pages as at the snapshot")
    return 1 if report.problems or report.pages_differing or report.refused else 0


def _restore_files(repo: repos.Repository, snap: Snapshot, wanted: list[str], to: str) -> int:
    """``--files``: write single files into directory ``to`` (``-``: one file to standard output)."""
    if to == "-":
        if len(wanted) != 1:
            raise UserError("--to - writes one file to standard output; give one SHA-256, or a directory")
        report = extract(repo, snap, wanted, sys.stdout.buffer.write)
    else:
        report = extract(repo, snap, wanted, Path(to))
        for path in report.written:
            out.print(f"restored {path}")
    for problem in report.problems:
        print(f"NOT RESTORED {problem}", file=sys.stderr)
    return 1 if report.problems else 0


def backup_forget(args: argparse.Namespace) -> int:
    repo, _ = _repo(args, writing=True)
    directory = _dir(args)
    report = forgetting.forget(repo, args.keep_daily, args.keep_monthly, args.prune,
                               directory if directory.is_dir() else None)
    for snap in report.dropped:
        out.print(f"dropped snapshot {snap.id}")
    spared = (f"; {len(report.spared)} packs no snapshot names kept, being younger than "
              f"{forgetting.GRACE // 3600} hours (a run may be about to name them)" if report.spared else "")
    out.print(f"{len(report.kept)} snapshots kept, {len(report.dropped)} dropped, "
              f"{len(report.pruned)} packs pruned{spared}")
    return 0

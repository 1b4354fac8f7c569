"""``wikipeer migrate``: a node's store copied to a new location, every object through the ingest door,
then the node's own state beside them.

The objects go in log order, in the batches the network's receiver makes
(net/receive.py: a signature stays with what it signs, a file's chunks with the
file), each batch checked in the pipeline's workers and committed on its own.
Going through the door rather than copying rows means the target holds exactly
what its own backend's writer makes of each object (texts compressed its way,
chunks packed into its blob store), and every CID and signature is checked on
the way: a copy of a damaged store cannot pass for a sound one. A run that
stops (Ctrl-C, a bucket that went away) keeps what it committed; the next run
asks the target which objects it holds and sends only the others. The target
is checked by fsck at the end.

Copied: the objects (pages, revisions, texts, signatures, files and their
chunks, notices), the wikis' configurations, and the node's own state
(store/node_state_copy.py: peers with their keys, bans, counters and cursors,
peer candidates, leech accounting, MediaWiki peers and what was pushed to them,
hidden pages, revisions and file versions, notices still to gossip, wants, a
partial node's pins, git's build state, blocks held waiting, the text chain
and per-wiki search switches), its object ids and log positions translated by CID; each run
replaces the target's copy of that state whole, so a second run adds no row
twice. Not copied (docs/scale-blobs.md): what the target rebuilds (the search
index: its indexer takes the pages ingest marked, in `serve` or `wikipeer
index`; trained text dictionaries, notice and origin indexes, made by the door),
and signed requests' nonces (they expire in minutes). What lives in the node's folder stays with the folder
and needs no copy: keys, config.json (views, trust settings), accounts.sqlite
(accounts, bot passwords and their grants) and the rendered-page cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from wikipeer.errors import NotFound, UserError
from wikipeer.fsck import Fault, fsck
from wikipeer.model.block import Block
from wikipeer.node import Node
from wikipeer.store import engine
from wikipeer.store.blobs import open_blobs
from wikipeer.store.node_state_copy import StateCopied, copy_node_state, pulled
from wikipeer.store.store import Store

SOURCE = "migrate"
LOOKUP = 5000  # log entries asked of the target at once: which of them it holds


@dataclass(slots=True)
class Migrated:
    """What a run of migrate did, and what fsck found on the target."""

    objects: int = 0  # in the source's log
    present: int = 0  # the target held them already (an earlier run)
    accepted: int = 0
    held: int = 0
    refused: int = 0
    rejected: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # source objects whose bytes cannot be read back
    checked: int = 0
    faults: list[Fault] = field(default_factory=list)
    state: StateCopied = field(default_factory=StateCopied)  # the node's own state, by table


def migrate(node: Node, to: str, blobs: str | None = None,
            progress: Callable[[int, int], None] | None = None) -> Migrated:
    """Copy ``node``'s store to ``to``, a SQLite file or a postgresql:// URL (chunks to ``blobs``, or packs
    beside a SQLite file); fsck it."""
    from wikipeer.net.receive import first_causes, take  # the receiver's batching and tally

    target = _open_target(node, to, blobs)
    try:
        for wiki in node.store.wikis():
            config = node.store.wiki_config(wiki)
            if config is not None and target.wiki_config(wiki) is None:
                target.set_wiki_config(config)
        into = Node(node.dir, target, node.keyring, replace(node.config, blobs=target.meta("blobs")))
        report = Migrated(objects=node.store.last_seq())
        before = pulled(node.store)  # a node serving meanwhile pulls more: its cursors say no more than this
        tally = take(into, _missing(node.store, target, report, progress), SOURCE, shallow=True)
        report.accepted, report.held, report.refused = tally.accepted, tally.held, tally.rejected
        report.rejected = first_causes(tally.reasons, tally.rejected)
        report.state = copy_node_state(node.store, target, before)  # after the objects: rows name them
        report.checked, report.faults = fsck(target)
        return report
    finally:
        target.close()


def check_switch(node: Node, to: str) -> None:
    """Refuse ``--switch`` before anything is copied, when the node could not simply go on from ``to``."""
    if not engine.is_database_url(to):
        raise UserError(f"--switch: a node's SQLite store is always {node.dir / 'store.sqlite'}; "
                        f"to use {to}, stop the node and move the file (and its .packs folder) there")


def switch_refused(report: Migrated) -> str | None:
    """Why the node must not switch to the target this run copied to, or None. Besides faults, objects not
    copied and blocks still waiting: a hide the target could not take (its object is not there) would
    leave that object shown if it arrived later."""
    if report.faults or report.unreadable or report.refused or report.held:
        return "the copy is not whole (see above)"
    hides = sum(report.state.skipped.get(table, 0) for table in ("hidden_pages", "hidden_items"))
    if hides:
        return (f"{hides} hidden pages or revisions name objects the target does not hold: once there, they "
                f"would show; run migrate again when the objects are copied")
    return None


def switch(node: Node, to: str, blobs: str | None) -> None:
    """Make ``node`` use the store ``to`` from now on (config.json's store and blobs); the old one is left as
    it was, to be removed by hand once the new one has served a while. The node's state came with the objects
    (peers and their cursors, hidden items: see the module's docstring), so it goes on where it was."""
    check_switch(node, to)
    node.config.store, node.config.blobs = to, blobs
    node.save_config()


def _open_target(node: Node, to: str, blobs: str | None) -> Store:
    """The store ``to`` names, made if absent; refused when it is the node's own or cannot be made."""
    if engine.is_database_url(to):
        if to == node.store.database:
            raise UserError(f"--to {engine.server_name(to)}: that is this node's own store; name another database")
        if blobs is None:
            # Pack files beside a database would be beside this node's own store, and reach no other machine.
            raise UserError(f"--to {engine.server_name(to)}: give --blobs s3://... too: a store in PostgreSQL keeps "
                            "its media chunks where every machine that serves it reaches them")
        open_blobs(blobs, node.store.path).check()
        engine.create_database(to)
        return Store(node.store.path, _chain(node), blobs=blobs, database=to)
    path = Path(to).expanduser().absolute()
    if path == node.store.path.absolute() and node.store.database is None:
        raise UserError(f"--to {path}: that is this node's own store; name a new file")
    if path.is_dir() or not path.parent.is_dir():
        raise UserError(f"--to {path}: give the path of a store file in an existing folder")
    if blobs is not None and not path.exists():  # a bucket that cannot be used is named before the file is made
        open_blobs(blobs, path).check()
    return Store(path, _chain(node), blobs=blobs)


def _chain(node: Node) -> int | None:
    """The node's chain setting, when it set one: the target's texts are stored with it from the first."""
    chain = node.store.meta("chain")
    return int(chain) if chain else None


def _missing(source: Store, target: Store, report: Migrated,
             progress: Callable[[int, int], None] | None) -> Iterator[Block]:
    """The source's blocks the target lacks, in log order; ``report`` counts those it has."""
    rows: list[tuple[int, bytes]] = []
    for row in source.log_cids():
        rows.append(row)
        if len(rows) >= LOOKUP:
            yield from _lacking(source, target, rows, report, progress)
            rows = []
    yield from _lacking(source, target, rows, report, progress)


def _lacking(source: Store, target: Store, rows: list[tuple[int, bytes]], report: Migrated,
             progress: Callable[[int, int], None] | None) -> Iterator[Block]:
    if not rows:
        return
    have = target.existing([cid for _, cid in rows])
    report.present += len(have)
    for seq, cid in rows:
        if cid in have:
            continue
        try:
            block = source.get_block(cid)
        except NotFound as exc:  # a chunk whose pack is gone: named, and fsck on the target shows its file
            report.unreadable.append(f"#{seq}: {exc}")
            continue
        if block is not None:
            yield block
    if progress:
        progress(rows[-1][0], report.objects)

"""One function per command; each reads its arguments and calls the layers below."""

from __future__ import annotations

import argparse
import difflib
import ipaddress
import os
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from wikipeer.cli import indexing
from wikipeer.cli.shell import _cid, _dir, _open, announcing_new_key, key_created, out, people_of
from wikipeer.errors import InvalidObject, NotFound, UserError
from wikipeer.model.cid import cid_to_str
from wikipeer.node import Node, find_page, require_wiki
from wikipeer.store import hidden
from wikipeer.store.records import PageRow, RevInfo

if TYPE_CHECKING:
    import socket

    from wikipeer.net.dht_node import Participant
    from wikipeer.net.ratelimit import Limits
    from wikipeer.web.access_log import AccessLogFile
    from wikipeer.store.people import People
    from wikipeer.formats.dump_errors import DumpError
    from wikipeer import hiding

def _when(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _rev_line(node: Node, rev: RevInfo, people: People, keys: bool = False, where: str = "") -> str:
    """One revision: trusted mark, CID, time, size, [page,] who made it (by name, or the key with ``keys``), summary."""
    view = node.view()
    trusted = "✓" if view.is_trusted(rev) else " "
    shown = people.author(rev, view.trusted)  # as the web names them: an imported user, "anonymous" or a key's name
    who = rev.author if keys and shown.kind not in ("imported", "anonymous") else shown.label
    return f"{trusted} {rev.cid_str}  {_when(rev.ts)}  {rev.size:>7}  {where}{who}  {rev.comment}"


def _read_input(path: Path | None) -> bytes:
    """A file's bytes, or stdin's when no file is named; an unreadable file is a user error."""
    if path is None:
        return sys.stdin.buffer.read()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None


def init(args: argparse.Namespace) -> int:
    node = Node.init(_dir(args), chain=args.chain, store=args.store, blobs=args.blobs)
    out.print(f"node at {node.dir}; node key {node.keyring.get('node').public}")
    if args.sample:
        from wikipeer.sample import SAMPLE_WIKI, load_sample

        if node.store.pages(SAMPLE_WIKI):
            out.print(f"sample wiki {SAMPLE_WIKI!r} is already here")
        else:
            out.print(f"loaded the sample wiki {SAMPLE_WIKI!r}: {load_sample(node)} revisions")
            node.catch_up_index()  # a dozen pages: searchable at once
    return 0


def key_new(args: argparse.Namespace) -> int:
    node = _open(args)
    passphrase = node.passphrase if args.passphrase_protect else None
    if args.passphrase_protect and not passphrase:
        raise UserError("--passphrase-protect needs the passphrase in $WIKIPEER_PASSPHRASE")
    identity = node.keyring.create(args.name, passphrase)
    if args.default:
        node.config.default_key = args.name
        node.save_config()
    out.print(key_created(node, identity) + ("; it signs your edits from now on" if args.default else ""))
    return 0


def key_list(args: argparse.Namespace) -> int:
    node = _open(args)
    default = node.config.default_key
    for identity in node.keyring.list():
        flags = ["default"] if identity.name == default else []
        flags += [] if identity.private else ["public only"]
        flags += ["sealed"] if identity.encrypted else []
        out.print(f"{identity.name:<16} {identity.public}" + (f"  ({', '.join(flags)})" if flags else ""))
    return 0


def key_export(args: argparse.Namespace) -> int:
    node = _open(args)
    if args.private:
        out.print(node.keyring.export_seed(args.name, node.passphrase))
    else:
        out.print(node.keyring.get(args.name).public)
    return 0


def key_import(args: argparse.Namespace) -> int:
    node = _open(args)
    text = _read_input(None if args.file == "-" else Path(args.file)).decode("utf-8", "replace").strip()
    if text.startswith("ed25519-seed:"):
        identity = node.keyring.import_seed(args.name, text)
    else:
        identity = node.keyring.import_public(args.name, text)
    out.print(f"{identity.name} {identity.public}")
    return 0


def key_profile(args: argparse.Namespace) -> int:
    from wikipeer.notices import publish_profile

    node = _open(args)
    with announcing_new_key(node):
        profile = publish_profile(node, args.display_name, args.about, args.key)
    out.print(f"published: key {profile.key} goes by {profile.name!r} (peers learn it by gossip)")
    return 0


def edit(args: argparse.Namespace) -> int:
    from wikipeer import authoring

    node = _open(args)
    raw = _read_input(args.file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"the text is not valid UTF-8 (byte offset {exc.start})") from None
    if not text.strip() and not args.allow_empty:
        # An empty stdin is most often a mistake (a forgotten redirection), not a wish to blank the page.
        where = f"{args.file} is empty" if args.file else "nothing came on stdin"
        raise UserError(f"the text is empty ({where}); nothing was saved: give the page's text on stdin or with "
                        "--file, or add --allow-empty to save an empty page")
    new_wiki = _check_new_wiki(node, args)
    parents = tuple(_cid(p) for p in args.parent) if args.parent else None
    with announcing_new_key(node):
        result = authoring.edit(node, args.wiki, args.title, text, args.summary, parents=parents, minor=args.minor)
    heads = node.store.heads(node.store.object_id(result.page))
    if args.quiet:
        out.print(cid_to_str(result.rev))
    else:
        title = node.wiki_or_default(args.wiki).full_title(*_page_name(node, result.page))
        signer = _key_name(node, node.store.revision(result.rev).author)
        wiki = f"the new wiki {args.wiki!r}" if new_wiki else f"wiki {args.wiki!r}"
        out.print(f"saved {title!r} in {wiki}: revision {_short_cid(result.rev)}, signed by {signer}")
    if len(heads) > 1:
        note = f"note: the page now has {len(heads)} heads (a fork); see 'wikipeer heads'"
        if args.quiet:  # stdout holds the CID alone
            print(note, file=sys.stderr)
        else:
            out.print(note, style="yellow")
    return 0


def _check_new_wiki(node: Node, args: argparse.Namespace) -> bool:
    """Whether the edit starts a wiki; one whose name is a near miss of a wiki held here is taken for a typo."""
    from wikipeer.store.nearest import typos_of, unknown_wiki

    unknown = unknown_wiki(node.store, args.wiki)
    if unknown is not None and typos_of(args.wiki, unknown.near) and not args.new_wiki:
        raise UserError(f"{unknown.sentence}; nothing was saved: add --new-wiki to start the wiki {args.wiki!r}")
    return unknown is not None


def _page_name(node: Node, page_cid: bytes) -> tuple[int, str]:
    """(namespace, title) of a page this node holds, as normalised when it was made."""
    row = node.store.page_by_id(node.store.object_id(page_cid))
    return row.ns, row.title


def _key_name(node: Node, public: str) -> str:
    """The key that signed, by the name this node knows it by (store/people.py)."""
    return f"key {people_of(node).person(public).name!r}"


def _short_cid(cid: bytes) -> str:
    """A CID cut to what a person compares by eye, its end as the web's short() shows it (every CID of a
    node begins alike); ``history`` lists it whole, ``edit -q`` prints it whole."""
    return "…" + cid_to_str(cid)[-10:]


def upload(args: argparse.Namespace) -> int:
    from wikipeer import uploading

    node = _open(args)
    wiki = args.wiki
    if wiki is None:
        wikis = node.store.wikis()
        if len(wikis) != 1:
            held = f"this node holds {', '.join(wikis)}" if wikis else "this node holds no wiki yet"
            raise UserError(f"name the wiki the file belongs to with --wiki ({held})")
        wiki = wikis[0]
    data = uploading.read_file(args.file, node.policy().max_file)
    with announcing_new_key(node):
        made = uploading.upload(node, wiki, args.title, data, args.comment)
    out.print(f"{cid_to_str(made.file)} {made.title} sha256:{made.sha256}")
    return 0


def hide(args: argparse.Namespace) -> int:
    from wikipeer import hiding

    node = _open(args)
    named = hiding.target(node, args.wiki, args.title, args.revision, args.file)
    hiding.hide(node, named, args.reason)
    out.print(f"hidden: {_what(named)}; its signed history stays ('wikipeer unhide' shows it again)")
    return 0


def unhide(args: argparse.Namespace) -> int:
    from wikipeer import hiding

    node = _open(args)
    named = hiding.target(node, args.wiki, args.title, args.revision, args.file)
    if not hiding.unhide(node, named):
        raise UserError(f"{_what(named)} is not hidden")
    out.print(f"shown again: {_what(named)}")
    return 0


def _what(named: hiding.Target) -> str:
    if named.revision is not None:
        return f"revision {named.revision.cid_str}"
    if named.file is not None:
        return f"file version sha256:{named.file.sha256}"
    return f"the page {named.page.title!r}"


def _shown(node: Node, wiki: str, title: str, rev: str | None, view: str | None = None) -> RevInfo:
    page = find_page(node, wiki, title)
    if rev:
        info = node.store.revision(_cid(rev))
        if info.page != page.id:
            raise UserError(f"revision {rev} belongs to another page")
        record = hidden.hidden_items(node.store, page.id).get(info.id)
        if record is not None:
            raise NotFound(f"revision {rev} was hidden ({record.reason}); 'wikipeer unhide' shows it again")
        return info
    head = node.view(view).shown(node.store, page.id)
    if head is None:
        raise NotFound(f"page {title!r} has no revisions")
    return head


def show(args: argparse.Namespace) -> int:
    node = _open(args)
    if not args.rev:
        _check_shown(node, args.wiki, args.title)
    sys.stdout.write(node.store.revision_text(_shown(node, args.wiki, args.title, args.rev, args.view)))
    return 0


def _check_shown(node: Node, wiki: str, title: str) -> None:
    """A page hidden on this node (deleted on the MediaWiki it follows) is not shown, as on the web page: say why."""
    page = find_page(node, wiki, title)
    record = hidden.hidden(node.store, page.id)
    if record is not None:
        full = node.wiki_or_default(wiki).full_title(page.ns, page.title)
        raise NotFound(f"page {full!r} was {record.reason}; this node keeps its signed history "
                       f"('wikipeer history {wiki} {title!r}' lists it, --rev shows one revision) but no longer "
                       "shows it")


def history(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be at least 1, not {args.limit}")
    node = _open(args)
    page_id = find_page(node, args.wiki, args.title).id
    revs = node.store.history(page_id) if args.limit is None else node.store.history_page(page_id, args.limit)
    people = people_of(node)
    for rev in revs:
        out.print(_rev_line(node, rev, people, args.keys))
    return 0


def heads(args: argparse.Namespace) -> int:
    node = _open(args)
    people = people_of(node)
    for rev in node.view().ordered(node.store, find_page(node, args.wiki, args.title).id):
        out.print(_rev_line(node, rev, people, args.keys))
    return 0


def recent(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UserError(f"--limit must be at least 1, not {args.limit}")
    node = _open(args)
    if args.wiki is not None:
        require_wiki(node, args.wiki)
    people = people_of(node)
    revs = node.store.recent(args.limit, args.wiki)
    for rev in revs:
        row = node.store.page_by_id(rev.page)
        title = node.wiki_or_default(row.wiki).full_title(row.ns, row.title)
        out.print(_rev_line(node, rev, people, args.keys, f"{row.wiki}: {title}  "))
    if not revs:
        out.print("no revisions yet")
    return 0


def diff(args: argparse.Namespace) -> int:
    node = _open(args)
    old, new = (node.store.revision(_cid(c)) for c in (args.old, args.new))
    for name, rev in ((args.old, old), (args.new, new)):
        if hidden.is_hidden_item(node.store, rev.id):
            raise NotFound(f"revision {name} is hidden on this node; 'wikipeer unhide' shows it again")
    lines = difflib.unified_diff(
        node.store.revision_text(old).splitlines(keepends=True), node.store.revision_text(new).splitlines(keepends=True),
        fromfile=args.old, tofile=args.new)
    sys.stdout.writelines(line if line.endswith("\n") else line + "\n" for line in lines)
    return 0


def search(args: argparse.Namespace) -> int:
    from wikipeer.store.indexer import SearchOff, reported_lag, search_off

    node = _open(args)
    off = search_off(node.store)
    wikis = node.store.wikis()
    if wikis and off.issuperset(wikis):
        raise SearchOff(sorted(off))
    gone = hidden.hidden_pages(node.store)  # as the web page's search: hidden pages are left out
    hits = [(page, snippet) for page, snippet in node.store.search(args.query, args.limit + len(gone))
            if page.id not in gone][:args.limit]
    for page, _ in hits:
        _print_hit(node, page, args.query)
    if not hits:
        out.print("no pages match")
    behind = reported_lag(node.store)
    if behind:
        print(f"note: the search index is {behind} pages behind: pages changed lately may be missing or shown "
              "as they were ('wikipeer index' catches it up)", file=sys.stderr)
    if off:
        print(f"note: {SearchOff(sorted(off))}", file=sys.stderr)
    return 0


def _print_hit(node: Node, page: PageRow, query: str) -> None:
    """One result line: wiki, title and the text around the first match, the matches bold on a terminal."""
    from wikipeer.snippets import page_snippet, title_snippet

    title = title_snippet(node.wiki_or_default(page.wiki), page, query)
    parts = [(f"{page.wiki}: ", False), *title.parts(), ("  ", False), *page_snippet(node, page, query).parts()]
    if not sys.stdout.isatty():  # plain text for pipes and scripts, without loading rich
        out.print("".join(piece for piece, _ in parts))
        return
    from rich.text import Text
    out.print(Text.assemble(*((piece, "bold" if hit else "") for piece, hit in parts)))


def import_dump(args: argparse.Namespace) -> int:
    from wikipeer.cli.progress import progress_bar
    from wikipeer.formats.dump_import import import_dump as run_import

    node = _open(args)
    total = Path(args.file).stat().st_size if args.file != "-" and Path(args.file).is_file() else None
    with progress_bar("importing", total, args.quiet, "bytes") as bar:
        summary = run_import(node, args.file, args.wiki,
                             lambda s, done, size: bar(done, f"{s.pages} pages, {s.revisions} revisions"), total)
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    resumed = f" (resumed after page {summary.resumed_after})" if summary.resumed_after else ""
    files = f", {summary.files} file versions ({summary.new_files} new)" if summary.files else ""
    print(f"imported {summary.pages} pages, {summary.revisions} revisions ({summary.new_revisions} new){files} into "
          f"{summary.wiki or 'no wiki'}{resumed}; {summary.skipped_pages} pages skipped", flush=True)
    if summary.error is not None:
        print(f"wikipeer: {_dump_failure(args.file, summary.error)}", file=sys.stderr)
    indexing.catch_up(node, quiet=args.quiet, later=args.index_later, wait=args.wait_index)
    return summary.error.exit_code if summary.error is not None else 0


def _since(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--since: not a date: {text!r} (use YYYY-MM-DD or an ISO time)") from None
    return int((when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp() * 1000)


def _dump_failure(path: str, error: DumpError) -> str:
    """Why an import stopped, where in which file, and what to do: the import resumes where it stopped."""
    from wikipeer.formats.dump_errors import TruncatedDump

    name = "standard input" if path == "-" else path
    if isinstance(error, TruncatedDump):
        what = "get the whole file and run the same 'wikipeer import' again"
    else:
        what = "mend the file (or fetch it again) and run the same 'wikipeer import' again"
    if error.last_title is None:
        return f"{name}: {error}. Nothing was imported from it; {what}"
    return (f"{name}: {error}. The pages up to {error.last_title!r} are imported; {what}: "
            "it does not import them twice")


def export_dump(args: argparse.Namespace) -> int:
    if args.zim is not None:
        from wikipeer.cli.zim_commands import export_zim

        return export_zim(args)
    if args.view or args.namespaces != "0":
        raise UserError("--view and --namespaces are for ZIM files (--zim OUT.zim); an XML dump holds every page")
    from wikipeer.cli.progress import progress_bar
    from wikipeer.formats.dump_export import ExportOptions, export_dump as run_export
    from wikipeer.formats.output import atomic_output

    node = _open(args)
    require_wiki(node, args.wiki)
    config = node.wiki_or_default(args.wiki)
    pages = [find_page(node, args.wiki, t) for t in args.pages] if args.pages else node.store.pages(args.wiki)
    options = ExportOptions(current=args.current, since_ms=_since(args.since), uploads=args.uploads,
                            include_files=args.include_files)
    with atomic_output(args.output) as stream, progress_bar(f"exporting {args.wiki}", None, args.quiet) as bar:
        count = run_export(node.store, config, pages, node.view(), options, stream, people_of(node),
                           lambda done, total: bar(done, total=total))
    print(f"exported {count} pages of {args.wiki} to {args.output}", file=sys.stderr)
    return 0


def fsck(args: argparse.Namespace) -> int:
    from wikipeer.cli.progress import progress_bar
    from wikipeer.fsck import fsck as run_fsck
    from wikipeer.store.integrity import dead_record_bytes, orphan_packs

    node = _open(args)
    with progress_bar("checking", node.store.last_seq(), args.quiet, "objects") as update:
        checked, faults = run_fsck(node.store, update)
    for fault in faults:
        print(f"fault: {fault}")
    orphans = orphan_packs(node.store)
    if orphans:
        print(f"note: {len(orphans)} packs in {node.store.blobs.url} ({sum(orphans.values())} bytes) hold no chunk "
              "or text the store names: writes that failed left them; harmless")
    dead = dead_record_bytes(node.store)
    if dead:
        print(f"note: {dead} bytes of records in the packs of {node.store.blobs.url} are named by no row (texts "
              "compressed again with a dictionary, texts of evicted pages, a write that failed): harmless")
    print(f"checked {checked} objects: " + (f"{len(faults)} faults" if faults else "no faults"))
    return 1 if faults else 0


def stats(args: argparse.Namespace) -> int:
    node = _open(args)
    out.print(f"{'wiki':<20} {'pages':>8} {'revisions':>10} {'blocks':>10} {'bytes':>12}")
    for s in node.store.stats():
        out.print(f"{s.wiki:<20} {s.pages:>8} {s.revisions:>10} {s.blocks:>10} {s.bytes:>12}")
    held = node.store.held_stats()
    out.print(f"held (waiting for what has not come): {sum(h.objects for h in held)} objects, "
              f"{sum(h.bytes for h in held)} bytes")
    now = time.time()
    for h in held:
        out.print(f"  {h.source:<40} {h.objects:>8} objects {h.bytes:>12} bytes  oldest {_age(now - h.since)}")
    files, size, stored = node.store.files_stats()
    if files:
        out.print(f"media: {files} file versions, {size} bytes, {stored} bytes in packs (shared chunks stored once)")
    behind = node.store.index_lag()
    out.print(f"search index: {behind} pages behind ('wikipeer index' catches it up)" if behind
              else "search index: up to date")
    out.print(f"store file: {node.store.file_size()} bytes on disk")
    return 0


def _age(seconds: float) -> str:
    """A duration as a person reads it: 42 s, 17 min, 5 h, 3 d."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{max(int(seconds), 0)} s"


MAX_WORKERS = 256


def serve(args: argparse.Namespace) -> int:
    """Serve the node on the web: bind first, then say so, then answer until stopped."""
    from wikipeer.net.ratelimit import Limits
    from wikipeer.web.access_log import AccessLogFile
    from wikipeer.web.listen import bind, bind_shared, keep_one, url

    workers = args.workers
    if not 1 <= workers <= MAX_WORKERS:
        raise UserError(f"--workers {workers}: give a number of processes from 1 to {MAX_WORKERS}")
    limits = Limits.from_rates(_rates(args.rate_limit))
    proxies = [_proxy(a) for a in args.trusted_proxy]
    node = _open(args)
    access_log = AccessLogFile(args.access_log) if args.access_log else None
    from wikipeer.cli.dht_commands import check_dht_port, join_dht

    # A UDP port taken is said before "serving", as a TCP one is. With workers, the elected one joins the DHT:
    # a participant is a thread, and no thread may cross a fork.
    if workers > 1 and args.dht is not None:
        check_dht_port(args)
    participant = join_dht(args) if workers == 1 else None
    socks = bind_shared(args.host, args.port, workers) if workers > 1 else [bind(args.host, args.port)]
    out.print(f"serving {node.dir} on {url(args.host, socks[0].getsockname()[1])}"
              + (f" with {workers} workers" if workers > 1 else ""))
    sys.stdout.flush()  # a log or `make run` piped through tee shows it now, not when the server stops
    try:
        if workers > 1:
            import uvicorn  # noqa: F401 - imported once, before the fork: no worker imports them again
            import wikipeer.web.app  # noqa: F401
            from wikipeer.web.workers import Supervisor

            node.close()  # each worker opens the node itself: no connection crosses a fork
            # Password hashes take 64 MiB each: the machine's bound is shared out, not multiplied.
            limits.hashing.size = max(1, limits.hashing.size // workers)
            return Supervisor(workers, lambda slot: _serve_node(args, _open(args), keep_one(socks, slot), limits,
                                                                proxies, access_log, None, worker=True)).run()
        return _serve_node(args, node, socks[0], limits, proxies, access_log, participant)
    finally:
        for sock in socks:
            sock.close()
        if access_log is not None:
            access_log.close()


def _serve_node(args: argparse.Namespace, node: Node, sock: socket.socket, limits: Limits, proxies: list[str],
                access_log: AccessLogFile | None, participant: Participant | None, worker: bool = False) -> int:
    """One serving process: its background loops (in one worker of many: the elected one), the DHT participant
    if any, the app, uvicorn."""
    import uvicorn

    from wikipeer.cli.dht_commands import lead_dht, serve_dht, worker_finder
    from wikipeer.web.app import create_app
    from wikipeer.web.listen import url

    stop = threading.Event()
    address = url(args.host, sock.getsockname()[1])
    # Where other nodes reach this one (DHT records, hello): --url, else where it listens, unless everywhere.
    args.url = args.url or (None if args.host in ("0.0.0.0", "::") else address)

    def lead(ended: threading.Event) -> None:
        _background(args, node, ended)
        if worker and args.dht is not None:
            lead_dht(args, node, address, ended, _warn)
            # The participant's UDP port cannot be handed over within this process: a worker that loses the
            # lead exits, and the supervisor forks a new one, which asks for the lead again.
            threading.Thread(target=_exit_when_lead_lost, args=(ended, stop), daemon=True).start()

    if worker or node.store.database is not None:  # several processes, or machines, may serve this store
        from wikipeer.web.leader import lead_when_elected

        lead_when_elected(node.store, stop, lead)
    else:
        _background(args, node, stop)
    if worker and args.dht is not None:
        finder = worker_finder(args, node)
    else:
        finder = serve_dht(participant, args, node, address, stop, _warn)
    app = create_app(node, default_wiki=args.wiki, limits=limits, cookie_secure=args.cookie_secure,
                     access_log=access_log, finder=finder)
    # uvicorn trusts X-Forwarded-* from 127.0.0.1 unless told otherwise: here only from --trusted-proxy.
    if worker:
        from wikipeer.web.workers import WorkerHeader

        app = WorkerHeader(app)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning",
                                           access_log=False, proxy_headers=bool(proxies),
                                           forwarded_allow_ips=proxies))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # Ctrl-C while starting: uvicorn handles it once it runs
    finally:
        stop.set()
    return 0


def _exit_when_lead_lost(ended: threading.Event, stop: threading.Event) -> None:
    ended.wait()
    if not stop.is_set():  # lost, not a stop of the server
        os.kill(os.getpid(), signal.SIGTERM)


def _background(args: argparse.Namespace, node: Node, stop: threading.Event) -> None:
    """The server's loops, each in its thread until ``stop``: search indexer, gossip, verifying the nodes that
    said hello, and sync if asked (which says hello to the ring neighbours as ``args.url``, if known)."""
    from wikipeer.net.gossip import gossip_forever
    from wikipeer.net.hello import welcome_forever
    from wikipeer.mediawiki.peer_sync import sync_forever  # node peers and followed MediaWikis alike

    from wikipeer.store import indexer

    # The search index is built behind the writers: this thread indexes what imports, syncs and edits mark.
    threading.Thread(target=indexer.follow, args=(node.store, node.index_keys, stop, _warn), daemon=True,
                     name="indexer").start()
    threading.Thread(target=gossip_forever, args=(node, args.gossip_every, stop, _warn), daemon=True).start()
    threading.Thread(target=welcome_forever, args=(node, args.gossip_every, stop, _warn), daemon=True,
                     name="hello").start()
    if args.sync_every:
        threading.Thread(target=sync_forever, args=(node, args.sync_every, stop, _warn, args.url),
                         daemon=True).start()


def _rates(options: list[str]) -> dict:
    """``--rate-limit KIND=PER_MINUTE:BURST`` options by kind (a Rate, or None for off)."""
    from wikipeer.net.ratelimit import LIMIT_KINDS, Rate

    rates = {}
    for option in options:
        kind, _, rate = option.partition("=")
        if kind not in LIMIT_KINDS or not rate:
            raise UserError(f"bad --rate-limit {option!r}: write KIND=PER_MINUTE:BURST or KIND=off, "
                            f"KIND one of {', '.join(LIMIT_KINDS)}")
        rates[kind] = Rate.parse(rate)
    return rates


def _proxy(address: str) -> str:
    """A --trusted-proxy address or network, checked (uvicorn would silently ignore a typo)."""
    try:
        return str(ipaddress.ip_network(address.strip(), strict=False))
    except ValueError:
        raise UserError(f"bad --trusted-proxy {address!r}: give an IP address or network (e.g. 10.0.0.1 or "
                        "10.0.0.0/24)") from None


def _warn(message: str) -> None:
    print(f"wikipeer: {message}", file=sys.stderr)

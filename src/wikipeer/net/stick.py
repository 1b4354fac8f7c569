"""The USB stick: a village's edits out, the pages it asked for back.

    STICK/README.txt     for the person who carries it
    STICK/state.json     which node is home, how far the outbox has carried
    STICK/outbox/        bundles of the home node's own signed changes
    STICK/requests/      what the home node's users asked for, and a summary
                         of what it already holds (have.summary)
    STICK/responses/     bundles written by the connected node, and ack.json
                         (which outbox bundles it took)

At home, ``stick home`` imports responses, then writes the outbox and the
requests. At the connected place, ``stick serve`` imports the outbox (every
signature checked, as a sync would), answers the requests from its store and
its peers, and writes responses that fit the free space, the pages asked for
before their older history, and all text before any file: a page's files
(those it shows) and files asked for by SHA-256 go in bundles of their own,
one per file, while room lasts; a stick with room only for text says how many
files and bytes were left out, and those requests go out again.

Every file is written to a temporary name and renamed when whole, and the
state last, so pulling the stick out at any moment leaves the old files or
the new ones; a file cut short anyway fails its check and is written again
on the next trip. An outbox bundle leaves the stick only once the connected
node has acknowledged it, so edits are never lost on the way.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from wikipeer.errors import InvalidObject, UserError
from wikipeer.formats.bundle import Checked, read_blocks, verify_bundle, write_bundle
from wikipeer.formats.summary import Summary
from wikipeer.model.block import Block
from wikipeer.model.media import NS_FILE
from wikipeer.model.title import BadTitle, normalize_title
from wikipeer.net.fetch import fetch_search, fetch_titles, shown_files
from wikipeer.net.receive import first_causes, take
from wikipeer.node import Node
from wikipeer.store import log, revlists
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.peers import PeerBook
from wikipeer.store.records import FileInfo, PageRow, RevInfo
from wikipeer.store.wants import Want, Wants

STATE, README, ACK, SUMMARY, ANSWERS = "state.json", "README.txt", "ack.json", "have.summary", "answers.json"
MARGIN = 64 * 1024  # bytes left free on the stick
HISTORY_CHUNK = 200  # revisions per history bundle: small, so a nearly full stick still takes some

README_TEXT = """This USB stick carries a wiki between two places.

At home (the place without internet), plug it in and run:

    wikipeer stick home {path}

At the connected place (a school, a library, an office with internet), run:

    wikipeer stick serve {path}

Then bring the stick back home and run the first command again.
Nothing on the stick can be forged or lost: every edit is signed and checked.
Please do not delete the folders on this stick; it may be left plugged in
or pulled out at any moment.
"""


class StickError(UserError):
    """The stick cannot be used as it is; the message says what to do."""


@dataclass(slots=True)
class StickState:
    """What the stick remembers between trips."""

    stick: str
    home: str | None = None
    trips: int = 0
    outbox_cursor: int = 0
    outbox: dict[str, list[int]] = field(default_factory=dict)  # bundle name -> [from, to] positions
    version: int = 1


# -- the stick's files ----------------------------------------------------------


def init_stick(path: Path) -> StickState:
    """Lay out an empty stick; an existing stick is left as it is."""
    for folder in ("outbox", "requests", "responses"):
        (path / folder).mkdir(parents=True, exist_ok=True)
    _write_text(path / README, README_TEXT.format(path=path))
    if (path / STATE).exists():
        return load_state(path)
    state = StickState(uuid.uuid4().hex)
    save_state(path, state)
    return state


def load_state(path: Path) -> StickState:
    """The stick's state; the copy made before the last save if the file was cut short."""
    if not (path / "outbox").is_dir():
        raise StickError(f"{path} is not a wikipeer stick: run 'wikipeer stick init {path}' first")
    for name in (STATE, STATE + ".bak"):
        try:
            data = json.loads((path / name).read_text())
            return StickState(**{k: v for k, v in data.items() if k in StickState.__dataclass_fields__})
        except (OSError, ValueError, TypeError):
            continue
    raise StickError(f"the stick's {STATE} is missing or damaged and has no good copy: "
                     f"run 'wikipeer stick init {path}' to start it afresh (bundles on it are kept)")


def save_state(path: Path, state: StickState) -> None:
    if (path / STATE).exists():
        shutil.copyfile(path / STATE, path / (STATE + ".bak"))
    _write_text(path / STATE, json.dumps(asdict(state), indent=1))


def _write_text(target: Path, text: str) -> None:
    _write_file(target, lambda f: f.write(text.encode()))


def _write_file(target: Path, write: Callable) -> None:
    """Write through a temporary name, synced, then renamed: a cut leaves the old file or none."""
    tmp = target.with_name(target.name + ".part")
    try:
        with tmp.open("wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _bundle(node: Node, target: Path, blocks: list[Block], note: dict) -> None:
    key = node.keyring.get(NODE_KEY).public
    signing = node.keyring.signing_key(NODE_KEY, node.passphrase)
    _write_file(target, lambda f: write_bundle(f, blocks, signing, key, note=json.dumps(note)))


def _checked_bundles(folder: Path, problems: list[str]) -> Iterator[Checked]:
    """The bundles in a folder that pass their check; the others are reported (and left for repair)."""
    for file in sorted(folder.glob("*.car")):
        try:
            yield verify_bundle(file)
        except InvalidObject as exc:
            problems.append(f"{file.name}: {exc}")


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


# -- at home ---------------------------------------------------------------


@dataclass(slots=True)
class HomeReport:
    """What a trip home did; ``refused`` is what this node refused of what came back, ``refused_there`` what the
    connected node refused of the edits carried last time (None when the stick brought no word of it)."""

    edits_out: int = 0
    objects_out: int = 0
    pages_in: int = 0
    revisions_in: int = 0
    refused: int = 0
    refused_there: int | None = None
    requests: int = 0
    met: int = 0
    problems: list[str] = field(default_factory=list)
    free: int = 0

    def sentence(self) -> str:
        there = "" if self.refused_there is None else \
            f" (of those carried last time, {self.refused_there} refused there)"
        return (f"{self.edits_out} edits carried out{there}, {self.pages_in} pages and {self.revisions_in} "
                f"revisions brought back ({self.refused} refused), {self.met} requests met, {self.requests} "
                f"waiting for the next trip, {_human(self.free)} free on the stick")

    @property
    def anything_refused(self) -> bool:
        return bool(self.refused or self.refused_there)


def home(node: Node, path: Path) -> HomeReport:
    """The home node's half of a trip: take what came back, send what was made and asked for here."""
    state = load_state(path)
    me = node.keyring.get(NODE_KEY).public
    if state.home is None:
        state.home = me
    elif state.home != me:
        raise StickError(f"this stick belongs to another node ({state.home}); use its own stick, or "
                         f"'wikipeer stick init' a new one for this node")
    report = HomeReport()
    _take_responses(node, path, state, report)
    _write_outbox(node, path, state, report)
    _write_requests(node, path, report)
    state.trips += 1
    save_state(path, state)
    report.free = free_bytes(path)
    return report


def _take_responses(node: Node, path: Path, state: StickState, report: HomeReport) -> None:
    damaged: list[str] = []
    forged = False
    for checked in _checked_bundles(path / "responses", damaged):
        before = node.store.last_seq()
        tally = take(node, read_blocks(checked), f"stick:{state.stick}", shallow=True)
        report.revisions_in += _revisions_since(node, before)
        report.pages_in += len(_note(checked).get("pages", []))
        node.adopt_wiki_configs(_note(checked).get("wikis", {}))  # a bad offer is simply not taken
        report.refused += tally.rejected
        report.problems += _refusals(f"{checked.path.name}: refused here", tally.reasons, tally.rejected)
        forged = forged or bool(tally.forgeries)
        checked.path.unlink()
    report.problems += damaged
    for bad in (path / "responses").glob("*.car"):
        bad.unlink()  # failed its check: the requests stay open and are answered again
    # Requests count as met only when the connected node wrote everything it meant to
    # (answers.json comes last) and every bundle arrived whole and unforged; otherwise they go out again.
    # A text refused by this node's own rules does not hold them back: _met looks at what is here.
    complete = _complete(path) if not damaged and not forged else set()
    (path / "responses" / ANSWERS).unlink(missing_ok=True)
    _read_acks(path, state, report)
    wants = Wants(node.store)
    for want in wants.open():
        if want.id in complete and _met(node, want):
            wants.done(want.id)
            report.met += 1


def _complete(path: Path) -> set[int]:
    try:
        complete = json.loads((path / "responses" / ANSWERS).read_text()).get("complete", [])
        return {int(i) for i in complete}
    except (OSError, ValueError, AttributeError, TypeError):
        return set()


def _met(node: Node, want: Want) -> bool:
    """A request for titles is met when every page is here with the files it shows; for files, when they
    are; a search, when the far side answered it."""
    if any(node.store.file_by_sha256(sha256) is None for sha256 in want.files):
        return False
    config = node.wiki_or_default(want.wiki) if want.wiki else None
    for title in want.titles:
        t = normalize_title(config, title)
        page = node.store.page(want.wiki, t.ns, t.text)
        if page is None or not node.store.heads(page.id) or _file_lacking(node, page):
            return False
    return True


def _file_lacking(node: Node, row: PageRow) -> bool:
    """Whether a file the page shows came without all of it: its file page is here (it travels with the
    file), but no whole version (a chunk that home's summary falsely said it holds was not sent). The
    request then goes out again, with a new summary. A file the far side does not have holds nothing
    back: its page does not come either."""
    return any(info is None for info in _shown_file_versions(node, row))


def _shown_file_versions(node: Node, row: PageRow) -> Iterator[FileInfo | None]:
    """For each file the page shows whose file page is held here, its newest whole version (None: none is)."""
    for name in shown_files(node, row):
        page = node.store.page(row.wiki, NS_FILE, name)
        if page is not None:
            yield node.store.current_file(page.id)


def _revisions_since(node: Node, position: int) -> int:
    return revlists.revisions_after(node.store, position)


def _note(checked: Checked) -> dict:
    try:
        note = json.loads(checked.manifest.note or "{}")
    except ValueError:
        return {}
    return note if isinstance(note, dict) else {}


def _read_acks(path: Path, state: StickState, report: HomeReport) -> None:
    """Outbox bundles the connected node took leave the stick; what it refused of them is reported."""
    try:
        ack = json.loads((path / "responses" / ACK).read_text())
        acked = ack.get("taken", [])
    except (OSError, ValueError, AttributeError):
        return
    refused, reasons = ack.get("refused"), ack.get("reasons", [])
    if isinstance(refused, int) and isinstance(reasons, list):  # a stick served by an older node says nothing
        report.refused_there = refused
        report.problems += _refusals("refused there", [str(r) for r in reasons], refused)
    for name in acked:
        if name in state.outbox:
            (path / "outbox" / name).unlink(missing_ok=True)
            del state.outbox[name]
    (path / "responses" / ACK).unlink(missing_ok=True)


def _write_outbox(node: Node, path: Path, state: StickState, report: HomeReport) -> None:
    keys = node.local_keys()
    # An unacknowledged bundle cut short (the stick was pulled out) is written again from its range.
    for name, (first, last) in list(state.outbox.items()):
        try:
            verify_bundle(path / "outbox" / name)
        except (InvalidObject, OSError):
            ids = [i for i in log.signed_by(node.store, first, keys) if i <= last]
            _write_outbox_bundle(node, path / "outbox" / name, ids, report)
    ids = log.signed_by(node.store, state.outbox_cursor, keys)
    if ids:
        name = f"{state.trips:04d}-{state.stick[:8]}-{ids[-1]}.car"
        _write_outbox_bundle(node, path / "outbox" / name, ids, report)
        state.outbox[name] = [state.outbox_cursor, ids[-1]]
        state.outbox_cursor = ids[-1]


def _write_outbox_bundle(node: Node, target: Path, ids: list[int], report: HomeReport) -> None:
    blocks = list(log.read(node.store, ids))
    try:
        _bundle(node, target, blocks, {"outbox": True})
    except OSError as exc:
        raise _full_or(exc, target) from None
    report.objects_out += len(blocks)
    report.edits_out += len(revlists.revision_pages(node.store, ids))


def _refusals(prefix: str, reasons: list[str], count: int) -> list[str]:
    """The note lines of what was refused: a few causes, then how many more (as a sync reports them)."""
    return [f"{prefix}: {reason}" for reason in first_causes(reasons, count)]


def _full_or(exc: OSError, target: Path) -> Exception:
    if exc.errno == errno.ENOSPC:
        return StickError(f"the stick is full: {target.name} could not be written. Free some space on it "
                          "(or use a larger stick) and run the command again; nothing was lost")
    return exc


def _write_requests(node: Node, path: Path, report: HomeReport) -> None:
    requests = path / "requests"
    for old in requests.glob("*.json"):
        old.unlink()
    wants = Wants(node.store).open()
    for want in wants:
        _write_text(requests / f"{want.id}.json", json.dumps(want.to_request()))
    report.requests = len(wants)
    count = log.object_count(node.store)
    cids = log.object_cids(node.store)
    summary = Summary.of(cids, count, secrets.token_bytes(16))  # a new salt each trip: see formats/summary.py
    try:
        _write_file(requests / SUMMARY, lambda f: f.write(summary.to_bytes()))
    except OSError as exc:
        raise _full_or(exc, requests / SUMMARY) from None


# -- at the connected place ----------------------------------------------------------


@dataclass(slots=True)
class ServeReport:
    edits_in: int = 0
    refused: int = 0
    pages_out: int = 0
    revisions_out: int = 0
    bundles_out: int = 0
    fetched: int = 0
    left_behind: int = 0
    files_out: int = 0
    files_left: int = 0
    file_bytes_left: int = 0
    problems: list[str] = field(default_factory=list)
    free: int = 0

    def sentence(self) -> str:
        behind = f", {self.left_behind} older revisions left for the next trip (no room)" if self.left_behind else ""
        files = f", {self.files_out} files" if self.files_out else ""
        left = (f", {self.files_left} files ({_human(self.file_bytes_left)}) left for the next trip (no room)"
                if self.files_left else "")
        return (f"{self.edits_in} edits taken in ({self.refused} refused), {self.pages_out} pages and "
                f"{self.revisions_out} revisions{files} written back{behind}{left}, "
                f"{_human(self.free)} free on the stick")


def serve(node: Node, path: Path) -> ServeReport:
    """The connected node's half of a trip."""
    state = load_state(path)
    if state.home is None:
        raise StickError("this stick has not been home yet: run 'wikipeer stick home' there first")
    report = ServeReport()
    _take_outbox(node, path, state, report)
    summary = _summary(path, report)
    answers = _answer_requests(node, path, report)
    _write_responses(node, path, state, answers, summary, report)
    report.free = free_bytes(path)
    return report


def _take_outbox(node: Node, path: Path, state: StickState, report: ServeReport) -> None:
    """Take the outbox's edits; ack.json tells home which bundles were taken and what of them was refused, why."""
    taken, reasons = [], []
    for checked in _checked_bundles(path / "outbox", report.problems):
        before = node.store.last_seq()
        tally = take(node, read_blocks(checked), f"stick:{state.stick}", stop_on_forgery=False)
        report.edits_in += _revisions_since(node, before)
        report.refused += tally.rejected
        reasons += tally.reasons[:5]
        taken.append(checked.path.name)
    report.problems += reasons
    ack = path / "responses" / ACK
    try:
        previous = json.loads(ack.read_text()).get("taken", [])
    except (OSError, ValueError, AttributeError):
        previous = []
    # The refusals are this serve's: serving the stick again judges its outbox again.
    _write_text(ack, json.dumps({"taken": sorted(set(previous) | set(taken)), "refused": report.refused,
                                 "reasons": reasons}))


def _summary(path: Path, report: ServeReport) -> Summary | None:
    try:
        return Summary.from_bytes((path / "requests" / SUMMARY).read_bytes())
    except (OSError, InvalidObject) as exc:
        report.problems.append(f"no usable summary of what home holds ({exc}): sending everything asked for")
        return None


@dataclass(slots=True)
class Answer:
    request: int
    pages: list[int]
    depth: int
    files: list[FileInfo] = field(default_factory=list)
    """Files asked for by SHA-256 (a page's own files are found from its pages)."""


def _answer_requests(node: Node, path: Path, report: ServeReport) -> list[Answer]:
    answers = []
    for file in sorted((path / "requests").glob("*.json")):
        try:
            req = json.loads(file.read_text())
            request_id, depth = int(req["id"]), max(1, min(int(req.get("depth", 10)), 1000))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            report.problems.append(f"{file.name}: not a request ({exc})")
            continue
        if req.get("files"):
            files = _files_for(node, req["files"], report)
            if files is not None:
                answers.append(Answer(request_id, [], 1, files))
            continue
        pages = _pages_for(node, req, report)
        if pages is not None:
            answers.append(Answer(request_id, pages, depth))
    return answers


def _files_for(node: Node, sha256s: object, report: ServeReport) -> list[FileInfo] | None:
    """The files a request names by SHA-256, from this node's store; None if some are not here."""
    found = []
    for sha256 in sha256s if isinstance(sha256s, list) else []:
        info = node.store.file_by_sha256(str(sha256).lower()) if isinstance(sha256, str) and len(sha256) == 64 else None
        if info is None:
            report.problems.append(f"this node holds no file with SHA-256 {str(sha256)[:64]!r}")
            return None
        found.append(info)
    return found


def _pages_for(node: Node, req: dict, report: ServeReport) -> list[int] | None:
    """The pages a request names, fetched from peers where this node lacks them; None if some are missing."""
    has_peers = any(not p.banned for p in PeerBook(node.store).list())
    if req.get("query"):
        top = max(1, min(int(req.get("top", 10)), 500))
        hits = [row.id for row, _ in node.store.search(str(req["query"]), limit=top)]
        if len(hits) < top and has_peers:
            report.fetched += len(fetch_search(node, str(req["query"]), top).pages)
            hits = [row.id for row, _ in node.store.search(str(req["query"]), limit=top)]
        return hits
    wiki, titles = str(req.get("wiki")), [str(t) for t in req.get("titles", [])]
    found = []
    for title in titles:
        try:
            t = normalize_title(node.wiki_or_default(wiki), title)
        except BadTitle as exc:
            report.problems.append(str(exc))
            continue
        page = node.store.page(wiki, t.ns, t.text)
        if page is None and has_peers:
            report.fetched += len(fetch_titles(node, wiki, [title]).pages)
            page = node.store.page(wiki, t.ns, t.text)
        if page is None:
            report.problems.append(f"nobody had {t.full!r} ({wiki})")
            return None
        found.append(page.id)
    return found


def _revision_blocks(node: Node, rev: RevInfo) -> list[Block]:
    blocks = [node.store.get_block(rev.cid), node.store.get_block(rev.text)]
    blocks += [node.store.get_block(s.cid) for s in rev.sigs]
    return [b for b in blocks if b is not None]


def _unless_held(group: list[Block], summary: Summary | None) -> list[Block]:
    """A revision's blocks, unless home's summary says it holds every one of them.

    Judged for the group, not block by block: a false "already have" (about
    one block in a thousand) then only drops a revision home really has all of.
    """
    if summary is None or any(b.cid not in summary for b in group):
        return group
    return []


def _write_responses(node: Node, path: Path, state: StickState, answers: list[Answer],
                     summary: Summary | None, report: ServeReport) -> None:
    """The current revision of every page first, in one bundle; then older history while room lasts."""
    current: list[Block] = []
    older: list[RevInfo] = []
    page_ids = sorted({p for a in answers for p in a.pages})
    depth = {p: a.depth for a in answers for p in a.pages}
    for page_id in page_ids:
        heads = node.view().ordered(node.store, page_id)
        page_block = node.store.get_block(node.store.page_by_id(page_id).cid)
        for i, head in enumerate(heads):
            sent = _unless_held(([page_block] if i == 0 else []) + _revision_blocks(node, head), summary)
            current += sent
            report.revisions_out += bool(sent)
        head_cids = {h.cid for h in heads}
        older += [r for r in node.store.history(page_id) if r.cid not in head_cids][:max(0, depth[page_id] - 1)]
    older.sort(key=lambda r: -r.ts)  # the most recent history of every page before older history of any
    wikis = {node.store.page_by_id(p).wiki for p in page_ids}
    note = {"pages": page_ids, "wikis": {w: node.wiki_or_default(w).to_dict() for w in sorted(wikis)}}
    name = f"{state.trips:04d}-{state.stick[:8]}"
    if not _write_response(node, path / "responses" / f"{name}-current.car", current, note, report):
        report.left_behind += len(older)
        report.problems.append("no room on the stick even for the pages asked for: use a larger stick")
        return
    report.pages_out += len(page_ids)
    written = _write_history(node, path, name, older, summary, report)
    files = {a.request: _answer_files(node, a) for a in answers}
    left = _write_files(node, path, name, files, summary, report) if written == len(older) else \
        {f.id for fs in files.values() for f in fs}
    if left:
        report.files_left = len(left)
        report.file_bytes_left = sum(f.size for f in {f.id: f for fs in files.values() for f in fs}.values()
                                     if f.id in left)
        report.problems.append(f"no room on the stick for {report.files_left} files "
                               f"({_human(report.file_bytes_left)}): all the text went; the files wait for "
                               "the next trip (or a larger stick)")
    # Written last: a request is complete when its pages' history (to its depth) and files all went out.
    unwritten_pages = {r.page for r in older[written:]}
    complete = [a.request for a in answers
                if not unwritten_pages & set(a.pages) and not left & {f.id for f in files[a.request]}]
    _write_text(path / "responses" / ANSWERS, json.dumps({"complete": complete}))


def _answer_files(node: Node, answer: Answer) -> list[FileInfo]:
    """The files an answer carries: those asked for, and the newest version of each file its pages show."""
    files = list(answer.files)
    for page_id in answer.pages:
        files += [info for info in _shown_file_versions(node, node.store.page_by_id(page_id)) if info is not None]
    return files


def _file_blocks(node: Node, info: FileInfo, summary: Summary | None) -> list[Block]:
    """A file version's blocks: its page, the description revision it names, its chunks, itself and its
    signatures; none when home's summary says it holds the file, and no chunk it says home holds.

    A false "home holds this chunk" (about one in a thousand) leaves the file waiting at home; the
    request then stays open and goes out again, with a new summary.
    """
    if summary is not None and info.cid in summary:
        return []
    blocks = [node.store.get_block(node.store.page_by_id(info.page).cid)]
    if info.desc is not None:
        blocks += _revision_blocks(node, node.store.revision(info.desc))
    blocks += [node.store.get_block(c) for c in dict.fromkeys(info.chunks) if summary is None or c not in summary]
    blocks += [node.store.get_block(info.cid), *(node.store.get_block(s.cid) for s in info.sigs)]
    return [b for b in blocks if b is not None]


def _write_files(node: Node, path: Path, name: str, files: dict[int, list[FileInfo]], summary: Summary | None,
                 report: ServeReport) -> set[int]:
    """Each file in a bundle of its own while room lasts (a smaller one may still fit after a larger
    one did not); returns the ids of those left out."""
    left: set[int] = set()
    unique = {f.id: f for fs in files.values() for f in fs}
    for number, info in enumerate(unique.values()):
        blocks = _file_blocks(node, info, summary)
        if not blocks:
            continue
        if _write_response(node, path / "responses" / f"{name}-file-{number:04d}.car", blocks, {}, report,
                           compressible=False):
            report.files_out += 1
        else:
            left.add(info.id)
    return left


def _write_history(node: Node, path: Path, name: str, older: list[RevInfo], summary: Summary | None,
                   report: ServeReport) -> int:
    """Older revisions in bundles while the stick has room; returns how many went out."""
    for start in range(0, len(older), HISTORY_CHUNK):
        groups = [_unless_held(_revision_blocks(node, rev), summary) for rev in older[start:start + HISTORY_CHUNK]]
        blocks = [b for group in groups for b in group]
        if not blocks:
            continue
        if not _write_response(node, path / "responses" / f"{name}-history-{start // HISTORY_CHUNK:04d}.car",
                               blocks, {}, report):
            report.left_behind += len(older) - start
            return start
        report.revisions_out += sum(1 for group in groups if group)
    return len(older)


def _write_response(node: Node, target: Path, blocks: list[Block], note: dict, report: ServeReport,
                    compressible: bool = True) -> bool:
    """Write one response bundle if it fits; False when the stick has no room left.

    Text compresses about fourfold; media (already compressed, mostly) is counted at its size.
    """
    size = sum(len(b.data) for b in blocks)
    if (size // 4 if compressible else size) + MARGIN > free_bytes(target.parent):
        return False
    try:
        _bundle(node, target, blocks, note)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        report.problems.append(f"the stick filled up while writing {target.name}; the rest waits for the next trip")
        return False
    report.bundles_out += 1
    return True


def _human(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} bytes"

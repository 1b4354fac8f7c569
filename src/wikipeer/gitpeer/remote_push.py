"""A push through ``git-remote-wikipeer``: pushed commits become revisions signed on the user's machine.

The pushed commits' page changes come from gitpeer/changes.py, as on the
node's own push route; each becomes one revision (authoring.edit_blocks),
signed with the user's key from the user's node directory, and every block
goes to the node through its peer upload (``POST /api/v1/car``), where the one
ingest door checks it like any other peer's. A revision's parent is the
revision whose file the commit's base held: the node's revision commit for a
file from the node, the revision made here before it for a file an earlier
pushed commit changed. Nothing is written to the user's own store.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dulwich.objects import Blob
from dulwich.repo import Repo

from wikipeer.authoring import edit_blocks, now_ms, signer as signing_key
from wikipeer.errors import NotFound, UserError, WikipeerError
from wikipeer.gitpeer.changes import PageChange, PushChanges, Refusal, base_revision, push_changes
from wikipeer.gitpeer.git_command import git_config, run_git
from wikipeer.gitpeer.push import PushOutcome, Taken
from wikipeer.gitpeer.push import revision_timestamp
from wikipeer.gitpeer.remote_url import RemoteUrl
from wikipeer.model.block import Block
from wikipeer.model.cid import cid_from_str, cid_to_str
from wikipeer.model.objects import Page, build_page, build_text
from wikipeer.model.title import WikiConfig
from wikipeer.net.client import PeerClient
from wikipeer.net.methods import MAX_GUIDS
from wikipeer.net.signing import RequestSigner, node_signer
from wikipeer.node import Node, default_node_dir
from wikipeer.store.keyring import NODE_KEY

MAIN_REF = "refs/heads/main"
RECENT = 100
"""Revisions of a page a shallow clone's push looks among for the one its base file is."""
NOTED_CHANGES = 100
"""A push of more files than this says when it signs and when it sends (a line each)."""


@dataclass(frozen=True, slots=True)
class Signer:
    """Who signs a push: the user's key, and the user's node key, which signs the upload (proves the uploader)."""

    name: str
    public: str
    key: object
    node_key: str
    node: RequestSigner


@dataclass(frozen=True, slots=True)
class Signed:
    """One page change made a signed revision."""

    change: PageChange
    rev: bytes
    blocks: list[Block]
    forks: bool = False
    """Its parent is not a head of the page on the node any more: it becomes another head."""


def node_dir(git_dir: Path) -> Path:
    """The user's node: ``git config wikipeer.node``, else $WIKIPEER_NODE, else the platform's default."""
    configured = git_config(git_dir, "wikipeer.node")
    return Path(os.path.expanduser(configured)) if configured else default_node_dir()


def load_signer(git_dir: Path) -> Signer:
    """The user's key (``git config wikipeer.key``, else the node's default key, made on first use)."""
    directory = node_dir(git_dir)
    try:
        node = Node.open(directory)
    except UserError as exc:
        raise UserError(f"{exc}; the helper signs with the key of your own node "
                        "(set it with 'git config wikipeer.node DIR' or WIKIPEER_NODE)") from None
    try:
        name = git_config(git_dir, "wikipeer.key")
        try:
            key, public = signing_key(node, name)
        except NotFound:
            raise UserError(f"no key named {name!r} in the node {directory} (git config wikipeer.key; "
                            f"'wikipeer --node {directory} key list' shows the keys)") from None
        return Signer(name or node.user_key().name, public, key, node.keyring.get(NODE_KEY).public, node_signer(node))
    finally:
        node.close()


def wiki_config(client: PeerClient, remote: RemoteUrl) -> WikiConfig:
    """The wiki's configuration as the node describes it (its namespaces name the page paths)."""
    wikis = client.descriptor().wikis
    if remote.wiki not in wikis:
        held = ", ".join(sorted(wikis)[:10]) or "none"
        raise UserError(f"the node at {remote.node} holds no wiki named {remote.wiki!r} (it holds: {held})")
    try:
        return WikiConfig.from_dict({**wikis[remote.wiki], "name": remote.wiki})
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"the node at {remote.node} describes wiki {remote.wiki!r} wrongly: {exc}") from None


def sign_changes(repo: Repo, client: PeerClient, wiki: str, found: PushChanges, signer: Signer,
                 heads: dict[Page, set[bytes]]) -> list[Signed]:
    """One signed revision per page change, each the child of the revision its base file is.

    As on the node's push route (gitpeer/push.py), a base file an earlier
    change of this push wrote is that change's revision; any other is the
    node's revision whose commit holds it, or, when this repository cannot say
    (a shallow clone ends before that commit), the node's newest revision of
    the page with the base file's text. ``heads``: the pages' heads on the
    node (node_heads), to tell which edits fork.
    """
    made: dict[tuple[str, bytes], tuple[bytes, int]] = {}  # (path, blob id) -> the revision this push made, its ts
    signed: list[Signed] = []
    now = now_ms()
    for change in found.changes:
        page = Page(wiki, change.ns, change.title)
        earlier = made.get((change.path, change.base_blob.encode())) if change.base_blob else None
        parent = earlier[0] if earlier else _node_revision(repo, client, page, change)
        # The push route's rule: the commit's date unless in the future or not after an earlier edit's.
        ts = revision_timestamp(change.ts, earlier[1] if earlier else None, now)
        blocks = edit_blocks(page, change.text, (parent,) if parent else (), change.summary, signer.key,
                             signer.public, ts)
        made[(change.path, Blob.from_string(change.text.encode("utf-8")).id)] = (blocks[2].cid, ts)
        known_heads = heads.get(page, set())
        forks = earlier is None and bool(known_heads) and not {parent, blocks[2].cid} & known_heads
        signed.append(Signed(change, blocks[2].cid, blocks, forks))
    return signed


def _node_revision(repo: Repo, client: PeerClient, page: Page, change: PageChange) -> bytes | None:
    """The node's revision whose file the change's base commit holds; None for a new page."""
    if change.base_blob is None or change.base_commit is None:
        return None
    try:
        found = base_revision(repo.object_store, change.base_commit.encode(), change.path)
    except KeyError:  # a commit the walk needs is not here: a shallow clone
        found = None
    if found is not None:
        return found
    return revision_with_text(client, page, repo[change.base_blob.encode()].as_raw_string())


def revision_with_text(client: PeerClient, page: Page, text: bytes) -> bytes | None:
    """The node's newest revision of ``page`` (of its last RECENT) whose text is ``text``, asked over JSON-RPC."""
    wanted = cid_to_str(build_text(text.decode("utf-8", errors="replace")).cid)
    revisions, _ = client.rpc("changes", {"guid": cid_to_str(build_page(page).cid), "range": {"count": RECENT}})
    if not isinstance(revisions, list) or not revisions:
        return None
    ids = [r[0] for r in revisions if isinstance(r, list) and r and isinstance(r[0], str)]
    described, _ = client.rpc("query", {"guids": ids, "properties": ["text"]})
    matching = {d.get("id") for d in described if isinstance(d, dict) and d.get("text") == wanted}
    newest = [r for r in ids if r in matching]
    return cid_from_str(newest[-1]) if newest else None


def send(client: PeerClient, signed: list[Signed], signer: Signer, refusals: list[Refusal]) -> PushOutcome:
    """Upload every block; the revisions the node holds afterwards are taken, the others refused with why.

    The upload's answer counts and gives the first reasons; which revisions
    were taken is asked of the node after (a revision it holds is taken).
    """
    outcome = PushOutcome(refused=list(refusals))
    if not signed:
        return outcome
    answer = client.push((b for s in signed for b in s.blocks), signer.node_key)
    reasons = [r for r in answer.get("reasons", []) if isinstance(r, str)]
    with client.blocks([s.rev for s in signed]) as found:
        held = {block.cid for block in found}
    for s in signed:
        if s.rev in held:
            outcome.taken.append(Taken(s.change.path, s.change.commit_id, s.rev, s.forks))
        else:
            outcome.refused.append(Refusal(s.change.path, s.change.commit_id,
                                           "refused by the node: " + _reason(s.rev, reasons)))
    return outcome


def _reason(rev: bytes, reasons: list[str]) -> str:
    named = cid_to_str(rev)
    return next((r for r in reasons if r.startswith(named)), None) or \
        f"{named} is not there (a parent it names is missing there, or it was refused with the others)"


def push_ref(repo: Repo, client: PeerClient, remote: RemoteUrl, config: WikiConfig, signer: Signer,
             new: str, known: list[bytes], say: Callable[[str], None]) -> PushOutcome:
    """Sign and send the commits reachable from ``new`` that the node does not hold (``known``).

    A push of more than NOTED_CHANGES files says what it is doing (10,000 take about 13 s).
    """
    found = push_changes(repo.object_store, config, known, new.encode(), shallow=frozenset(repo.get_shallow()))
    noted = say if len(found.changes) > NOTED_CHANGES else lambda line: None
    noted(f"signing {len(found.changes)} page changes of {len(found.commits)} commits with your key")
    heads = node_heads(client, [Page(remote.wiki, c.ns, c.title) for c in found.changes])
    signed = sign_changes(repo, client, remote.wiki, found, signer, heads)
    noted(f"sending {len(signed)} signed revisions to {remote.node}")
    return send(client, signed, signer, found.refusals)


def node_heads(client: PeerClient, pages: list[Page]) -> dict[Page, set[bytes]]:
    """The heads of each page on the node now (a page it does not hold is left out), asked over JSON-RPC."""
    guids = {cid_to_str(build_page(page).cid): page for page in pages}
    names = list(guids)
    heads: dict[Page, set[bytes]] = {}
    for start in range(0, len(names), MAX_GUIDS):
        described, _ = client.rpc("query", {"guids": names[start:start + MAX_GUIDS], "properties": ["heads"]})
        for found in described if isinstance(described, list) else []:
            if isinstance(found, dict) and found.get("id") in guids and isinstance(found.get("heads"), list):
                heads[guids[found["id"]]] = {cid_from_str(h) for h in found["heads"] if isinstance(h, str)}
    return heads


def known_commits(git_dir: Path, remote_name: str, remote_refs: dict[str, str]) -> list[bytes]:
    """Commits the node holds as far as this repository knows: its listed tips and the remote-tracking refs."""
    tracked = run_git(["for-each-ref", "--format=%(objectname)", f"refs/remotes/{remote_name}/"], git_dir,
                      check=False).stdout.split()
    return [sha.encode() for sha in {*remote_refs.values(), *tracked}]


@dataclass(frozen=True, slots=True)
class PushSpec:
    """One ``push [+]SRC:DST`` command: ``force`` when git was told to force it."""

    src: str
    dst: str
    force: bool

    @classmethod
    def parse(cls, command: str) -> "PushSpec":
        spec = command.removeprefix("push ")
        src, _, dst = spec.lstrip("+").partition(":")
        return cls(src, dst, spec.startswith("+"))


def push(remote: RemoteUrl, remote_name: str, git_dir: Path, remote_refs: dict[str, str], commands: list[str],
         say: Callable[[str], None]) -> list[str]:
    """Answer a batch of ``push [+]SRC:DST`` commands with ``ok DST`` / ``error DST WHY`` lines."""
    specs = [PushSpec.parse(c) for c in commands if c.startswith("push ")]
    try:
        signer = load_signer(git_dir)
        repo = Repo(str(git_dir))
        with PeerClient(remote.node, signer=signer.node) as client:
            config = wiki_config(client, remote)
            known = known_commits(git_dir, remote_name, remote_refs)
            return [_push_one(repo, client, remote, config, signer, spec, remote_refs.get(spec.dst), known, say)
                    for spec in specs]
    except WikipeerError as exc:
        say(f"push refused: {exc}")
        return [f"error {spec.dst} {_one_line(str(exc))}" for spec in specs]


def _push_one(repo: Repo, client: PeerClient, remote: RemoteUrl, config: WikiConfig, signer: Signer,
              spec: PushSpec, old: str | None, known: list[bytes], say: Callable[[str], None]) -> str:
    if not spec.src:
        return f"error {spec.dst} pages are not deleted through git: a wikipeer branch cannot be deleted"
    if spec.dst != MAIN_REF:
        return f"error {spec.dst} only {MAIN_REF} takes pushes (the node's other refs are its forks)"
    git_dir = Path(repo.controldir())
    new = run_git(["rev-parse", "--verify", f"{spec.src}^{{commit}}"], git_dir).stdout.strip()
    behind = None if spec.force or old is None else _behind(repo, git_dir, old, new)
    if behind:
        return f"error {spec.dst} {behind}"
    try:
        outcome = push_ref(repo, client, remote, config, signer, new, known, say)
    except WikipeerError as exc:
        say(f"push of {spec.dst} refused: {exc}")
        return f"error {spec.dst} {_one_line(str(exc))}"
    for line in outcome.lines():
        say(line)
    say(f"{len(outcome.taken)} files taken as revisions signed by {signer.name} ({signer.public}), "
        f"{len(outcome.refused)} refused")
    problem = outcome.problem()
    return f"ok {spec.dst}" if problem is None else f"error {spec.dst} {problem}"


def _behind(repo: Repo, git_dir: Path, old: str, new: str) -> str | None:
    """Why a push that is not forced may not go: the node's main moved past what it builds on (git's
    own check, which git 2.39 leaves to a helper when the node's tip is not in the repository)."""
    if old.encode() not in repo.object_store:
        return "fetch first: the node's main has commits this repository lacks (git pull --rebase, " \
               "then push; or git push --force, which forks the pages both changed)"
    if run_git(["merge-base", "--is-ancestor", old, new], git_dir, check=False).returncode != 0:
        return "non-fast-forward: the node's main is not an ancestor of the pushed commit (git pull --rebase, " \
               "then push; or git push --force, which forks the pages both changed)"
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())

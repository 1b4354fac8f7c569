"""The simulation: many real nodes on an in-memory network, driven in sync intervals and gossip rounds.

Every node is a real ``Node`` (store on tmpfs) serving net/server.py's
router; what runs between them is the real code: ``sync`` (pull, push and
peer exchange, net/sync.py and net/exchange.py) and ``gossip_round``
(net/gossip.py), through the peer client over memory.py's transport.
Time is virtual: a sync interval is ``interval`` seconds, each node syncs
once in it at its own phase, and its requests' latencies add to that
phase. Gossip goes in rounds: in a round every node with a notice waiting
passes it on once; what it sends is taken in at once and passed on in the
next round.
"""

from __future__ import annotations

import random
import resource
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wikipeer.authoring import edit
from wikipeer.net.gossip import gossip_round
from wikipeer.net.hello import PATH as HELLO_PATH, welcome
from wikipeer.net.sync import sync_all
from wikipeer.net.transport import installed
from wikipeer.node import Node
from wikipeer.notices import publish_blocklist
from wikipeer.sim.handler import NodeHandler
from wikipeer.sim.memory import Conditions, Network
from wikipeer.store import gossip_queue, peer_candidates
from wikipeer.store.keyring import NODE_KEY
from wikipeer.store.peers import PeerBook
from wikipeer.store.schema import KIND_BLOCKLIST

WIKI = "w"
GOSSIP_PATH = "/api/v1/gossip"


@dataclass(slots=True)
class SimNode:
    """One simulated node: its real Node, its address and when in each interval it syncs."""

    name: str
    url: str
    node: Node
    key: str
    phase: float
    alive: bool = True


@dataclass(slots=True)
class Spread:
    """How one notice spread by gossip."""

    live: int
    reached: int
    rounds: int  # rounds until the last live node had it (or until gossip stopped, if some never did)
    messages: int  # gossip requests sent, lost ones and those to nodes that are down included
    most_sent: int
    most_received: int
    missed: list[str] = field(default_factory=list)
    issuer: str = ""
    name: str = ""


@dataclass(slots=True)
class EditSpread:
    """How one edit spread by sync: intervals until every live node that follows its wiki had it."""

    followers: int
    reached: int
    intervals: float  # virtual time from the edit to the last follower, in sync intervals
    median: float


class Simulation:
    """``size`` nodes, each peer of ``degree`` random others (both ways, as two operators would agree)."""

    def __init__(self, size: int, degree: int = 4, conditions: Conditions | None = None, seed: int = 1,
                 interval: float = 600.0, base: Path | None = None) -> None:
        self.rng = random.Random(seed)
        self.degree, self.interval = degree, interval
        self.network = Network(conditions or Conditions(), random.Random(seed + 1))
        shm = Path("/dev/shm")
        self.base = Path(tempfile.mkdtemp(prefix="wikipeer-sim-", dir=base or (shm if shm.is_dir() else None)))
        self.nodes: list[SimNode] = []
        self.clock = 0.0  # virtual seconds since the start
        _enough_files(size)
        self._installed = installed(self.network.opener)
        self._installed.__enter__()
        for _ in range(size):
            self._new_node()
        for s in self.nodes:
            for other in self.rng.sample([o for o in self.nodes if o is not s], min(degree, size - 1)):
                _befriend(s, other)

    def close(self) -> None:
        self._installed.__exit__(None, None, None)
        self.network.close()
        for s in self.nodes:
            s.node.close()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> "Simulation":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- nodes -------------------------------------------------------------

    def _new_node(self) -> SimNode:
        name = f"n{len(self.nodes)}"
        node = Node.init(self.base / name)
        node.wiki(WIKI)
        host = f"{name}.sim"
        self.network.add(host, NodeHandler(node, f"http://{host}"))
        s = SimNode(name, f"http://{host}", node, node.keyring.get(NODE_KEY).public, self.rng.random() * self.interval)
        self.nodes.append(s)
        return s

    def live(self) -> list[SimNode]:
        return [s for s in self.nodes if s.alive]

    def churn(self, share: float) -> tuple[int, int]:
        """``share`` of the live nodes leave; as many new ones join, each a peer of ``degree`` live nodes."""
        leaving = self.rng.sample(self.live(), round(share * len(self.live())))
        for s in leaving:
            s.alive = False
            self.network.down.add(_host(s))
        for _ in leaving:
            s = self._new_node()
            for other in self.rng.sample([o for o in self.live() if o is not s], self.degree):
                _befriend(s, other)
        return len(leaving), len(leaving)

    def partition(self, groups: int = 2) -> None:
        """Split the network: each node in one of ``groups`` groups at random; no request crosses."""
        self.network.groups = {_host(s): self.rng.randrange(groups) for s in self.nodes}

    def heal(self) -> None:
        self.network.groups = {}

    def group_of(self, s: SimNode) -> int:
        return self.network.groups.get(_host(s), 0)

    # -- acting as one node ------------------------------------------------

    def _as(self, s: SimNode, action: Callable[[], object]) -> float:
        """Run ``action`` as node ``s``; returns the virtual seconds its requests took."""
        self.network.caller, self.network.elapsed = _host(s), 0.0
        try:
            action()
        finally:
            self.network.caller = "outside"
        return self.network.elapsed

    def sync_interval(self, watch: Callable[[SimNode, float], None] | None = None) -> int:
        """Every live node syncs with each of its peers once (net/sync.py's sync_all, as `serve
        --sync-every` does, then says hello to its ring neighbours: each knows its URL; those told verify
        it at once, as `serve`'s loop does a second later), in the order of their phases; returns the syncs
        that failed. ``watch(node, time)`` is told the virtual time each node's syncs ended."""
        failed = 0
        start = self.clock
        for s in sorted(self.live(), key=lambda x: x.phase):
            errors: list[str] = []  # a lost request, a peer down or cut off: the next interval tries again
            hellos = self._hellos_received()
            took = self._as(s, lambda: sync_all(s.node, errors.append, timeout=10.0, exchange_every=0, url=s.url))
            failed += len(errors)
            self._welcome(hellos)
            if watch is not None:
                watch(s, start + s.phase + took)
        self.clock = start + self.interval
        return failed

    def _hellos_received(self) -> dict[str, int]:
        return {s.name: self.network.traffic[_host(s)].received[HELLO_PATH] for s in self.live()}

    def _welcome(self, before: dict[str, int]) -> None:
        """The nodes that were said hello to verify who said it, as `serve`'s loop does a second later."""
        for s in self.live():
            if self.network.traffic[_host(s)].received[HELLO_PATH] > before.get(s.name, 0):
                self._as(s, lambda: welcome(s.node, timeout=10.0))

    # -- what the simulation measures --------------------------------------

    def known(self, s: SimNode) -> set[str]:
        """The keys of the nodes ``s`` may send gossip to: its peers' and its verified candidates'."""
        keys = {p.key for p in PeerBook(s.node.store).list() if p.key and not p.banned}
        return keys | {key for _, key in peer_candidates.usable(s.node.store)}

    def knowledge(self) -> tuple[float, float]:
        """(least, mean) share of the other live nodes a live node knows."""
        live = self.live()
        keys = {s.key for s in live}
        shares = [len(self.known(s) & (keys - {s.key})) / max(1, len(keys) - 1) for s in live]
        return min(shares), sum(shares) / len(shares)

    def gossip(self, publisher: SimNode | None = None, max_rounds: int = 50,
               among: Callable[[SimNode], bool] = lambda s: True) -> Spread:
        """Publish a blocklist at ``publisher`` and run gossip rounds until no node has one waiting."""
        publisher = publisher or self.rng.choice([s for s in self.live() if among(s)])
        name = f"notice-{self.rng.getrandbits(32):x}"
        self._as(publisher, lambda: publish_blocklist(publisher.node, name, ("spam words",)))
        issuer = publisher.node.user_key().public
        before = {s.name: (self.network.traffic[_host(s)].by_path[GOSSIP_PATH],
                           self.network.traffic[_host(s)].received[GOSSIP_PATH]) for s in self.nodes}
        targets = [s for s in self.live() if among(s)]
        rounds = last = 0
        while rounds < max_rounds:
            waiting = [s for s in self.live() if gossip_queue.pending(s.node.store)]
            if not waiting:
                break
            rounds += 1
            for s in waiting:
                rng = random.Random(self.rng.getrandbits(64))
                self._as(s, lambda: gossip_round(s.node, rng, timeout=10.0))
            if all(_has_notice(s, issuer, name) for s in targets) and not last:
                last = rounds
        reached = [s for s in targets if _has_notice(s, issuer, name)]
        sent = {s.name: self.network.traffic[_host(s)].by_path[GOSSIP_PATH] - before[s.name][0] for s in self.nodes}
        got = {s.name: self.network.traffic[_host(s)].received[GOSSIP_PATH] - before[s.name][1] for s in self.nodes}
        return Spread(len(targets), len(reached), last or rounds, sum(sent.values()), max(sent.values()),
                      max(got.values()), sorted(s.name for s in targets if s not in reached), issuer, name)

    def edit_spread(self, max_intervals: int = 10) -> EditSpread:
        """An edit made at a random live node at the start of an interval; sync intervals until every
        live node (each follows the wiki) holds it."""
        author = self.rng.choice(self.live())
        rev = edit(author.node, WIKI, f"Page {self.rng.getrandbits(32):x}", "text\n", "sim").rev
        return self.until_everywhere(lambda s: s.node.store.object_id(rev) is not None, max_intervals)

    def until_everywhere(self, has: Callable[[SimNode], bool], max_intervals: int = 10) -> EditSpread:
        """Sync intervals from now until every live node ``has`` what it is to have."""
        start = self.clock
        reached = {s.name: start for s in self.live() if has(s)}

        def watch(s: SimNode, at: float) -> None:
            if s.name not in reached and has(s):
                reached[s.name] = at

        for _ in range(max_intervals):
            if all(s.name in reached for s in self.live()):
                break
            self.sync_interval(watch)
        live = self.live()
        times = sorted(reached[s.name] - start for s in live if s.name in reached)
        everywhere = len(times) == len(live)
        return EditSpread(len(live), len(times), (times[-1] if everywhere else float("inf")) / self.interval,
                          times[len(times) // 2] / self.interval if times else float("inf"))

    def notice_held(self, issuer: str, name: str) -> Callable[[SimNode], bool]:
        return lambda s: _has_notice(s, issuer, name)

    def bytes_per_node(self) -> float:
        """Bytes sent and received per node so far, over every node that took part."""
        total = sum(t.bytes_in + t.bytes_out for host, t in self.network.traffic.items() if host != "outside")
        return total / len(self.nodes)


def _host(s: SimNode) -> str:
    return s.url.removeprefix("http://")


def _befriend(a: SimNode, b: SimNode) -> None:
    """Each adds the other as a peer, with its key (what `wikipeer peer add` learns from the descriptor)."""
    for one, other in ((a, b), (b, a)):
        peers = PeerBook(one.node.store)
        peers.add(other.url)
        peers.set(other.url, key=other.key)


def _has_notice(s: SimNode, issuer: str, name: str) -> bool:
    return bool(s.node.store.current_notices(KIND_BLOCKLIST, issuer, name))


def _enough_files(size: int) -> None:
    """Each node's store keeps a few files open in each thread that reads it: raise the soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 12 * size + 1024)) if hard != resource.RLIM_INFINITY else max(soft, 12 * size + 1024)
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

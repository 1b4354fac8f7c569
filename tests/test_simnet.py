"""The simulated network at small scale: real nodes, real sync, peer exchange and gossip, in memory.

The same simulation as bench/sim_bench.py (src/wikipeer/sim/), with 30 nodes: each is a real Node
on tmpfs serving the real API through the in-memory transport, with 1% of requests (and again of
answers) lost. Two sync intervals of peer exchange, then 10% churn and two more intervals; then a
notice, an edit and a partition. The targets are the issue's: every live node reached in at most
2 + log3(N) gossip rounds with at most 2 messages per node, an edit at every follower within 3
sync intervals. (A node that joined says hello to its ring neighbours after its first sync, and they
verify it at their next: the test gives it two intervals, the benchmark one, and reports what gossip
missed. Before hello, a joiner was known only as peer exchange spread its name, and gossip missed one
now and then: node keys, so the ring, differ each run.)
"""

from __future__ import annotations

import math
import random

import pytest

from wikipeer.net.client import PeerClient, PeerError
from wikipeer.net.sync import sync
from wikipeer.sim.memory import Conditions, Network
from wikipeer.sim.network import Simulation, _host
from wikipeer.store import peer_candidates
from wikipeer.store.peers import PeerBook

N = 30


@pytest.fixture(scope="module")
def sim():
    with Simulation(N, degree=2, conditions=Conditions(loss=0.01), seed=18) as sim:
        for _ in range(2):
            sim.sync_interval()
        assert sim.churn(0.10) == (3, 3)
        for _ in range(2):
            sim.sync_interval()
        yield sim


def test_peer_exchange_makes_every_live_node_known(sim):
    live = sim.live()
    keys = {s.key for s in live}

    def share(s) -> float:
        return len(sim.known(s) & (keys - {s.key})) / (len(keys) - 1)
    # Nodes there from the start know nearly all; one that joined two intervals ago, what it verified since
    # (exchange.budget descriptors a sync) besides its own peers. Every node is known beyond its own peers.
    assert min(share(s) for s in live[:N - 3]) >= 0.85, [round(share(s), 2) for s in live]
    assert min(share(s) for s in live[N - 3:]) >= 0.3, [round(share(s), 2) for s in live]
    assert min(sum(s.key in sim.known(o) for o in live) for s in live) > 2 * 2  # beyond its own peers
    # Each node syncs only with the peers it was given (2 of its own choice, and those that chose it).
    assert max(len(PeerBook(s.node.store).list()) for s in sim.nodes) < N // 3


def test_a_notice_reaches_every_live_node_in_few_rounds_and_messages(sim):
    live = len(sim.live())
    spread = sim.gossip()
    assert (spread.reached, spread.missed) == (live, [])
    assert spread.rounds <= 2 + math.log(live, 3), spread
    assert spread.messages <= 2 * live and spread.most_sent <= 3 * 3, spread  # three parts, three tries each


def test_an_edit_reaches_every_follower_within_three_sync_intervals(sim):
    edit = sim.edit_spread(max_intervals=4)
    assert edit.reached == edit.followers == len(sim.live())
    assert edit.intervals <= 3, edit


def test_a_partition_keeps_a_notice_on_its_side_until_it_heals(sim):
    sim.partition(2)
    side = sim.group_of(sim.live()[0])
    ours = [s for s in sim.live() if sim.group_of(s) == side]
    cut = sim.gossip(ours[0], among=lambda s: sim.group_of(s) == side)
    held = sim.notice_held(cut.issuer, cut.name)
    others = [s for s in sim.live() if sim.group_of(s) != side]
    assert others and not any(held(s) for s in others)
    # Inside its half the notice went as far as parts with a reachable peer (among three tried) led.
    assert 1 < cut.reached <= len(ours), cut
    sim.heal()
    healed = sim.until_everywhere(held, max_intervals=4)
    assert healed.reached == healed.followers and healed.intervals <= 3, healed


def test_a_node_whose_peers_all_left_adopts_verified_candidates(sim):
    s = sim.live()[N // 2]
    before = {p.url for p in PeerBook(s.node.store).list()}
    gone = {url.removeprefix("http://") for url in before}
    sim.network.down |= gone
    try:
        sim.sync_interval()
        peers = PeerBook(s.node.store)
        adopted = {p.url for p in peers.list()} - before
        assert len(adopted) == 2, adopted
        assert all(peers.get(url).key for url in adopted) and not adopted & set(peer_candidates.usable(s.node.store))
        assert any(peers.get(url).last_error is None for url in adopted)  # synced with (1% loss aside)
    finally:
        sim.network.down -= gone


def test_the_transport_refuses_a_node_that_is_down_and_counts_bytes(sim):
    a, b = sim.live()[:2]
    net = sim.network
    before = net.traffic[_host(a)].bytes_in
    net.caller = _host(a)
    try:
        assert PeerClient(b.url).descriptor().key == b.key
        assert net.traffic[_host(a)].bytes_in > before
        net.down.add(_host(b))
        with pytest.raises(PeerError, match="unreachable"):
            PeerClient(b.url).descriptor()
        with pytest.raises(PeerError, match="cannot reach"):
            PeerClient("http://nobody.sim").descriptor()
    finally:
        net.down.discard(_host(b))
        net.caller = "outside"


def test_a_lost_request_is_a_timeout_and_sync_records_it():
    with Simulation(2, degree=1, conditions=Conditions(loss=1.0), seed=1) as lossy:
        a, b = lossy.nodes
        lossy.network.caller = _host(a)
        with pytest.raises(PeerError, match="too slow"):
            sync(a.node, b.url)
        assert "too slow" in PeerBook(a.node.store).get(b.url).last_error
        assert lossy.network.elapsed >= Conditions().lost_cost


def test_latency_grows_with_distance():
    net = Network(Conditions(base_latency=0.01, spread=0.1), random.Random(1))
    try:
        net.places.update({"a": (0.0, 0.0), "b": (0.0, 0.0), "c": (1.0, 0.0)})
        assert net.latency("a", "b") == pytest.approx(0.01) and net.latency("a", "c") == pytest.approx(0.11)
    finally:
        net.close()

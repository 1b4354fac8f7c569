"""A simulated network of 1,000 real nodes (issue 18): gossip, sync and peer exchange under churn, loss
and a partition.

`python -m bench.run sim` (or `python -m bench.sim_bench`); SIM_NODES=100 for a quick run. Every node
is a real Node on tmpfs serving the real API through the in-memory transport (src/wikipeer/sim/,
docs/scale-sim.md). The run, on a virtual clock:

1. SIM_NODES nodes, each a peer of DEGREE random others (both ways); WARMUP sync intervals, in which
   peer exchange spreads who is who.
2. 10% churn: a tenth of the nodes leave (down), as many new ones join (peers of DEGREE live nodes);
   AFTER_CHURN more intervals.
3. A notice (a blocklist) published at a random live node, gossip rounds until none is waiting:
   rounds and messages until every live node has it, against 2 + log3(N) rounds and 2 messages per node.
4. An edit at a random live node: time until every live node (each follows the wiki) has it, in sync
   intervals, against 3.
5. A partition in two halves: a notice published in one spreads there by gossip; once healed, the
   intervals until sync took it to the other half.
Bytes per node: everything every node sent and received over the whole run, per node and per interval.
"""

from __future__ import annotations

import math
import os
import sys
import time

from rich.console import Console

from wikipeer.sim.memory import Conditions
from wikipeer.sim.network import Simulation, Spread

SIZE = int(os.environ.get("SIM_NODES", "1000"))
DEGREE, WARMUP, AFTER_CHURN, CHURN, LOSS, SEED = 2, 3, 1, 0.10, 0.01, 18
console = Console(stderr=True)


def _spread(results: dict, label: str, spread: Spread, live: int) -> None:
    results[f"{label}: live nodes reached"] = f"{spread.reached} of {spread.live}"
    results[f"{label}: rounds"] = spread.rounds
    results[f"{label}: messages per live node"] = round(spread.messages / live, 3)
    results[f"{label}: most sent / received by one node"] = f"{spread.most_sent} / {spread.most_received}"


def run() -> dict[str, float | str]:
    began = time.monotonic()
    results: dict[str, float | str] = {"nodes": SIZE, "peers each (both ways)": DEGREE, "loss": LOSS}
    with Simulation(SIZE, DEGREE, Conditions(loss=LOSS), seed=SEED) as sim:
        console.print(f"  sim: {SIZE} nodes built in {time.monotonic() - began:.0f} s")

        def interval(label: str) -> None:
            t = time.monotonic()
            failed = sim.sync_interval()
            least, mean = sim.knowledge()
            console.print(f"  sim: {label}: {failed} syncs failed, nodes known: least {least:.0%}, mean {mean:.0%} "
                          f"({time.monotonic() - t:.0f} s)")

        for i in range(WARMUP):
            interval(f"warm-up interval {i + 1}")
        least, mean = sim.knowledge()
        results["known before churn: least / mean"] = f"{least:.0%} / {mean:.0%}"
        left, joined = sim.churn(CHURN)
        results["churn: left / joined"] = f"{left} / {joined}"
        for i in range(AFTER_CHURN):
            interval(f"interval {i + 1} after churn")
        least, mean = sim.knowledge()
        results["known at the notice: least / mean"] = f"{least:.0%} / {mean:.0%}"

        live = len(sim.live())
        target_rounds = 2 + math.log(live, 3)
        spread = sim.gossip()
        _spread(results, "notice", spread, live)
        results["notice: target rounds (2 + log3 N)"] = round(target_rounds, 2)
        results["notice: rounds / target"] = round(spread.rounds / target_rounds, 2)
        results["notice: messages / target (2 per node)"] = round(spread.messages / (2 * live), 2)
        results["notice: met"] = "yes" if spread.reached == spread.live and spread.rounds <= target_rounds \
            and spread.messages <= 2 * live else "no"
        console.print(f"  sim: notice: {spread}")

        edit = sim.edit_spread()
        results["edit: followers reached"] = f"{edit.reached} of {edit.followers}"
        results["edit: intervals to the last follower"] = round(edit.intervals, 2)
        results["edit: intervals to half"] = round(edit.median, 2)
        results["edit: intervals / target (3)"] = round(edit.intervals / 3, 2)
        results["edit: met (at most 3 intervals)"] = "yes" if edit.intervals <= 3 else "no"
        console.print(f"  sim: edit: {edit}")

        sim.partition(2)
        side = sim.group_of(sim.rng.choice(sim.live()))
        cut = sim.gossip(sim.rng.choice([s for s in sim.live() if sim.group_of(s) == side]),
                         among=lambda s: sim.group_of(s) == side)
        _spread(results, "partitioned notice (its half)", cut, cut.live)
        sim.heal()
        healed = sim.until_everywhere(sim.notice_held(cut.issuer, cut.name))
        results["partition healed: nodes reached"] = f"{healed.reached} of {healed.followers}"
        results["partition healed: intervals to the last"] = round(healed.intervals, 2)
        console.print(f"  sim: partition: {cut}; healed: {healed}")

        results["bytes per node, whole run"] = round(sim.bytes_per_node())
        results["bytes per node per interval"] = round(sim.bytes_per_node() / (sim.clock / sim.interval))
        results["wall seconds"] = round(time.monotonic() - began)
    return results


if __name__ == "__main__":
    for key, value in run().items():
        print(f"  {key:<48} {value}")
    sys.exit(0)

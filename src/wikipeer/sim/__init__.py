"""A simulated network of real nodes in one process (docs/scale-sim.md).

Each simulated node is a real ``Node`` (its store on tmpfs) serving the real
inter-node API (net/server.py's router) through an in-memory transport
(memory.py) with latency, loss, nodes that are down and partitions; the
simulation (network.py) drives the real sync, peer exchange and gossip code
in sync intervals and gossip rounds on a virtual clock.
"""

"""The app of the node named by $WIKIPEER_BENCH_NODE, built at import: what `uvicorn --workers` and granian load in
each of their workers for bench/workers_bench.py."""

from bench.workers_bench import make_app

app = make_app()

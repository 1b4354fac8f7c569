"""The pipeline: block checks, signature checks and text compression in worker processes, one writer.

``prepared`` holds what a worker computes for a batch (pure functions of the
bytes) and how the door looks it up; ``pool`` runs those functions in worker
processes, in order and a bounded number of batches ahead; ``feed`` puts the
two together for a stream of batches going through the door. See the
"Pipeline" section of docs/architecture.md.
"""

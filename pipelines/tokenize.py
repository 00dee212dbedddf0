"""Ray fan-out for the tokenizer: morpheme-piece counting for BPE training and
shard -> token-shard encoding, one task per curated shard (or part of one).

The work itself is the pure functions of train.tokenizer and train.tokens; this
module only spreads them over workers. Each worker process loads its analyser and
tokenizer once and keeps them for the tasks that follow.
"""

from __future__ import annotations

from collections import Counter

from pipelines.ray_session import ray_session


def count_pieces_on_ray(tasks: list[tuple], workers: int | None = None) -> Counter:
    """Merge the piece counts of train.tokenizer.count_shard_pieces(*task) over all tasks."""
    from train.tokenizer import count_shard_pieces

    with ray_session(workers) as ray:
        remote = ray.remote(num_cpus=1)(count_shard_pieces)
        pending = [remote.remote(*task) for task in tasks]
        total: Counter = Counter()
        while pending:  # merge as tasks finish so the driver holds one result at a time
            done, pending = ray.wait(pending, num_returns=1)
            total.update(ray.get(done[0]))
        return total


def tokenize_parts_on_ray(
    tasks: list[dict], tok_dir: str, out_dir: str, vocab_size: int, eos_id: int, workers: int | None = None
) -> list[dict]:
    """train.tokens.tokenize_part over every task; part entries come back in task order.

    Workers write straight into out_dir (shared storage on a multi-node cluster).
    """
    from train.tokens import tokenize_part

    with ray_session(workers) as ray:
        remote = ray.remote(num_cpus=1)(tokenize_part)
        refs = [remote.remote(t, tok_dir, out_dir, vocab_size, eos_id) for t in tasks]
        return ray.get(refs)

"""Ray fan-out for the tokenizer's work: one task per curated shard (or part of one).

The work itself is the pure functions of train.tokenizer (morpheme-piece counting for
BPE training) and train.token_shards (shard -> token-shard encoding); they hand their
function here, and this module only spreads it over workers, so it imports none of
them. Each worker process loads its analyser and tokenizer once and keeps them for the
tasks that follow.
"""

from __future__ import annotations

import importlib
import sys
from collections import Counter
from collections.abc import Callable

from pipelines.ray_session import ray_session


def importable(fn: Callable) -> Callable:
    """fn as its module exports it. Run as `python -m train.tokenizer`, that file is
    __main__ and its functions name __main__ as their module, which Ray's workers cannot
    import; the module's spec names the real one."""
    spec = getattr(sys.modules["__main__"], "__spec__", None) if fn.__module__ == "__main__" else None
    return getattr(importlib.import_module(spec.name), fn.__name__) if spec is not None else fn


def merge_counts_on_ray(count: Callable[..., Counter], tasks: list[tuple], workers: int | None = None) -> Counter:
    """The sum of count(*task) over all tasks, merged as tasks finish so the driver holds
    one result at a time."""
    with ray_session(workers) as ray:
        remote = ray.remote(num_cpus=1)(importable(count))
        pending = [remote.remote(*task) for task in tasks]
        total: Counter = Counter()
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            total.update(ray.get(done[0]))
        return total


def map_on_ray(fn: Callable, tasks: list, *args, workers: int | None = None) -> list:
    """[fn(task, *args) for task in tasks], one Ray task each, results in task order.

    Workers write where fn writes (shared storage on a multi-node cluster)."""
    with ray_session(workers) as ray:
        remote = ray.remote(num_cpus=1)(importable(fn))
        return ray.get([remote.remote(t, *args) for t in tasks])

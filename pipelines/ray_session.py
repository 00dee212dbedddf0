"""Ray start-up, written once: join a running cluster or start a local one for this run."""

from __future__ import annotations

import os
from contextlib import contextmanager


@contextmanager
def ray_session(workers: int | None = None):
    """Join a running cluster (RAY_ADDRESS, or already initialised) or start a local one
    with `workers` CPUs (default: all), shut down on exit only if started here."""
    import ray

    started = False
    if not ray.is_initialized():
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local throwaway cluster
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # keep C++ core chatter off the terminal
        kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        if os.environ.get("RAY_ADDRESS"):
            ray.init(**kwargs)
        else:
            # address='local': a fresh cluster of our own, even where `ray start` left one running
            ray.init(address="local", num_cpus=workers or os.cpu_count() or 1, **kwargs)
        started = True
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()

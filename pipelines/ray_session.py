"""Ray start-up, written once: join a running cluster or start a local one for this run.

``RaySession`` starts Ray from a thread of its own, so the driver's set-up (recipe,
inputs, imports it needs later) runs while Ray's processes come up, and that thread
shuts Ray down when asked, so the report can be built while Ray's processes go down.
The same thread does both because Ray ties the processes it starts to the life of the
thread that started them (Linux parent-death signal): it lives until the shutdown.
``ray_session`` is the plain context-manager form.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager


class RaySession:
    """Joins a running cluster (RAY_ADDRESS, or already initialised) or starts a local one
    with `workers` CPUs (default: all); shuts it down only if started here."""

    def __init__(self, workers: int | None = None):
        self.workers = workers
        self.started = False
        self._error: BaseException | None = None
        self._up, self._stop = threading.Event(), threading.Event()
        self._owner = threading.Thread(target=self._own, name="ray-session", daemon=True)
        self._owner.start()

    def _own(self) -> None:
        try:
            self._start()
        except BaseException as exc:  # raised in the driver's thread by ready()
            self._error = exc
        finally:
            self._up.set()
        self._stop.wait()
        if self.started:
            import ray

            ray.shutdown()

    def _start(self) -> None:
        import ray

        if ray.is_initialized():
            return
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local throwaway cluster
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # keep C++ core chatter off the terminal
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report for a throwaway cluster
        kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        if os.environ.get("RAY_ADDRESS"):
            ray.init(**kwargs)
        else:
            # address='local': a fresh cluster of our own, even where `ray start` left one running
            ray.init(address="local", num_cpus=self.workers or os.cpu_count() or 1, **kwargs)
        self.started = True

    def ready(self):
        """Wait for Ray to be up; the ray module."""
        self._up.wait()
        if self._error is not None:
            raise self._error
        import ray

        return ray

    def stop(self, wait: bool = True) -> None:
        """Shut Ray down if started here; wait=False: return at once (``join`` waits)."""
        self._stop.set()
        if wait:
            self.join()

    def join(self) -> None:
        """Wait for the shutdown asked by ``stop`` to end."""
        self._owner.join()


@contextmanager
def ray_session(workers: int | None = None):
    """Ray up for the block (see RaySession), shut down on exit if started here."""
    session = RaySession(workers)
    try:
        yield session.ready()
    finally:
        session.stop()

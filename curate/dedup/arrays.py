"""numpy helpers shared by the dedup steps."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def distinct(values: np.ndarray, presorted: bool = False) -> np.ndarray:
    """np.unique(values): the distinct values, ascending. A sort and a mask: numpy 2's
    np.unique hashes first, which on millions of 64-bit codes (candidate pairs) was
    about ten times slower than sorting them."""
    values = np.asarray(values)
    if not presorted:
        values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def thread_map(fn: Callable, items: Iterable, threads: int) -> list:
    """[fn(x) for x in items], on up to ``threads`` threads: numpy's sorts, gathers and
    integer arithmetic release the GIL, so a task that holds several CPUs uses them."""
    items = list(items)
    if threads <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(min(threads, len(items))) as pool:
        return list(pool.map(fn, items))

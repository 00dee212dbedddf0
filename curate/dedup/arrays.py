"""numpy helpers shared by the dedup steps."""

from __future__ import annotations

import numpy as np


def distinct(values: np.ndarray, presorted: bool = False) -> np.ndarray:
    """np.unique(values): the distinct values, ascending. A sort and a mask: numpy 2's
    np.unique hashes first, which on millions of 64-bit codes (candidate pairs) was
    about ten times slower than sorting them."""
    values = np.asarray(values)
    if not presorted:
        values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values

"""Printing to a reader that may stop early (`| head`, a pager that quits)."""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def to_reader():
    """Stop quietly when the reader closes the pipe: no BrokenPipeError traceback."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        # stdout to /dev/null, so the interpreter's own flush at exit fails no more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

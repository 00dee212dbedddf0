"""Argument checks shared by `curate inspect` and `curate compare`: a mistake is one line."""

from __future__ import annotations

import argparse


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):  # one line naming the mistake, not a usage block
        self.exit(2, f"{self.prog}: error: {message}\n")


def count(lower: int):
    """An argparse type: a whole number of at least `lower` (1: a count to show, 0: may be none)."""

    def parse(text: str) -> int:
        n = int(text)
        if n < lower:
            raise argparse.ArgumentTypeError(f"must be {'at least 1' if lower == 1 else f'{lower} or more'}, got {n}")
        return n

    parse.__name__ = "count"  # argparse names the type in its message on a non-number
    return parse

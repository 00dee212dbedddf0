"""Host-side integer helpers for launch grids and tiles.

triton.cdiv and triton.next_power_of_2 are constexpr functions in recent Triton:
called from Python each goes through argument unwrapping (a few microseconds),
which adds up on ops whose GPU work is tens of microseconds."""


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def next_power_of_2(n: int) -> int:
    return 1 << (n - 1).bit_length() if n > 1 else 1

"""The pure read planner: which byte ranges of one object share a request.

Why ``max_gap = 64 KiB``: a request to S3-like stores costs tens of milliseconds before its first
byte, while 64 KiB more of the body costs about 0.5 ms at 1 Gbit/s; yet the gap is small enough that
reading a window never drags in whole unrequested tile rows (a row of 256² uint16 tiles is far
larger). Ranges farther apart are read concurrently instead, which costs no extra latency.

Why ``max_gap_ratio = 1``: larger holes are read too while the request fetches at most twice the
bytes wanted from it. A window across two tile rows of a COG (two tiles wanted per row, two
skipped between them) is then one request instead of two; every request is a billed operation
that counts against the store's request rate. A window of a few tiles in a wide image (the
skipped part of each row far larger than the wanted part) stays one request per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True)
class RangeGroup:
    """One request: bytes ``[start, end)`` answering the input ranges at ``members`` (their indices)."""

    start: int
    end: int
    members: tuple[int, ...]


def plan_ranges(
    ranges: Sequence[tuple[int, int]], *, max_gap: int = 64 * KiB, max_gap_ratio: float = 1.0,
    max_request_bytes: int | None = 32 * MiB,
) -> list[RangeGroup]:
    """Merge half-open byte ranges ``(start, end)`` into as few requests as the limits allow.

    Ranges that overlap, touch, or are separated by at most ``max_gap`` bytes share a request, as
    do ranges farther apart while the request spans at most ``1 + max_gap_ratio`` times the bytes
    wanted from it; unless the request would then exceed ``max_request_bytes`` (a single larger range is still one request). Input order does not
    matter; groups come out sorted by start, and each group's ``members`` are indices into
    ``ranges`` (duplicates and empty ranges included).
    """
    if max_gap < 0 or max_gap_ratio < 0:
        raise ValueError(f"max_gap and max_gap_ratio must be >= 0, got {max_gap}, {max_gap_ratio}")
    for start, end in ranges:
        if start < 0 or end < start:
            raise ValueError(f"invalid byte range ({start}, {end})")
    order = sorted(range(len(ranges)), key=lambda i: (ranges[i][0], ranges[i][1]))
    groups: list[RangeGroup] = []
    start = end = wanted = 0
    members: list[int] = []
    for i in order:
        s, e = ranges[i]
        more = max(0, e - max(s, end))  # wanted bytes this range adds
        span = max(end, e) - start
        if members and (s - end <= max_gap or span <= (1 + max_gap_ratio) * (wanted + more)) and (
            max_request_bytes is None or span <= max_request_bytes
        ):
            wanted += more
            end = max(end, e)
            members.append(i)
            continue
        if members:
            groups.append(RangeGroup(start, end, tuple(members)))
        start, end, wanted, members = s, e, e - s, [i]
    if members:
        groups.append(RangeGroup(start, end, tuple(members)))
    return groups

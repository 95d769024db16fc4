"""The pure range planner: which byte ranges of one object share a request (no I/O)."""

from __future__ import annotations

import pytest

from virtual_tiff.read import RangeGroup, plan_ranges

KiB = 1024


def spans(groups: list[RangeGroup]) -> list[tuple[int, int, tuple[int, ...]]]:
    return [(g.start, g.end, g.members) for g in groups]


def test_plan_empty():
    assert plan_ranges([]) == []


def test_plan_adjacent_ranges_merge_even_without_gap():
    assert spans(plan_ranges([(0, 10), (10, 20), (20, 25)], max_gap=0)) == [(0, 25, (0, 1, 2))]


def test_plan_gap_under_and_over_threshold():
    ranges = [(0, 100), (100 + 64 * KiB, 200 + 64 * KiB), (201 + 128 * KiB, 300 + 128 * KiB)]
    # first gap is exactly max_gap (merged), second one is one byte more (not merged)
    assert spans(plan_ranges(ranges, max_gap=64 * KiB)) == [
        (0, 200 + 64 * KiB, (0, 1)),
        (201 + 128 * KiB, 300 + 128 * KiB, (2,)),
    ]
    assert len(plan_ranges(ranges, max_gap=10)) == 3


def test_plan_overlapping_contained_and_duplicate_ranges():
    ranges = [(0, 100), (50, 80), (90, 150), (0, 100)]
    assert spans(plan_ranges(ranges, max_gap=0)) == [(0, 150, (0, 3, 1, 2))]


def test_plan_unsorted_input_keeps_member_indices():
    ranges = [(5000, 5100), (0, 100), (100, 200), (10_000_000, 10_000_010)]
    assert spans(plan_ranges(ranges, max_gap=64 * KiB)) == [
        (0, 5100, (1, 2, 0)),
        (10_000_000, 10_000_010, (3,)),
    ]


def test_plan_request_size_cap():
    ranges = [(i * 100, i * 100 + 100) for i in range(10)]
    groups = plan_ranges(ranges, max_gap=0, max_request_bytes=300)
    assert spans(groups) == [(0, 300, (0, 1, 2)), (300, 600, (3, 4, 5)), (600, 900, (6, 7, 8)), (900, 1000, (9,))]
    # a single range larger than the cap is still one request
    assert spans(plan_ranges([(0, 1000)], max_request_bytes=10)) == [(0, 1000, (0,))]


def test_plan_rejects_invalid_ranges():
    with pytest.raises(ValueError):
        plan_ranges([(10, 5)])
    with pytest.raises(ValueError):
        plan_ranges([(-1, 5)])

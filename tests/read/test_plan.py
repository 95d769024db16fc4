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


TILE = 300 * KiB


@pytest.mark.parametrize(
    ("wanted", "skipped", "requests"),
    [
        ((0, 1, 2, 3), (), 1),          # a whole tile row: contiguous
        ((1, 2, 5, 6), (3, 4), 1),      # 2x2 tiles of a 4-wide COG: the 2 skipped tiles are read too
        ((1, 5), (2, 3, 4), 2),         # 1 tile per row, 3 skipped: two requests
        ((0, 1, 16, 17), tuple(range(2, 16)), 2),  # 2 of a 16-wide row: the rows stay apart
    ],
    ids=["row", "two-rows-of-a-cog", "column", "wide-image"],
)
def test_a_hole_no_larger_than_the_wanted_bytes_beside_it_is_read(wanted, skipped, requests):
    """Tiles laid out row by row, ``TILE`` bytes each: which windows share one request."""
    ranges = [(k * TILE, (k + 1) * TILE) for k in wanted]
    groups = plan_ranges(ranges)
    assert len(groups) == requests
    fetched = sum(g.end - g.start for g in groups)
    assert fetched <= 2 * len(wanted) * TILE  # never more than twice what is wanted
    assert len(plan_ranges(ranges, max_gap_ratio=0)) == len(wanted) - len([k for k in wanted if k - 1 in wanted])


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

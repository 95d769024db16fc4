"""Awaiting many requests as one: the first failure cancels the rest, so none keeps running."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

T = TypeVar("T")


async def gather_all(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Like ``asyncio.gather``, but a failure or a cancellation cancels the others and waits for them.

    ``asyncio.gather`` leaves the others running when one fails; its exception is the first
    failure's, unwrapped (``TaskGroup`` would wrap it in an ``ExceptionGroup``).
    """
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise

"""Small pieces every driver adapter needs: refusing transport overrides, loop hand-off."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any

from verifyfull.errors import UsageError


def reject_reserved(given: Mapping[str, Any], reserved: Iterable[str], where: str) -> None:
    """Refuse arguments that would change the transport the guard decides."""
    taken = sorted(set(reserved).intersection(given))
    if taken:
        raise UsageError(
            f"{', '.join(taken)} cannot be passed to the guarded {where}",
            "the guard sets them from DB_* or DATABASE_URL; change the settings instead",
        )


def run_soon(
    loop: asyncio.AbstractEventLoop | None, job: Callable[[], Coroutine[Any, Any, Any]]
) -> None:
    """Run job() on loop, from that loop or from another thread (rotation runs in both)."""
    if loop is None or loop.is_closed():
        return
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        loop.create_task(job())
    else:
        asyncio.run_coroutine_threadsafe(job(), loop)


def current_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None

"""`SharedWork` (`domain.live_events`): a question many subscribers ask of one batch, or of the
database, at the same moment is answered once; a failure or a departed asker is not kept."""

from __future__ import annotations

import asyncio

import pytest

from domain.live_events import SharedWork


async def test_askers_at_the_same_moment_share_one_answer() -> None:
    shared, calls = SharedWork(), []

    async def work() -> str:
        calls.append(1)
        await asyncio.sleep(0.01)  # the others ask while it is under way
        return "answer"

    answers = await asyncio.gather(*(shared.answer("q", work) for _ in range(50)))
    assert answers == ["answer"] * 50
    assert len(calls) == 1
    assert await shared.answer("other question", work) == "answer"
    assert len(calls) == 2


async def test_an_answer_older_than_its_max_age_is_computed_again() -> None:
    shared, calls = SharedWork(), []

    async def work() -> int:
        calls.append(1)
        return len(calls)

    assert await shared.answer("q", work, max_age=60) == 1
    assert await shared.answer("q", work, max_age=60) == 1
    assert await shared.answer("q", work, max_age=0) == 2


async def test_a_failure_reaches_who_waited_for_it_and_is_not_kept() -> None:
    shared, attempts = SharedWork(), []

    async def work() -> str:
        attempts.append(1)
        await asyncio.sleep(0.01)
        if len(attempts) == 1:
            raise ConnectionError("database away")
        return "fine"

    first = await asyncio.gather(
        *(shared.answer("q", work) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(outcome, ConnectionError) for outcome in first)
    assert await shared.answer("q", work) == "fine"
    assert len(shared) == 1


async def test_when_the_asker_computing_it_goes_away_the_others_still_get_an_answer() -> None:
    shared, started = SharedWork(), asyncio.Event()

    async def work() -> str:
        started.set()
        await asyncio.sleep(0.05)
        return "answer"

    computing = asyncio.create_task(shared.answer("q", work))
    await started.wait()
    waiting = asyncio.create_task(shared.answer("q", work))
    await asyncio.sleep(0)
    computing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await computing
    async with asyncio.timeout(5):
        assert await waiting == "answer"


async def test_a_waiting_asker_going_away_cancels_nobody_else() -> None:
    shared = SharedWork()

    async def work() -> str:
        await asyncio.sleep(0.05)
        return "answer"

    computing = asyncio.create_task(shared.answer("q", work))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(shared.answer("q", work))
    await asyncio.sleep(0)
    waiting.cancel()
    async with asyncio.timeout(5):
        assert await computing == "answer"
    assert waiting.cancelled()

"""The live half of subscriptions: per process, one reader per agency that fans committed events
out to bounded per-subscriber queues.

A reader is woken by a signal (NOTIFY, or the in-process bus) and also polls, then reads the
agency's events after its position from the event table: signals carry no data, so a lost or
early signal costs latency, never an event. Every subscriber receives every event after the
reader's position at the moment it joined (`EventSubscriber.start`), which is what lets a
subscription read its backlog from the table up to exactly that id and then switch to its
queue with no gap and no duplicate. A subscriber whose queue is full is dropped (its queue
freed) and told so when it next asks: a client that cannot keep up must resume with a cursor.

A batch reaches every subscriber at about the same moment, and many of them ask the same
question of it (may this viewer see these events?) or of the database (is this session still
valid?): `SharedWork` answers each such question once, for all who ask it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from db.events import Event
from domain.metrics import EVENT_FAN_OUT_LAG

log = logging.getLogger("crm.events")

MAX_READ_BACKOFF_SECONDS = 30.0

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LiveEventsConfig:
    queue_size: int = 1_000  # events a subscriber may have waiting before it is dropped
    poll_seconds: float = 2.0  # safety net for lost signals and writers on other connections
    batch_size: int = 200
    reauth_seconds: float = 30.0  # how often a subscription re-checks its session or key


class SharedWork:
    """Answers computed once for everyone who asks the same question while the answer is
    fresh: the first asker computes it, the others take it, or wait for it.

    A key must name everything the answer depends on. An answer older than the `max_age`
    given is computed afresh; a failed one is not kept (each asker waiting for it gets the
    failure; later ones try again). Old answers are dropped as new ones are stored, so the
    memory is bounded by the questions asked within `max_age`.
    """

    def __init__(self) -> None:
        self._answers: dict[Hashable, tuple[float, asyncio.Future[Any]]] = {}

    def __len__(self) -> int:
        return len(self._answers)

    async def answer(
        self, key: Hashable, work: Callable[[], Awaitable[T]], max_age: float = float("inf")
    ) -> T:
        while True:
            now = time.monotonic()
            found = self._answers.get(key)
            if found is None or now - found[0] > max_age:
                return await self._compute(key, work, now, max_age)
            pending: asyncio.Future[T] = found[1]
            if pending.done():  # the usual case: answered by the first asker, in its turn
                return pending.result()
            try:
                # Shielded: this asker going away must not cancel the answer others await.
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not pending.cancelled() or (current is not None and current.cancelling()):
                    raise
                # The asker computing it went away before it was done: ask again.

    async def _compute(
        self, key: Hashable, work: Callable[[], Awaitable[T]], now: float, max_age: float
    ) -> T:
        self._forget_older_than(now - max_age)
        pending: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._answers[key] = (now, pending)
        try:
            result = await work()
        except BaseException as problem:
            if self._answers.get(key, (now, None))[1] is pending:
                del self._answers[key]
            if isinstance(problem, asyncio.CancelledError):
                pending.cancel()
            else:
                pending.set_exception(problem)
                pending.exception()  # retrieved: the askers waiting get it, if any
            raise
        pending.set_result(result)
        return result

    def _forget_older_than(self, moment: float) -> None:
        if len(self._answers) < 64:  # a few stale answers are cheaper than scanning
            return
        for key, (at, _) in list(self._answers.items()):
            if at < moment:
                del self._answers[key]


class SubscriberTooSlow(Exception):
    """The subscriber's queue overflowed: it was dropped and must resume from its cursor."""


class EventSubscriber:
    """One subscription's bounded queue of its agency's new events (those it `accepts`)."""

    def __init__(
        self,
        agency_id: UUID,
        start: int,
        capacity: int,
        accepts: Callable[[Event], bool],
        feed: AgencyFeed | None = None,
    ) -> None:
        self.agency_id = agency_id
        self.start = start
        self._feed = feed
        self.overflowed = False
        self._capacity = capacity
        self._accepts = accepts
        self._queue: deque[Event] = deque()
        self._arrived = asyncio.Event()

    def offer(self, events: Sequence[Event]) -> bool:
        """Queue the wanted events; False, with the queue emptied, once it would overflow."""
        for event in events:
            if not self._accepts(event):
                continue
            if len(self._queue) >= self._capacity:
                self.overflowed = True
                self._queue.clear()
                self._arrived.set()
                return False
            self._queue.append(event)
        if self._queue:
            self._arrived.set()
        return True

    async def take(self, limit: int) -> list[Event]:
        """The next queued events, oldest first, waiting for some; SubscriberTooSlow if dropped."""
        while not self._queue and not self.overflowed:
            self._arrived.clear()
            await self._arrived.wait()
        if self.overflowed:
            raise SubscriberTooSlow
        return [self._queue.popleft() for _ in range(min(limit, len(self._queue)))]

    @property
    def batch_work(self) -> SharedWork:
        """Work shared with the other subscribers of the feed's latest batch (a fresh
        `SharedWork` per batch, so no answer outlives the batch it was asked about)."""
        return self._feed.batch_work if self._feed is not None else SharedWork()


class AgencyFeed:
    """Reads one agency's committed events in id order and offers them to its subscribers."""

    def __init__(self, agency_id: UUID, config: LiveEventsConfig) -> None:
        self.agency_id = agency_id
        self.config = config
        self.position = 0
        self.subscribers: set[EventSubscriber] = set()
        self.ready = asyncio.Event()
        self._wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.batch_work = SharedWork()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        self.position = await self._retrying(self._head)
        self.ready.set()
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.poll_seconds):
                    await self._wake.wait()
            self._wake.clear()
            await self._retrying(self._catch_up)

    async def _head(self) -> int:
        """The agency's newest committed event id: later commits of the agency are all above."""
        newest = await Event.filter(agency_id=self.agency_id).order_by("-id").first()
        return newest.id if newest is not None else 0

    async def _catch_up(self) -> int:
        while True:
            rows = (
                await Event.filter(agency_id=self.agency_id, id__gt=self.position)
                .order_by("id")
                .limit(self.config.batch_size)
            )
            if not rows:
                return self.position
            # No await from here to the end of the loop body: a subscriber joins either before
            # (and is offered these rows) or after (and starts at the new position).
            self.position = rows[-1].id
            self.batch_work = SharedWork()
            EVENT_FAN_OUT_LAG.observe(max(0.0, time.time() - rows[0].occurred_at.timestamp()))
            for subscriber in list(self.subscribers):
                if not subscriber.offer(rows):
                    self.subscribers.discard(subscriber)
            if len(rows) < self.config.batch_size:
                return self.position

    async def _retrying(self, read: Callable[[], Awaitable[int]]) -> int:
        delay = self.config.poll_seconds
        while True:
            try:
                return await read()
            except Exception:
                log.warning(
                    "reading events failed, retrying",
                    exc_info=True,
                    extra={"agency_id": str(self.agency_id), "retry_in_s": delay},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_READ_BACKOFF_SECONDS)


class LiveEvents:
    """The process's fan-out of committed events: an agency feed exists while it has
    subscribers. Feed signals in with `wake` (one agency) or `wake_all` (after a reconnect)."""

    def __init__(self, config: LiveEventsConfig | None = None) -> None:
        self.config = config or LiveEventsConfig()
        self._feeds: dict[UUID, AgencyFeed] = {}
        # Re-checks of subscribers' sessions and keys, shared by the subscriptions of one.
        self.access_checks = SharedWork()

    def wake(self, agency_id: UUID, _event_id: int = 0) -> None:
        feed = self._feeds.get(agency_id)
        if feed is not None:
            feed.wake()

    def wake_all(self) -> None:
        for feed in self._feeds.values():
            feed.wake()

    @property
    def subscriber_count(self) -> int:
        return sum(len(feed.subscribers) for feed in self._feeds.values())

    async def subscribe(self, agency_id: UUID, accepts: Callable[[Event], bool]) -> EventSubscriber:
        """A new subscriber, offered every event of the agency after its `start`.

        Called from a task inside the database context: the agency's feed (started here when
        it is the first subscriber) reads through it.
        """
        feed = self._feeds.get(agency_id)
        if feed is None:
            feed = AgencyFeed(agency_id, self.config)
            self._feeds[agency_id] = feed
            feed.task = asyncio.create_task(feed.run(), name=f"event-feed-{agency_id}")
        try:
            await feed.ready.wait()
        except asyncio.CancelledError:
            # The subscription went away before the feed was ready: a feed nobody joined
            # would otherwise read the agency's events until the process ends.
            if not feed.subscribers and self._feeds.get(agency_id) is feed:
                del self._feeds[agency_id]
                if feed.task is not None:
                    feed.task.cancel()
            raise
        if self._feeds.get(agency_id) is not feed:  # closed while we waited: start afresh
            return await self.subscribe(agency_id, accepts)
        subscriber = EventSubscriber(
            agency_id, feed.position, self.config.queue_size, accepts, feed
        )
        feed.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: EventSubscriber) -> None:
        feed = self._feeds.get(subscriber.agency_id)
        if feed is None:
            return
        feed.subscribers.discard(subscriber)
        if not feed.subscribers and feed.ready.is_set():
            del self._feeds[subscriber.agency_id]
            if feed.task is not None:
                feed.task.cancel()

    async def close(self) -> None:
        feeds, self._feeds = list(self._feeds.values()), {}
        for feed in feeds:
            if feed.task is not None:
                feed.task.cancel()
        for feed in feeds:
            if feed.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await feed.task

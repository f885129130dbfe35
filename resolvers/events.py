"""Message events for GraphQL subscriptions: "message N of organization O was received / sent
/ changed status", published once the transaction that wrote the message has committed. The
WhatsApp-group topics do the same for a group message (a `wa_messages` row).

Publishing. Code that writes a message inside a transaction calls `collect(session, ...)`;
the event waits on the session and is published by a SQLAlchemy `after_commit` hook, so it
goes out only if (and once) the write is committed, whichever transaction the writer runs in
(an inbound message, a flow timer, a GraphQL mutation, a delivery job). A rolled-back
transaction drops what it collected. `publish(db, ...)` is the same for code that already
stands after its commit.

Delivery. Every process keeps its subscribers in memory, per organization, each with a
bounded queue: a publisher never waits for a subscriber, and a subscriber that falls
`QUEUE_SIZE` events behind is ended (`SubscriberTooSlow`). On SQLite (one process) an event
is handed to the subscribers at once. On PostgreSQL it travels through `NOTIFY` on one
channel, so the subscribers of every process on the database see it, this one included (all
of them through the same path): each process sends from one connection of its own and
listens on another, both reconnected after a failure. The payload is the organization,
the topic and the message id, never the message: subscribers read the message from the
database, in their own organization. Events are best-effort live updates: one published
while the database is unreachable, or while a listener reconnects, is lost (the clients
re-read their lists anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import defaultdict, deque
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from models import Database, Message
from resolvers.errors import ClientError
from resolvers.phones import is_simulator_phone

log = logging.getLogger(__name__)

RECEIVED_MESSAGE = "received_message"
RECEIVED_SIMULATOR_MESSAGE = "received_simulator_message"
SENT_MESSAGE = "sent_message"
SENT_SIMULATOR_MESSAGE = "sent_simulator_message"
SENT_GROUP_MESSAGE = "sent_group_message"
UPDATE_MESSAGE_STATUS = "update_message_status"
# WhatsApp groups (resolvers.wa_messages): these events name a `wa_messages` row, not a message.
RECEIVED_WA_GROUP_MESSAGE = "received_wa_group_message"
SENT_WA_GROUP_MESSAGE = "sent_wa_group_message"
SENT_WA_GROUP_COLLECTION_MESSAGE = "sent_wa_group_collection_message"
UPDATE_WA_MESSAGE_STATUS = "update_wa_message_status"
TOPICS = frozenset(
    {
        RECEIVED_MESSAGE,
        RECEIVED_SIMULATOR_MESSAGE,
        SENT_MESSAGE,
        SENT_SIMULATOR_MESSAGE,
        SENT_GROUP_MESSAGE,
        UPDATE_MESSAGE_STATUS,
        RECEIVED_WA_GROUP_MESSAGE,
        SENT_WA_GROUP_MESSAGE,
        SENT_WA_GROUP_COLLECTION_MESSAGE,
        UPDATE_WA_MESSAGE_STATUS,
    }
)

CHANNEL = "glific_message_events"
# Events a subscriber may lag behind before it is ended.
QUEUE_SIZE = 256
# Events waiting for the NOTIFY connection; past this the oldest are dropped.
OUTGOING_SIZE = 10_000
# How long a new subscriber waits for this process's LISTEN to be in place.
LISTEN_WAIT_SECONDS = 5.0
# A silent listening connection is checked this often (a dead one is replaced).
KEEPALIVE_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 30.0

_PENDING = "message_events"


@dataclass(frozen=True)
class Event:
    org_id: int
    topic: str
    message_id: int

    def encode(self) -> str:
        return f"{self.org_id} {self.topic} {self.message_id}"

    @classmethod
    def decode(cls, payload: str) -> Event | None:
        parts = payload.split(" ")
        if len(parts) != 3 or parts[1] not in TOPICS:
            return None
        try:
            return cls(int(parts[0]), parts[1], int(parts[2]))
        except ValueError:
            return None


class SubscriberTooSlow(ClientError):
    """The subscriber fell too far behind; its subscription ends (the client may subscribe
    again)."""

    def __init__(self) -> None:
        super().__init__(
            f"This subscription fell more than {QUEUE_SIZE} messages behind and was ended"
        )


# --- publishing ----------------------------------------------------------------------------


def collect(
    session: AsyncSession | Session, org_id: int, topic: str, message: Message | int
) -> None:
    """Publish `topic` for `message` (a row, whose id may not be flushed yet, or an id) once
    the session's transaction commits."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    sync.info.setdefault(_PENDING, []).append((org_id, topic, message))


def received(session: AsyncSession, org_id: int, message_id: int, phone: str | None) -> None:
    """An inbound message was stored (a simulator's also goes to the simulator topic)."""
    collect(session, org_id, RECEIVED_MESSAGE, message_id)
    if is_simulator_phone(phone):
        collect(session, org_id, RECEIVED_SIMULATOR_MESSAGE, message_id)


def sent(session: AsyncSession, org_id: int, message: Message | int, phone: str | None) -> None:
    """An outbound message was stored to be sent (a simulator's also goes to the simulator
    topic)."""
    collect(session, org_id, SENT_MESSAGE, message)
    if is_simulator_phone(phone):
        collect(session, org_id, SENT_SIMULATOR_MESSAGE, message)


def status_changed(session: AsyncSession, org_id: int, message: Message | int) -> None:
    collect(session, org_id, UPDATE_MESSAGE_STATUS, message)


def publish(db: Database, org_id: int, topic: str, message_id: int) -> None:
    """Publish now: for callers whose transaction has committed."""
    _hub(db.engine.url).post([Event(org_id, topic, message_id)])


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.get_nested_transaction() is not None:
        return  # a savepoint released: the transaction goes on
    pending = session.info.pop(_PENDING, None)
    if not pending or session.bind is None:
        return
    # The commit has happened: whatever goes wrong here must not look like it failed.
    try:
        found = []
        for org_id, topic, message in pending:
            if isinstance(message, Message):
                # The identity, not the attribute: an expired attribute would be loaded,
                # and no SQL may run here.
                identity = inspect(message).identity
                message = identity[0] if identity else None
            if message is not None:
                found.append(Event(int(org_id), topic, int(message)))
        if found:
            _hub(session.bind.engine.url).post(found)
    except RuntimeError:  # no event loop: the models used synchronously (nobody listens)
        return
    except Exception:
        log.exception("publishing %d message events failed", len(pending))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    # A savepoint rolled back keeps what was collected: an event for a row that is not
    # there is skipped by the subscriber (it reads the message), one lost is not noticed.
    if not previous.nested:
        session.info.pop(_PENDING, None)


# --- subscribing ---------------------------------------------------------------------------


async def subscribe(
    db: Database, org_id: int, topics: Iterable[str]
) -> AsyncGenerator[Event, None]:
    """The organization's events of these topics, from now on, until the caller stops (or
    falls `QUEUE_SIZE` behind: `SubscriberTooSlow`)."""
    hub = _hub(db.engine.url)
    await hub.listening()
    subscriber = _Subscriber(frozenset(topics))
    hub.add(org_id, subscriber)
    try:
        while True:
            if subscriber.overflowed:
                raise SubscriberTooSlow
            yield await subscriber.queue.get()
    finally:
        hub.remove(org_id, subscriber)


def subscriber_count(db: Database, org_id: int) -> int:
    """This process's subscribers of the organization (on the calling event loop)."""
    return len(_hub(db.engine.url).subscribers.get(org_id, ()))


async def stop(db: Database) -> None:
    """Close this event loop's connections for the database (at shutdown)."""
    hubs = _hubs.get(asyncio.get_running_loop(), {})
    hub = hubs.pop(_key(db.engine.url), None)
    if hub is not None:
        await hub.stop()


class _Subscriber:
    __slots__ = ("overflowed", "queue", "topics")

    def __init__(self, topics: frozenset[str]) -> None:
        self.topics = topics
        self.queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False

    def offer(self, item: Event) -> None:
        if item.topic not in self.topics or self.overflowed:
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True


class _Hub:
    """One event loop's subscribers of one database and, on PostgreSQL, its two
    connections (send, listen)."""

    def __init__(self, url: URL) -> None:
        self.subscribers: dict[int, set[_Subscriber]] = defaultdict(set)
        self.conninfo = (
            url.set(drivername="postgresql").render_as_string(hide_password=False)
            if url.get_backend_name() == "postgresql"
            else None
        )
        self._outgoing: deque[Event] = deque(maxlen=OUTGOING_SIZE)
        self._wake = asyncio.Event()
        self._listening = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None

    def add(self, org_id: int, subscriber: _Subscriber) -> None:
        self.subscribers[org_id].add(subscriber)

    def remove(self, org_id: int, subscriber: _Subscriber) -> None:
        found = self.subscribers.get(org_id)
        if found is not None:
            found.discard(subscriber)
            if not found:
                del self.subscribers[org_id]

    def deliver(self, item: Event) -> None:
        for subscriber in tuple(self.subscribers.get(item.org_id, ())):
            subscriber.offer(item)

    def post(self, items: list[Event]) -> None:
        """Publish without waiting (callable from synchronous code on the loop)."""
        if self.conninfo is None:
            for item in items:
                self.deliver(item)
            return
        self._outgoing.extend(items)
        self._wake.set()
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send())

    async def listening(self) -> None:
        """On PostgreSQL: LISTEN is in place (or LISTEN_WAIT_SECONDS passed; the listener
        keeps trying)."""
        if self.conninfo is None:
            return
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), LISTEN_WAIT_SECONDS)

    async def _send(self) -> None:
        assert self.conninfo is not None
        backoff = 0.5
        connection: psycopg.AsyncConnection[Any] | None = None
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._outgoing:
                    batch = [self._outgoing.popleft() for _ in range(min(100, len(self._outgoing)))]
                    try:
                        if connection is None or connection.closed:
                            connection = await psycopg.AsyncConnection.connect(
                                self.conninfo, autocommit=True
                            )
                        await connection.execute(
                            "SELECT pg_notify(%s, e) FROM unnest(%s::text[]) AS e",
                            (CHANNEL, [item.encode() for item in batch]),
                        )
                        backoff = 0.5
                    except psycopg.Error as exc:
                        log.warning("%d message events lost: %s", len(batch), exc)
                        if connection is not None:
                            await connection.close()
                            connection = None
                        await asyncio.sleep(backoff)
                        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        finally:
            if connection is not None:
                await connection.close()

    async def _listen(self) -> None:
        assert self.conninfo is not None
        backoff = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                ) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    backoff = 0.5
                    while True:
                        async for notice in connection.notifies(timeout=KEEPALIVE_SECONDS):
                            item = Event.decode(notice.payload)
                            if item is not None:
                                self.deliver(item)
                        await connection.execute("SELECT 1")
            except psycopg.Error as exc:
                log.warning("listening for message events failed (retrying): %s", exc)
            finally:
                self._listening.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    async def stop(self) -> None:
        for task in (self._sender, self._listener):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Hub]] = (
    weakref.WeakKeyDictionary()
)


def _key(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _hub(url: URL | str) -> _Hub:
    """The hub of the running event loop for this database (asyncio objects belong to one
    loop; a process normally has one)."""
    url = make_url(url)
    hubs = _hubs.setdefault(asyncio.get_running_loop(), {})
    key = _key(url)
    hub = hubs.get(key)
    if hub is None:
        hub = hubs[key] = _Hub(url)
    return hub

"""Talk to the flows from a terminal, as the person on a phone would:

    python -m app chat --phone 919876543210 [--org SHORTCODE] [--name NAME]

Each line typed is one inbound message (provider `terminal`) through
`resolvers.inbound.receive`, the path a WhatsApp message takes; the bot's replies are printed
in order, with numbered options under a message that has buttons or a list:

    > hi
    How was your day?
      1. 👍
      2. 👎
    [Asha] > 1

Answering with the number of an option of the last message that had options sends that
option's title, as tapping the button would. The prompt shows the active profile's name when
the contact has profiles. End with `/quit` or end of input (Ctrl-D).

`run_chat` takes its lines and its output as arguments, so tests drive it with a script.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import TextIO

from sqlalchemy import select
from sqlmodel import col

from models import Contact, Database, Profile
from resolvers import inbound, organizations
from resolvers.errors import DomainError
from resolvers.flow_engine.state import Input
from resolvers.inbound import InboundMessage, Reply
from resolvers.phones import is_simulator_phone, normalize_phone
from settings import Settings

PROVIDER = "terminal"
QUIT = "/quit"


async def active_profile_name(db: Database, org_id: int, phone: str) -> str | None:
    """The name of the active profile of the contact with this phone, if it has one."""
    stmt = (
        select(col(Profile.name))
        .join(Contact, col(Contact.active_profile_id) == col(Profile.id))
        .where(col(Contact.organization_id) == org_id, col(Contact.phone) == phone)
    )
    async with db.session(org_id) as session:
        return await session.scalar(stmt)


def _show(reply: Reply, out: TextIO) -> None:
    if reply.body:
        out.write(reply.body.rstrip("\n") + "\n")
    if reply.media_url:
        out.write(f"  [{reply.type}] {reply.media_url}\n")
    for number, option in enumerate(reply.options, start=1):
        out.write(f"  {number}. {option}\n")


class _Options:
    """The options of the last reply that had any: what a number typed next chooses."""

    def __init__(self) -> None:
        self.titles: tuple[str, ...] = ()
        self.kind = "quick_reply"

    def remember(self, reply: Reply) -> None:
        if reply.options:
            self.titles = reply.options
            self.kind = reply.type

    def input_for(self, text: str) -> Input:
        """The option's title, as a tap on it, when `text` is one of the options' numbers;
        otherwise the text as typed."""
        if text.isascii() and text.isdigit() and 1 <= int(text) <= len(self.titles):
            title = self.titles[int(text) - 1]
            return Input(text=title, type="list" if self.kind == "list" else "quick_reply")
        return Input(text=text)


async def run_chat(
    db: Database,
    org_id: int,
    phone: str,
    lines: Iterable[str],
    out: TextIO,
    *,
    name: str | None = None,
) -> int:
    """Chat as `phone` (stored form) in the organization until `/quit` or the lines run out;
    returns the exit status (0)."""
    profile = await active_profile_name(db, org_id, phone)
    options = _Options()
    source = iter(lines)
    while True:
        out.write(f"[{profile}] > " if profile else "> ")
        out.flush()
        line = next(source, None)
        if line is None:
            out.write("\n")
            return 0
        text = line.strip()
        if text == QUIT:
            return 0
        if not text:
            continue
        message = InboundMessage(
            phone=phone,
            input=options.input_for(text),
            provider_message_id=str(uuid.uuid4()),
            sender_name=name,
            provider=PROVIDER,
        )
        try:
            received = await inbound.receive(db, org_id, message)
        except DomainError as exc:  # the message was refused: say so and carry on
            out.write(f"error: {exc}\n")
            continue
        for reply in received.replies:
            _show(reply, out)
            options.remember(reply)
        profile = received.active_profile_name
        out.flush()


def stdin_lines() -> Iterator[str]:
    """Lines typed at the terminal (with line editing when it is one); stops at end of input
    or Ctrl-C."""
    while True:
        try:
            yield input()
        except (EOFError, KeyboardInterrupt):
            return


async def chat(
    settings: Settings,
    *,
    phone: str,
    org: str | None,
    name: str | None,
    lines: Iterable[str],
    out: TextIO,
) -> int:
    """The `chat` command once the database is migrated: find the organization (default: the
    seeded one), normalise the phone, chat."""
    shortcode = org or settings.default_org_shortcode
    if not is_simulator_phone(phone):
        phone = normalize_phone(phone, default_region=settings.default_phone_region)
    db = Database(settings.database_url, settings=settings)
    try:
        async with db.session(all_organizations=True) as session:
            found = await organizations.organization_by_shortcode(session, shortcode)
            org_id = None if found is None else found.id
        if org_id is None:
            hint = " (run `python -m app seed` first)" if org is None else ""
            raise DomainError(f"no organization with shortcode {shortcode!r}{hint}")
        out.write(f"Chatting with organization {shortcode} as {phone}; {QUIT} or Ctrl-D ends.\n")
        return await run_chat(db, org_id, phone, lines, out, name=name)
    finally:
        await db.dispose()

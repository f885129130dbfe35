"""Messages the organization sends to WhatsApp groups, and the group sync, end to end:
GraphQL on the running server (which runs its jobs), delivered to a fake Maytapi on loopback.
On SQLite and on PostgreSQL."""

from __future__ import annotations

import concurrent.futures
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models import Group, JobQueue, WaGroupCollection, WaMessage, saved_id
from resolvers import providers, wa_messages
from tests.conftest import fresh_database
from tests.test_jobs import wait_until
from tests.test_maytapi_webhook import MaytapiOrg
from tests.utils.db_lock import DatabaseLock
from tests.utils.fake_maytapi import TOKEN, FakeMaytapi
from tests.utils.fake_provider import Reply
from tests.utils.server import LiveServer, start_server
from tests.utils.tenants import unique_phone

GROUP = "120363213149844251@g.us"
SEND = (
    "mutation($input: WaMessageInput!) { sendMessageInWaGroup(input: $input) {"
    " errors { key message } } }"
)
SEND_TO_COLLECTION = (
    "mutation($input: CollectionWaMessageInput!, $groupId: ID!) {"
    " sendMessageToWaGroupCollection(input: $input, groupId: $groupId) {"
    " success errors { key message } } }"
)
SYNC = "mutation { syncWaGroupContacts { message errors { key message } } }"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeMaytapi]:
    with FakeMaytapi(timeout_sleep=2) as maytapi:
        yield maytapi


@pytest.fixture(scope="module")
def wa_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that runs jobs, with short timeouts and retries."""
    with fresh_database(database_url, tmp_path_factory) as url:
        live = start_server(
            url,
            jobs_enabled=True,
            jobs_poll_seconds=0.1,
            jobs_retry_seconds=0.05,
            jobs_max_attempts=3,
            send_timeout_seconds=0.5,
        )
        try:
            yield live
        finally:
            live.stop()


class SendingOrg(MaytapiOrg):
    """A Maytapi organization whose account points at the fake, with one WA group (made the
    way Maytapi makes them: a member's message in it)."""

    def __init__(self, server: LiveServer, fake: FakeMaytapi) -> None:
        super().__init__(server)
        self.fake = fake
        self.phone_id = 1000 + uuid.uuid4().int % 9000

        async def point_at_fake(session: AsyncSession) -> None:
            await providers.set_provider(
                session,
                self.org_id,
                providers.MAYTAPI,
                self.product,
                {"token": TOKEN, "api_url": fake.url},
            )

        server.in_transaction(point_at_fake)
        assert self.post(self.message(sender=unique_phone(), group=GROUP)).status_code == 200
        group = self.group(GROUP)
        assert group is not None
        self.wa_group_id = int(group.id or 0)

    def send(self, variables: dict[str, Any], role: str = "staff") -> Any:
        body = self.tenant.gql(SEND, {"input": variables}, role=role)
        assert "errors" not in body, body
        return body["data"]["sendMessageInWaGroup"]

    def outbound(self) -> list[WaMessage]:
        return [m for m in self.messages() if m.flow == "outbound"]

    def settled(self, count: int) -> bool:
        out = self.outbound()
        return len(out) >= count and all(m.status != "enqueued" for m in out)


def test_a_text_reaches_maytapi_and_the_message_ends_sent(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    org = SendingOrg(wa_server, fake)
    result = org.send({"message": "Hello group", "waGroupId": str(org.wa_group_id)})
    assert result == {"errors": None}
    wait_until(lambda: org.settled(1))
    [request] = fake.sent(org.product)
    assert request.path == f"/api/{org.product}/{org.phone_id}/sendMessage"
    assert request.headers["x-maytapi-key"] == TOKEN
    assert request.json == {"to_number": GROUP, "type": "text", "message": "Hello group"}
    [message] = org.outbound()
    assert isinstance(request.reply, dict)
    assert (message.status, message.bsp_status) == ("sent", "sent")
    assert message.bsp_id == request.reply["data"]["msgId"]
    assert message.sent_at is not None and message.send_attempts == 1
    assert message.wa_group_id == org.wa_group_id and message.message_number == 2
    own = org.contact(org.receiver)
    assert own is not None and message.contact_id == own.id

    # The job run again (a redelivered job) sends nothing twice.
    async def run_job_again() -> None:
        await wa_messages.send_job(wa_server.db, {"org": org.org_id, "message": message.id})

    wa_server.run(run_job_again)
    assert len(fake.sent(org.product)) == 1


def test_a_message_maytapi_took_is_not_said_again_when_the_database_was_locked(
    impatient_server: LiveServer, fake: FakeMaytapi
) -> None:
    """Maytapi says the message in the group, and storing its answer finds the database
    locked for longer than a write waits: the job waits for it, instead of running again
    and saying the message in the group a second time."""
    org = SendingOrg(impatient_server, fake)
    lock = DatabaseLock(impatient_server.db.url, seconds=1.2, table="wa_messages")
    fake.on_request = lock.take
    try:
        assert org.send({"message": "Hello group", "waGroupId": str(org.wa_group_id)}) == {
            "errors": None
        }
        wait_until(lock.taken.is_set)
        assert lock.released.wait(timeout=10)  # (this test's own reads wait for it too)
        wait_until(lambda: org.settled(1), timeout=30)
    finally:
        fake.on_request = None
    assert len(fake.sent(org.product)) == 1
    [message] = org.outbound()
    assert (message.status, message.send_attempts) == ("sent", 1)


def test_a_server_error_is_retried_then_the_message_is_sent(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    org = SendingOrg(wa_server, fake)
    fake.script([500])
    org.send({"message": "try again", "waGroupId": str(org.wa_group_id)})
    wait_until(lambda: org.settled(1))
    assert [r.status for r in fake.sent(org.product)] == [500, 200]
    [message] = org.outbound()
    assert (message.status, message.send_attempts, message.errors) == ("sent", 2, {})


def test_a_timeout_every_time_fails_the_message_after_the_last_attempt(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    org = SendingOrg(wa_server, fake)
    fake.script([503, "timeout", 429])
    org.send({"message": "never lands", "waGroupId": str(org.wa_group_id)})
    wait_until(lambda: org.settled(1))
    [message] = org.outbound()
    assert (message.status, message.bsp_status, message.send_attempts) == ("failed", "error", 3)
    assert message.errors == {
        "message": "gave up after 3 attempts",
        "last_error": {"success": False, "message": "fake Maytapi error 429"},
    }
    assert len(fake.sent(org.product)) == 3


def test_a_refusal_is_final_and_failed_with_the_answer(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    org = SendingOrg(wa_server, fake)
    fake.script([400])
    org.send({"message": "refused", "waGroupId": str(org.wa_group_id)})
    wait_until(lambda: org.settled(1))
    [message] = org.outbound()
    assert (message.status, message.bsp_status) == ("failed", "error")
    assert message.errors == {"success": False, "message": "fake Maytapi error 400"}
    # success: false on HTTP 200 is a refusal too.
    refusal = {"success": False, "message": "Phone is not active"}
    fake.script([Reply(200, refusal)])
    org.send({"message": "also refused", "waGroupId": str(org.wa_group_id)})
    wait_until(lambda: org.settled(2))
    assert org.outbound()[1].errors == refusal
    assert len(fake.sent(org.product)) == 2


def count_outbound(org: MaytapiOrg) -> tuple[int, int]:
    """(outbound wa_messages, waiting send jobs) of the organization."""

    async def count(session: AsyncSession) -> tuple[int, int]:
        messages = await session.scalar(
            select(func.count())
            .select_from(WaMessage)
            .where(col(WaMessage.organization_id) == org.org_id, col(WaMessage.flow) == "outbound")
        )
        jobs = 0
        if session.get_bind().dialect.name == "sqlite":
            jobs = int(
                await session.scalar(
                    select(func.count())
                    .select_from(JobQueue)
                    .where(col(JobQueue.name) == wa_messages.SEND_JOB)
                )
                or 0
            )
        return int(messages or 0), jobs

    return org.server.in_transaction(count)


def test_bad_sends_get_errors_and_store_nothing(wa_server: LiveServer, fake: FakeMaytapi) -> None:
    org = SendingOrg(wa_server, fake)
    before = count_outbound(org)
    group = str(org.wa_group_id)
    cases: list[tuple[dict[str, Any], str, str | None]] = [
        ({"message": "x" * 6000, "waGroupId": group}, "message", wa_messages.TOO_LONG),
        ({"message": "  ", "waGroupId": group}, "message", "Message can't be blank"),
        ({"message": "hi", "waGroupId": "999999999"}, "Elixir.Glific.Groups.WAGroup", None),
        ({"message": "hi", "waGroupId": "abc"}, "wa_group_id", None),
        ({"message": "hi", "waGroupId": group, "mediaId": "3"}, "media_id", None),
        ({"message": "hi", "waGroupId": group, "pollId": 3}, "poll_id", None),
        (
            {"message": "hi", "waGroupId": group, "waManagedPhoneId": "999999999"},
            "wa_managed_phone_id",
            None,
        ),
    ]
    for variables, key, text in cases:
        [error] = org.send(variables)["errors"]
        assert error["key"] == key, (variables, error)
        if text:
            assert error["message"] == text
    # Just under Glific's limit goes.
    assert org.send({"message": "x" * 5999, "waGroupId": group}) == {"errors": None}
    wait_until(lambda: org.settled(1))
    messages, _ = count_outbound(org)
    assert messages == before[0] + 1
    assert len(fake.sent(org.product)) == 1
    # A role below staff is refused.
    body = org.tenant.gql(SEND, {"input": {"message": "hi", "waGroupId": group}}, role="none")
    assert body["errors"][0]["message"] == "Unauthorized"


def test_another_organization_cannot_send_into_this_group(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    owner, other = SendingOrg(wa_server, fake), SendingOrg(wa_server, fake)
    owner_phone = owner.managed_phones()[0]
    before = count_outbound(owner), count_outbound(other)
    [error] = other.send({"message": "intrusion", "waGroupId": str(owner.wa_group_id)})["errors"]
    assert error == {"key": "Elixir.Glific.Groups.WAGroup", "message": "Resource not found"}
    # Nor through the owner's phone into its own group.
    [error] = other.send(
        {
            "message": "intrusion",
            "waGroupId": str(other.wa_group_id),
            "waManagedPhoneId": str(owner_phone.id),
        }
    )["errors"]
    assert error["key"] == "wa_managed_phone_id"
    assert (count_outbound(owner), count_outbound(other)) == before
    assert fake.sent(owner.product) == [] and fake.sent(other.product) == []


def make_collection(org: SendingOrg, label: str, wa_group_ids: list[int]) -> int:
    async def make(session: AsyncSession) -> int:
        group = Group(organization_id=org.org_id, label=label)
        session.add(group)
        await session.flush()
        for wa_group_id in wa_group_ids:
            session.add(
                WaGroupCollection(
                    organization_id=org.org_id, group_id=saved_id(group), wa_group_id=wa_group_id
                )
            )
        return saved_id(group)

    return org.server.in_transaction(make, org_id=org.org_id)


def test_a_collection_message_goes_to_each_of_its_groups(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    org = SendingOrg(wa_server, fake)
    second = "120363000000000777@g.us"
    org.post(org.message(sender=unique_phone(), group=second, name="Second"))
    second_group = org.group(second)
    assert second_group is not None
    collection = make_collection(org, "Teachers", [org.wa_group_id, int(second_group.id or 0)])
    empty = make_collection(org, "Nobody", [])

    def send(group_id: Any, message: str = "To all") -> Any:
        variables = {"input": {"message": message}, "groupId": str(group_id)}
        body = org.tenant.gql(SEND_TO_COLLECTION, variables, role="staff")
        return body["data"]["sendMessageToWaGroupCollection"]

    assert send(collection) == {"success": True, "errors": None}
    wait_until(lambda: org.settled(2))
    assert sorted(r.json["to_number"] for r in fake.sent(org.product)) == sorted([GROUP, second])
    assert {m.group_id for m in org.outbound()} == {collection}
    assert send(empty)["errors"] == [
        {
            "key": "group_id",
            "message": "Cannot send message: No WhatsApp group found in the collection",
        }
    ]
    missing = send(999999999)
    assert missing["success"] is False
    assert missing["errors"][0]["key"] == "Elixir.Glific.Groups.Group"
    assert send(collection, "x" * 6000)["errors"][0]["message"] == wa_messages.TOO_LONG
    assert len(org.outbound()) == 2
    # Another organization's collection is unknown here.
    other = SendingOrg(wa_server, fake)
    variables = {"input": {"message": "hi"}, "groupId": str(collection)}
    body = other.tenant.gql(SEND_TO_COLLECTION, variables, role="staff")
    assert body["data"]["sendMessageToWaGroupCollection"]["success"] is False


def test_sync_creates_phones_groups_contacts_and_memberships(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    org = SendingOrg(wa_server, fake)
    own, teacher, parent = org.receiver, unique_phone(), unique_phone()
    fake.phones = [
        {"id": org.phone_id, "number": own, "status": "active", "type": "whatsapp", "name": ""},
        {"id": 77, "number": unique_phone(), "status": "qr-screen", "name": "Spare"},
        # Left out, not a 500: ids the database cannot keep.
        {"id": True, "number": unique_phone(), "status": "active"},
        {"id": 2**40, "number": unique_phone(), "status": "active"},
    ]
    movie = {
        "id": "120363203450035277@g.us",
        "name": "Movie Plan",
        "admins": [f"{teacher}@c.us"],
        # (A privacy-hidden member, `@lid`, is no phone number: left out.)
        "participants": [
            f"{own}@c.us",
            f"{teacher}@c.us",
            f"{parent}@c.us",
            f"{unique_phone()}@lid",
        ],
    }
    too_long = {**movie, "id": "1" * 300 + "@g.us"}
    fake.groups = {org.phone_id: [movie, {**movie, "id": GROUP, "name": "Renamed"}, too_long]}
    result = org.tenant.data(SYNC, role="staff")["syncWaGroupContacts"]
    assert result == {"message": "successfully synced", "errors": None}
    phones = {p.phone_id: p for p in org.managed_phones()}
    assert set(phones) == {org.phone_id, 77}
    assert phones[77].status == "qr-screen" and phones[77].label == "Spare"
    group = org.group("120363203450035277@g.us")
    assert group is not None and group.label == "Movie Plan"
    renamed = org.group(GROUP)
    assert renamed is not None and renamed.label == "Renamed"
    contacts = {p: org.contact(p) for p in (own, teacher, parent)}
    ids = {p: int(c.id or 0) for p, c in contacts.items() if c is not None}
    assert len(ids) == 3
    # Maytapi lists numbers only: a new member has no name (never the number, which staff
    # may not see).
    member = contacts[teacher]
    assert member is not None and member.name in (None, "")
    assert org.members(int(group.id or 0)) == sorted(
        [(ids[own], False), (ids[teacher], True), (ids[parent], False)]
    )
    # The sender from the group's first message is not listed any more: removed.
    assert sorted(c for c, _ in org.members(org.wa_group_id)) == sorted(ids.values())

    # The parent left: a second sync removes that membership, and only that one.
    fake.groups = {org.phone_id: [{**movie, "participants": movie["participants"][:2]}]}
    assert org.tenant.data(SYNC, role="staff")["syncWaGroupContacts"]["errors"] is None
    assert org.members(int(group.id or 0)) == sorted([(ids[own], False), (ids[teacher], True)])
    assert org.contact(parent) is not None  # the contact stays
    fake.phones, fake.groups = [], {}


def test_sync_without_an_account_or_refused_by_maytapi_says_so(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    org = SendingOrg(wa_server, fake)

    async def wrong_token(session: AsyncSession) -> None:
        await providers.set_provider(
            session, org.org_id, "maytapi", org.product, {"token": "wrong", "api_url": fake.url}
        )

    wa_server.in_transaction(wrong_token)
    result = org.tenant.data(SYNC, role="staff")["syncWaGroupContacts"]
    assert result["message"] is None
    assert result["errors"] == [
        {"key": "maytapi", "message": "Maytapi answered listPhones with HTTP 401"}
    ]

    async def remove(session: AsyncSession) -> None:
        await providers.remove_provider(session, org.org_id, "maytapi")

    wa_server.in_transaction(remove, org_id=org.org_id)
    result = org.tenant.data(SYNC, role="staff")["syncWaGroupContacts"]
    assert result["errors"] == [{"key": "maytapi", "message": "Maytapi is not active"}]
    body = org.tenant.gql(SYNC, role="none")
    assert body["errors"][0]["message"] == "Unauthorized"


def test_a_flows_media_message_goes_with_its_caption(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    org = SendingOrg(wa_server, fake)
    url = "https://example.org/homework.pdf"

    async def send(session: AsyncSession) -> None:
        await wa_messages.send_in_group(
            session,
            org.org_id,
            wa_group_id=org.wa_group_id,
            body="",
            type="image",
            media_url=url,
            caption="Today's homework",
            flow_label="homework",
        )
        await wa_messages.send_in_group(
            session,
            org.org_id,
            wa_group_id=org.wa_group_id,
            body="Read chapter 2",
            type="document",
            media_url=url,
        )

    wa_server.in_transaction(send, org_id=org.org_id)
    wait_until(lambda: org.settled(2))
    first, second = (r.json for r in fake.sent(org.product))
    assert first == {
        "to_number": GROUP,
        "type": "image",
        "message": url,
        "text": "Today's homework",
    }
    assert second == {"to_number": GROUP, "type": "media", "message": url, "text": "Read chapter 2"}
    assert [m.status for m in org.outbound()] == ["sent", "sent"]


def test_members_writing_while_staff_send_neither_fails(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    """Callbacks from a group and sends into it at the same moment: each takes the group's
    lock before the phone's, so neither side deadlocks (on PostgreSQL the opposite orders
    failed most of 120 such requests)."""
    org = SendingOrg(wa_server, fake)
    members = [unique_phone() for _ in range(5)]

    def said(i: int) -> bool:
        text = f"in {i}"
        return (
            org.post(org.message(sender=members[i % 5], group=GROUP, text=text)).status_code == 200
        )

    def sent(i: int) -> bool:
        body = org.tenant.gql(
            SEND, {"input": {"message": f"out {i}", "waGroupId": str(org.wa_group_id)}}
        )
        return "errors" not in body and body["data"]["sendMessageInWaGroup"]["errors"] is None

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        done = list(pool.map(lambda i: (sent if i % 2 else said)(i), range(80)))
    assert all(done), done.count(False)
    bodies = [m.body for m in org.messages()]
    assert len([b for b in bodies if b and b.startswith("in ")]) == 40
    assert len([b for b in bodies if b and b.startswith("out ")]) == 40
    # (Sent before the next test scripts the fake Maytapi, which every sender shares.)
    wait_until(lambda: org.settled(40), timeout=60)


def test_maytapis_echo_of_our_message_arriving_first_does_not_send_it_again(
    wa_server: LiveServer, fake: FakeMaytapi
) -> None:
    """Maytapi posts what our phone said back to the webhook (`fromMe`, Maytapi's id). When
    that copy is stored before the send job records Maytapi's answer, the message is still
    sent once and ends sent, as one row."""
    org = SendingOrg(wa_server, fake)
    msg_id = f"true_{GROUP}_{uuid.uuid4().hex[:12]}"
    echo = org.message(sender=org.receiver, text="Hello group", message_id=msg_id, from_me=True)
    assert org.post(echo).status_code == 200
    fake.script([Reply(200, {"success": True, "data": {"msgId": msg_id}})])
    assert org.send({"message": "Hello group", "waGroupId": str(org.wa_group_id)}) == {
        "errors": None
    }
    wait_until(lambda: org.settled(1) and len(org.outbound()) == 1)
    assert len(fake.sent(org.product)) == 1
    [message] = org.outbound()
    assert (message.status, message.bsp_id, message.send_attempts) == ("sent", msg_id, 1)

"""The terminal chat (webhook.terminal_chat), driven through `run_chat` with scripted lines:
the prompt names the active profile, options are numbered, a number answers with that
option's title, `/quit` and end of input stop it; end to end, a flow keyword typed at the
terminal prints the flow's reply. And `python -m app chat` as a real subprocess."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from models import Database
from resolvers import inbound
from resolvers.inbound import InboundMessage, Received, Reply
from tests.test_simulator_endpoint import feedback_flow
from tests.utils.builders import contact_with_profiles
from tests.utils.chat import import_and_publish
from tests.utils.tenants import Tenant, unique_phone
from webhook.terminal_chat import run_chat

ROOT = Path(__file__).resolve().parent.parent

Script = Callable[[InboundMessage], Received]


class FakeReceive:
    """Stands in for `inbound.receive` where a test checks the chat's own behaviour: answers
    each message with what `script` says and keeps what it was given."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.calls: list[tuple[int, InboundMessage]] = []

    async def __call__(self, db: Database, org_id: int, message: InboundMessage) -> Received:
        self.calls.append((org_id, message))
        return self.script(message)


def reply(body: str, *options: str, kind: str = "text", message_id: int = 1) -> Reply:
    return Reply(message_id=message_id, body=body, type=kind, options=options)


def received(*replies: Reply, profile: str | None = None) -> Received:
    return Received(message_id=1, contact_id=1, replies=replies, active_profile_name=profile)


def chat(tenant: Tenant, phone: str, lines: list[str], name: str | None = None) -> tuple[int, str]:
    out = io.StringIO()
    server = tenant.server
    status = server.run(lambda: run_chat(server.db, tenant.org_id, phone, lines, out, name=name))
    return status, out.getvalue()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Callable[[Script], FakeReceive]:
    def install(script: Script) -> FakeReceive:
        stand_in = FakeReceive(script)
        monkeypatch.setattr(inbound, "receive", stand_in)
        return stand_in

    return install


def test_a_message_and_its_replies(tenant: Tenant, fake: Callable[[Script], FakeReceive]) -> None:
    receive = fake(lambda m: received(reply(f"You said {m.input.text}"), reply("Second line\n")))
    phone = unique_phone()
    status, output = chat(tenant, phone, ["hello  ", ""], name="Ravi")
    assert status == 0
    # An empty line sends nothing; end of input ends the chat.
    assert output == "> You said hello\nSecond line\n> > \n"
    [(org_id, message)] = receive.calls
    assert org_id == tenant.org_id
    assert message.phone == phone
    assert message.provider == "terminal"
    assert message.sender_name == "Ravi"
    assert (message.input.type, message.input.text) == ("text", "hello")
    uuid.UUID(message.provider_message_id)  # a fresh uuid per message


def test_every_message_has_its_own_id(
    tenant: Tenant, fake: Callable[[Script], FakeReceive]
) -> None:
    receive = fake(lambda m: received())
    chat(tenant, unique_phone(), ["a", "b", "a"])
    ids = {m.provider_message_id for _, m in receive.calls}
    assert len(ids) == 3


def test_quit_stops_the_chat(tenant: Tenant, fake: Callable[[Script], FakeReceive]) -> None:
    receive = fake(lambda m: received(reply("ok")))
    status, output = chat(tenant, unique_phone(), ["one", " /quit ", "never sent"])
    assert status == 0
    assert output == "> ok\n> "
    assert [m.input.text for _, m in receive.calls] == ["one"]


def test_options_are_numbered_and_answered_by_number(
    tenant: Tenant, fake: Callable[[Script], FakeReceive]
) -> None:
    def script(message: InboundMessage) -> Received:
        if message.input.text == "start":
            return received(reply("How was today?", "👍", "👎", kind="quick_reply"))
        if message.input.text == "👎":
            return received(
                reply("Sorry. Pick one", "Talk", "Play", "Sleep", kind="list"), reply("(any)")
            )
        return received(reply(f"got {message.input.text}"))

    receive = fake(script)
    status, output = chat(tenant, unique_phone(), ["start", "2", "3", "1", "9", "0", "2x"])
    assert status == 0
    assert output.splitlines()[:8] == [
        "> How was today?",
        "  1. 👍",
        "  2. 👎",
        "> Sorry. Pick one",
        "  1. Talk",
        "  2. Play",
        "  3. Sleep",
        "(any)",
    ]
    inputs = [(m.input.type, m.input.text) for _, m in receive.calls]
    assert inputs == [
        ("text", "start"),
        ("quick_reply", "👎"),  # "2" of the buttons
        ("list", "Sleep"),  # "3" of the list: the last reply that had options
        ("list", "Talk"),  # still that list: replies without options do not forget it
        ("text", "9"),  # no such option: sent as typed
        ("text", "0"),
        ("text", "2x"),
    ]


def test_a_number_before_any_options_is_text(
    tenant: Tenant, fake: Callable[[Script], FakeReceive]
) -> None:
    receive = fake(lambda m: received(reply("ok")))
    chat(tenant, unique_phone(), ["1"])
    assert [(m.input.type, m.input.text) for _, m in receive.calls] == [("text", "1")]


def test_the_prompt_names_the_active_profile(
    tenant: Tenant, fake: Callable[[Script], FakeReceive]
) -> None:
    family = contact_with_profiles(tenant)  # its active profile is "Kid"
    names = iter(["Asha", None])
    fake(lambda m: received(reply("switched"), profile=next(names)))
    status, output = chat(tenant, family["phone"], ["2", "stop"])
    assert status == 0
    # From the database before the first message, then as `receive` reports it.
    assert output == "[Kid] > switched\n[Asha] > switched\n> \n"


def test_a_refused_message_is_reported_and_the_chat_goes_on(
    tenant: Tenant, fake: Callable[[Script], FakeReceive]
) -> None:
    from resolvers.errors import InputErrors

    def script(message: InboundMessage) -> Received:
        if message.input.text == "bad":
            raise InputErrors.field("body", "is too long")
        return received(reply("fine"))

    fake(script)
    status, output = chat(tenant, unique_phone(), ["bad", "good"])
    assert status == 0
    assert output == "> error: Body: is too long\n> fine\n> \n"


# --- end to end ---------------------------------------------------------------------------------


def test_a_flow_keyword_prints_the_flows_reply(tenant: Tenant) -> None:
    keyword = f"kw{uuid.uuid4().hex[:8]}"
    import_and_publish(tenant, feedback_flow(keyword))
    status, output = chat(tenant, unique_phone(), [keyword, "1"], name="Ravi")
    assert status == 0
    assert output == "> How was today?\n  1. Good\n  2. Bad\n> Glad to hear it\n> \n"


def test_the_prompt_keeps_the_profile_through_a_flow(tenant: Tenant) -> None:
    keyword = f"kw{uuid.uuid4().hex[:8]}"
    import_and_publish(tenant, feedback_flow(keyword))
    family = contact_with_profiles(tenant)
    status, output = chat(tenant, family["phone"], [keyword, "2"])
    assert status == 0
    assert output == (
        "[Kid] > How was today?\n  1. Good\n  2. Bad\n[Kid] > Sorry to hear that\n[Kid] > \n"
    )


# --- the command ------------------------------------------------------------------------------


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def run_cli(db: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "ADMIN_", "ENVIRONMENT", "SECRET_KEY"))
    }
    environment.update(
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "PYTHONPATH": str(ROOT),
            "ENVIRONMENT": "development",
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=db.parent,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_the_chat_command_needs_an_organization(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    result = run_cli(db, "chat", "--phone", "919876543210", stdin="")
    assert result.returncode == 2
    assert "no organization with shortcode 'glific'" in result.stderr
    assert "python -m app seed" in result.stderr
    bad = run_cli(db, "chat", "--phone", "12", "--org", "glific", stdin="")
    assert bad.returncode == 2
    assert "Phone: is not a valid phone number" in bad.stderr
    shortcode = run_cli(db, "chat", "--phone", "919876543210", "--org", "No Such", stdin="")
    assert shortcode.returncode == 2
    assert "a shortcode is" in shortcode.stderr


def test_the_chat_command_talks_to_the_seeded_organization(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    assert run_cli(db, "migrate", stdin="").returncode == 0
    assert run_cli(db, "seed", stdin="").returncode == 0
    result = run_cli(
        db, "chat", "--phone", "+91 98765 43210", "--name", "Ravi", stdin="hello\n/quit\n"
    )
    assert result.returncode == 0, result.stderr
    # No flow answers "hello": the message is stored and the prompt comes back.
    assert result.stdout == (
        "Chatting with organization glific as 919876543210; /quit or Ctrl-D ends.\n> > "
    )
    assert result.stderr == ""
    stored = rows(
        db,
        "SELECT m.body, m.flow, c.name FROM messages m JOIN contacts c ON c.id = m.contact_id"
        " WHERE c.phone = '919876543210'",
    )
    assert stored == [("hello", "inbound", "Ravi")]

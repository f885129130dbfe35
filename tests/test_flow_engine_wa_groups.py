"""The engine running a flow for a WhatsApp group (ContactView.wa_group): `@wa_group`,
set_wa_group_field, contact actions skipped, and set_wa_group_field skipped in a contact's
flow (Glific raises there)."""

from __future__ import annotations

from resolvers.flow_engine.events import (
    ContactFieldChanged,
    EngineError,
    ProfileCreated,
    RunEnded,
    WaGroupFieldChanged,
)
from tests.utils.flow_engine import (
    Chat,
    FlowTable,
    action,
    flow,
    make_contact,
    node,
    router_node,
    send,
    texts,
    uid,
)


def group_view() -> object:
    return make_contact(
        id=3,
        name="Class 5 parents",
        phone="120363213149844251@g.us",
        fields={"grade": {"value": "5", "label": "Grade", "type": "string"}},
        wa_group=True,
    )


def test_a_group_flow_speaks_to_the_group_and_keeps_its_fields() -> None:
    a, b, c = uid("n"), uid("n"), uid("n")
    data = flow(
        "Group hello",
        [
            node(
                a,
                [
                    send("Hello @wa_group.label, grade @wa_group.fields.grade"),
                    action(
                        "set_wa_group_field",
                        field={"key": "week", "name": "Week"},
                        value="@wa_group.fields.grade",
                    ),
                    action("set_run_result", name="sent", value="yes", category="Sent"),
                ],
                to=b,
            ),
            router_node(
                b,
                [("Five", c, "has_only_text", ["5"])],
                default=("Other", None),
                wait=False,
                operand="@fields.week",
            ),
            node(c, [send("Week @wa_group.fields.week, @results.sent, @contact.name")]),
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    chat = Chat(flows, contact=group_view())  # type: ignore[arg-type]
    sprint = chat.start(f.uuid)
    assert texts(sprint) == [
        "Hello Class 5 parents, grade 5",
        # There is no @contact in a group's flow: the token stays as written.
        "Week 5, yes, @contact.name",
    ]
    (changed,) = sprint.of_type(WaGroupFieldChanged)
    assert (changed.key, changed.label, changed.value) == ("week", "Week", "5")
    (ended,) = sprint.of_type(RunEnded)
    assert ended.status == "completed"
    # Acceptance row 19's WA-group part: the result resolves and keeps its category.
    saved = chat.session.runs[0].results["sent"]
    assert (saved["value"], saved["category"]) == ("yes", "Sent")


def test_contact_actions_are_skipped_in_a_group_flow() -> None:
    a = uid("n")
    data = flow(
        "Group with contact actions",
        [
            node(
                a,
                [
                    action("set_contact_field", field={"key": "age", "name": "Age"}, value="9"),
                    action(
                        "set_contact_profile",
                        profile_type="Create Profile",
                        value={"name": "Asha", "type": "student"},
                    ),
                    send("still here"),
                ],
            )
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    sprint = Chat(flows, contact=group_view()).start(f.uuid)  # type: ignore[arg-type]
    assert not sprint.of_type(ContactFieldChanged)
    assert not sprint.of_type(ProfileCreated)
    errors = [e.message for e in sprint.of_type(EngineError)]
    assert any("set_contact_field is not for a WhatsApp group flow" in m for m in errors), errors
    assert texts(sprint) == ["still here"]


def test_set_wa_group_field_is_skipped_in_a_contact_flow() -> None:
    a = uid("n")
    data = flow(
        "Contact with a group action",
        [
            node(
                a,
                [
                    action("set_wa_group_field", field={"key": "week", "name": "Week"}, value="1"),
                    send("hi @contact.name"),
                ],
            )
        ],
    )
    flows = FlowTable()
    f = flows.add(data)
    sprint = Chat(flows).start(f.uuid)
    assert not sprint.of_type(WaGroupFieldChanged)
    assert any("only in a WhatsApp group" in e.message for e in sprint.of_type(EngineError))
    assert texts(sprint) == ["hi Asha"]

"""The Manage Profile node (set_contact_profile) on the engine's contact view, driven through
a menu flow written here: the same rules as resolvers/profiles.py, which replays the events."""

from __future__ import annotations

from typing import Any

from resolvers.flow_engine import Limits, ProfileView
from resolvers.flow_engine.events import (
    ContactFieldChanged,
    ContactLanguageChanged,
    ProfileCreated,
    ProfileDeactivated,
    ProfileSwitched,
)
from tests.utils.flow_engine import (
    HINDI,
    Chat,
    FlowTable,
    action,
    flow,
    make_contact,
    make_env,
    node,
    outcome_node,
    router_node,
    send,
    texts,
    uid,
)


def manage_profile(*, activate: bool | None = None) -> dict[str, Any]:
    menu, menu_wait = uid("n"), uid("n")
    ask_name, name_wait, ask_role, role_wait, create, created, not_created = (
        uid("n") for _ in range(7)
    )
    listing, index_wait, switch, switched, not_switched = (uid("n") for _ in range(5))
    d_listing, d_wait, deactivate, deactivated, not_deactivated = (uid("n") for _ in range(5))
    create_action = action(
        "set_contact_profile",
        profile_type="Create Profile",
        value={"name": "@results.name", "type": "@results.role"},
        result_name="@results.name",
    )
    if activate is not None:
        create_action["activate"] = activate
    return flow(
        "Manage Profile",
        [
            node(menu, [send("1 create, 2 switch, 3 deactivate")], to=menu_wait),
            router_node(
                menu_wait,
                [
                    ("Create", ask_name, "has_only_text", ["1"]),
                    ("Switch", listing, "has_only_text", ["2"]),
                    ("Deactivate", d_listing, "has_only_text", ["3"]),
                ],
                default=("Other", menu),
            ),
            node(ask_name, [send("Name?")], to=name_wait),
            router_node(name_wait, [], default=("All Responses", ask_role), result_name="name"),
            node(ask_role, [send("Role?")], to=role_wait),
            router_node(role_wait, [], default=("All Responses", create), result_name="role"),
            outcome_node(create, create_action, created, not_created, ("Success", "Failure")),
            node(
                created,
                [
                    action(
                        "set_contact_field",
                        field={"key": "role", "name": "Role"},
                        value="@results.role",
                    ),
                    send("Created; active: @contact.active_profile_name"),
                ],
                to=menu,
            ),
            node(not_created, [send("Could not create")], to=menu),
            node(listing, [send("Pick:\n@contact.list_profiles")], to=index_wait),
            router_node(
                index_wait, [], default=("All Responses", switch), result_name="profile_index"
            ),
            outcome_node(
                switch,
                action(
                    "set_contact_profile",
                    profile_type="Switch Profile",
                    value="@results.profile_index",
                ),
                switched,
                not_switched,
                ("Success", "Failure"),
            ),
            node(switched, [send("Switched to @contact.active_profile_name")], to=menu),
            node(not_switched, [send("Bad choice")], to=menu),
            node(d_listing, [send("Deactivate:\n@contact.list_profiles")], to=d_wait),
            router_node(
                d_wait, [], default=("All Responses", deactivate), result_name="profile_index"
            ),
            outcome_node(
                deactivate,
                action(
                    "set_contact_profile",
                    profile_type="Deactivate Profile",
                    value="@results.profile_index",
                ),
                deactivated,
                not_deactivated,
                ("Success", "Failure"),
            ),
            node(deactivated, [send("Deactivated")], to=menu),
            node(not_deactivated, [send("Could not deactivate")], to=menu),
        ],
    )


def chat_with(contact: Any = None, **kwargs: Any) -> Chat:
    flows = FlowTable()
    f = flows.add(manage_profile(**kwargs))
    chat = Chat(flows, contact=contact or make_contact(fields={"city": {"value": "Pune"}}))
    chat.start(f.uuid)
    return chat


def create(chat: Chat, name: str, role: str) -> list[str]:
    chat.say("1")
    chat.say(name)
    return texts(chat.say(role))


def test_create_makes_the_default_profile_then_an_active_new_one() -> None:
    chat = chat_with()
    out = create(chat, "Ravi", "student")
    assert out[0] == "Created; active: Ravi"
    contact = chat.contact
    default, ravi = contact.profiles
    assert default.is_default and default.name == "Asha"
    assert default.fields == {"city": {"value": "Pune"}}
    assert (ravi.name, ravi.type, ravi.is_default) == ("Ravi", "student", False)
    assert contact.active() is ravi
    # The new profile starts empty; the field set after it lands on it, not on the default.
    assert set(contact.fields) == {"role"} and ravi.fields == contact.fields
    assert "role" not in default.fields
    (event,) = chat.sprints[-1].of_type(ProfileCreated)
    assert (event.name, event.type, event.activate) == ("Ravi", "student", True)


def test_a_blank_name_fails_and_changes_nothing() -> None:
    chat = chat_with()
    out = create(chat, "   ", "student")
    assert out[0] == "Could not create"
    assert chat.contact.profiles == [] and chat.contact.active() is None
    assert not chat.sprints[-1].of_type(ProfileCreated)


def test_the_same_name_and_type_twice_fails() -> None:
    chat = chat_with()
    create(chat, "Ravi", "student")
    assert create(chat, "Ravi", "student")[0] == "Could not create"
    assert len(chat.contact.profiles) == 2
    assert create(chat, "Ravi", "teacher")[0].startswith("Created")
    assert len(chat.contact.profiles) == 3


def test_creating_a_profile_named_like_the_contact_clashes_with_the_default() -> None:
    chat = chat_with()
    chat.say("1")
    chat.say("Asha")
    # Role left blank: ("Asha", "") is the default profile's ("Asha", None).
    assert texts(chat.say(" "))[0] == "Could not create"
    assert chat.contact.profiles == []


def test_create_with_activate_false_keeps_the_current_profile() -> None:
    chat = chat_with(activate=False)
    create(chat, "Ravi", "student")
    contact = chat.contact
    default = contact.profiles[0]
    # Nothing was active: the default profile becomes active, not the new one.
    assert contact.active() is default
    assert chat.sprints[-1].of_type(ProfileCreated)[0].activate is False
    create(chat, "Mira", "student")
    assert contact.active() is default and len(contact.profiles) == 3


def test_an_old_profile_becomes_the_default_when_none_is() -> None:
    contact = make_contact(
        profiles=[ProfileView(id=7, name="Old", type="x", language_id=1, fields={"a": 1})],
        active_profile=0,
        fields={"a": 1},
    )
    chat = chat_with(contact)
    create(chat, "Ravi", "student")
    old, ravi = chat.contact.profiles
    assert old.is_default and old.fields == {"a": 1}
    assert chat.contact.active() is ravi


def test_switch_by_the_typed_number_copies_the_profile_onto_the_contact() -> None:
    chat = chat_with()
    create(chat, "Ravi", "student")
    chat.say("2")
    listing = texts(chat.sprints[-1])[0]
    assert "1. Asha" in listing and "2. Ravi" in listing
    out = texts(chat.say("1"))
    assert out[0] == "Switched to Asha"
    contact = chat.contact
    assert contact.active() is contact.profiles[0]
    assert contact.fields == {"city": {"value": "Pune"}}
    assert chat.sprints[-1].of_type(ProfileSwitched)[0].index == 1
    # The next profile created is active and gets the field written after it.
    create(chat, "Mira", "teacher")
    assert contact.active_profile == 2
    assert "role" not in contact.profiles[0].fields
    assert contact.profiles[2].fields["role"]["value"] == "teacher"


def test_switch_with_a_bad_index_fails_without_change() -> None:
    chat = chat_with()
    create(chat, "Ravi", "student")
    active = chat.contact.active_profile
    for bad in ("x", "9", "0", "1.5"):
        chat.say("2")
        assert texts(chat.say(bad))[0] == "Bad choice"
        assert chat.contact.active_profile == active
        assert not chat.sprints[-1].of_type(ProfileSwitched)


def test_switch_on_a_contact_without_profiles_makes_the_default() -> None:
    chat = chat_with()
    chat.say("2")
    assert texts(chat.say("1"))[0] == "Switched to Asha"
    (default,) = chat.contact.profiles
    assert default.is_default and chat.contact.active() is default


def test_deactivating_the_default_succeeds_and_changes_nothing() -> None:
    chat = chat_with()
    create(chat, "Ravi", "student")
    chat.say("3")
    assert texts(chat.say("1"))[0] == "Deactivated"
    assert all(p.is_active for p in chat.contact.profiles)
    assert not chat.sprints[-1].of_type(ProfileDeactivated)


def test_deactivating_the_active_profile_falls_back_to_the_default() -> None:
    chat = chat_with()
    create(chat, "Ravi", "student")
    chat.say("3")
    assert texts(chat.say("2"))[0] == "Deactivated"
    default, ravi = chat.contact.profiles
    assert not ravi.is_active and chat.contact.active() is default
    assert chat.contact.fields == default.fields
    assert chat.sprints[-1].of_type(ProfileDeactivated)[0].index == 2
    chat.say("3")
    assert texts(chat.say("2"))[0] == "Could not deactivate"  # the menu has one entry now


def test_deactivating_another_profile_keeps_the_active_one() -> None:
    chat = chat_with()
    create(chat, "Ravi", "student")
    create(chat, "Mira", "teacher")
    contact = chat.contact
    assert contact.active() is contact.profiles[2]
    chat.say("3")
    chat.say("2")
    assert not contact.profiles[1].is_active
    assert contact.active() is contact.profiles[2]
    chat.say("3")
    assert texts(chat.say("x"))[0] == "Could not deactivate"


def test_language_and_fields_follow_the_active_profile() -> None:
    a = uid("n")
    flows = FlowTable()
    f = flows.add(
        flow(
            "Lang",
            [
                node(
                    a,
                    [
                        action("set_contact_language", language="Hindi"),
                        action("set_contact_field", field={"key": "age", "name": "Age"}, value="9"),
                    ],
                )
            ],
        )
    )
    profile = ProfileView(id=3, name="Kid", type=None, language_id=1, fields={}, is_default=True)
    chat = Chat(flows, contact=make_contact(profiles=[profile], active_profile=0))
    sprint = chat.start(f.uuid)
    assert sprint.of_type(ContactLanguageChanged)[0].language_id == HINDI.id
    assert profile.language_id == HINDI.id
    assert profile.fields["age"]["value"] == "9"
    assert sprint.of_type(ContactFieldChanged)


def test_unknown_profile_type_and_unreadable_values_fail() -> None:
    a, ok, bad = uid("n"), uid("n"), uid("n")

    def one(act: dict[str, Any], limits: Limits | None = None) -> Any:
        flows = FlowTable()
        f = flows.add(
            flow(
                "One",
                [
                    outcome_node(a, act, ok, bad, ("Success", "Failure")),
                    node(ok, [action("set_run_result", name="p", value="s", category="s")]),
                    node(bad, [action("set_run_result", name="p", value="f", category="f")]),
                ],
            )
        )
        env, _ = make_env(limits=limits)
        chat = Chat(flows, env=env)
        chat.start(f.uuid)
        return chat.session.runs[0].results["p"]["value"], chat.contact

    assert one(action("set_contact_profile", profile_type="Merge Profile", value="1"))[0] == "f"
    assert one(action("set_contact_profile", profile_type="Create Profile", value="x"))[0] == "f"
    good = action(
        "set_contact_profile",
        profile_type="Create Profile",
        value={"name": "Zed", "type": "student"},
    )
    assert one(good)[0] == "s"
    # An expression that cannot be evaluated (here: over the template limit) is treated as
    # empty, so Create Profile fails.
    long_name = action(
        "set_contact_profile",
        profile_type="Create Profile",
        value={"name": "@contact.name" + " " * 20, "type": ""},
    )
    value, contact = one(long_name, Limits(max_template_length=10))
    assert value == "f" and contact.profiles == []


def test_create_profile_over_the_expression_budget_fails() -> None:
    chat = Chat(FlowTable(), env=make_env(limits=Limits(expression_budget=1))[0])
    f = chat.flows.add(manage_profile())
    chat.start(f.uuid)
    assert create(chat, "Ravi", "student")[-1] == "1 create, 2 switch, 3 deactivate"
    assert chat.contact.profiles == []
    assert not chat.sprints[-1].of_type(ProfileCreated)


def test_a_failed_switch_keeps_the_same_profile_objects() -> None:
    profile = ProfileView(id=4, name="Old", type=None, language_id=1, fields={})
    chat = chat_with(make_contact(profiles=[profile]))
    chat.say("2")
    assert texts(chat.say("5"))[0] == "Bad choice"
    assert chat.contact.profiles == [profile] and chat.contact.profiles[0] is profile
    assert profile.is_default is False and chat.contact.active_profile is None

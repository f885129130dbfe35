"""A mutation's result is read after its write is committed, relations included: those its
selection asks for are prefetched then (schema/fields/common.py `payload`), so they show the
state the write left, even when an earlier mutation of the same operation showed the same
rows before it changed them."""

from __future__ import annotations

from tests.utils.builders import contact_with_profiles
from tests.utils.tenants import Tenant

RENAME_TWICE = """mutation($kid: ID!, $cid: ID!) {
  first: updateProfile(id: $kid, input: {name: "Kid One"}) { profile { name
    contact { activeProfile { name } profiles { name } } } }
  second: updateProfile(id: $kid, input: {name: "Kid Two"}) { profile { name
    contact { activeProfile { name } profiles { name } } } }
  back: switchProfile(contactId: $cid, index: 1) { contact {
    activeProfile { name isDefault } profiles { name isActive } } errors { message } }
}"""


def test_each_result_shows_the_state_its_own_write_left(tenant: Tenant) -> None:
    household = contact_with_profiles(tenant, "Results")  # default + "Kid" (active)
    data = tenant.data(RENAME_TWICE, {"kid": household["kid_id"], "cid": household["id"]})
    first, second = data["first"]["profile"], data["second"]["profile"]
    assert first["name"] == "Kid One"
    assert first["contact"]["activeProfile"] == {"name": "Kid One"}
    assert first["contact"]["profiles"] == [{"name": "Results"}, {"name": "Kid One"}]
    assert second["name"] == "Kid Two"
    assert second["contact"]["activeProfile"] == {"name": "Kid Two"}
    assert second["contact"]["profiles"] == [{"name": "Results"}, {"name": "Kid Two"}]
    back = data["back"]
    assert back["errors"] is None
    assert back["contact"]["activeProfile"] == {"name": "Results", "isDefault": True}
    assert back["contact"]["profiles"] == [
        {"name": "Results", "isActive": True},
        {"name": "Kid Two", "isActive": True},
    ]

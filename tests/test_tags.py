"""Tags on flows: the flow list's tag filter (Glific's `tags`, `FlowFilter.tagIds`)."""

from __future__ import annotations

from typing import Any

from tests.utils.tenants import Tenant

CREATE_TAG = """mutation($i: TagInput!) { createTag(input: $i) {
  tag { id label shortcode } errors { key message } } }"""
CREATE_FLOW = """mutation($i: FlowInput!) { createFlow(input: $i) {
  flow { id } errors { key message } } }"""
TAG_FLOW = """mutation($id: ID!, $i: FlowInput) { updateFlow(id: $id, input: $i) {
  flow { id tag { label } } errors { key message } } }"""
TAGGED = (
    "query($f: FlowFilter) { flows(filter: $f) { name tag { id label } } countFlows(filter: $f) }"
)


def tag(tenant: Tenant, label: str, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = tenant.data(CREATE_TAG, {"i": {"label": label, **extra}})["createTag"]
    return result


def flow(tenant: Tenant, name: str) -> str:
    return str(tenant.data(CREATE_FLOW, {"i": {"name": name}})["createFlow"]["flow"]["id"])


def test_the_flow_list_filters_by_tag(tenant: Tenant, other_tenant: Tenant) -> None:
    made = tag(tenant, "Daily Activities")
    assert made["errors"] is None
    assert made["tag"]["shortcode"] == "daily_activities"
    assert tag(tenant, "daily activities")["errors"] == [
        {"key": "shortcode", "message": "Shortcode: has already been taken"}
    ]
    tag_id = made["tag"]["id"]
    quiz, survey = flow(tenant, "Quiz"), flow(tenant, "Survey")
    tagged = tenant.data(TAG_FLOW, {"id": quiz, "i": {"tagId": tag_id}})["updateFlow"]
    assert tagged == {"flow": {"id": quiz, "tag": {"label": "Daily Activities"}}, "errors": None}
    listed = tenant.data(TAGGED, {"f": {"tagIds": [int(tag_id)]}})
    assert listed["flows"] == [{"name": "Quiz", "tag": {"id": tag_id, "label": "Daily Activities"}}]
    assert listed["countFlows"] == 1
    assert tenant.data("{ tags { label } countTags }", role="staff") == {
        "tags": [{"label": "Daily Activities"}],
        "countTags": 1,
    }
    # Another organization's tag cannot be put on this organization's flow.
    theirs = tag(other_tenant, "Theirs")["tag"]["id"]
    refused = tenant.data(TAG_FLOW, {"id": survey, "i": {"tagId": theirs}})["updateFlow"]
    assert refused["errors"] == [{"key": "tag_id", "message": "Tag_id: does not exist"}]
    assert other_tenant.data("{ countTags }")["countTags"] == 1
    # Deleting the tag leaves its flows untagged.
    deleted = tenant.data(
        "mutation($id: ID!) { deleteTag(id: $id) { errors { message } } }", {"id": tag_id}
    )
    assert deleted["deleteTag"]["errors"] is None
    names = tenant.data("{ flows { name tag { id } } }")["flows"]
    assert {f["name"]: f["tag"] for f in names} == {"Quiz": None, "Survey": None}
    staff = tenant.gql(CREATE_TAG, {"i": {"label": "Mine"}}, role="staff")
    assert [e["message"] for e in staff["errors"]] == ["Unauthorized"]

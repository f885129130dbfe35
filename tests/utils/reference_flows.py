"""Glific's own flows (`flows/` of the reference data), ready to import: the placeholders
Glific's seeds replace (`OPTIN_UUID`, `Age Group 11 to 14:ID`, `role_id` …) are replaced the
same way, with uuids that are fixed for a test run, and each flow gets its seed keywords."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from tests.utils.client_ops import require_reference_data

KEYWORDS = {
    "multiple_profile": ["multiple"],
    "multiple_profile_creation": ["profilecreation"],
    "deactivate_profile": ["deactivate"],
    "help": ["help", "मदद"],
    "registration": ["registration"],
    "language": ["language", "भाषा"],
    "optin": ["optin"],
    "optout": ["optout", "stop"],
    "new_contact": ["newcontact"],
}

_FLOW_UUIDS = {
    "MULTIPLE_PROFILE_UUID": "multiple_profile",
    "MULTIPLE_PROFILE_CREATION_UUID": "multiple_profile_creation",
    "LANGUAGE_UUID": "language",
    "NEWCONTACT_UUID": "new_contact",
    "REGISTRATION_UUID": "registration",
    "OPTOUT_UUID": "optout",
    "OPTIN_UUID": "optin",
}


def _fixed_uuid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"glific-reference/{name}"))


def reference_flows() -> dict[str, tuple[dict[str, Any], list[str]]]:
    """name -> (definition, keywords) for every flow of the reference data (skips the test
    visibly when the data is absent, fails under CI)."""
    folder = require_reference_data() / "flows"
    raw = {path.stem: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.json"))}
    real = {name: json.loads(text)["uuid"] for name, text in raw.items()}
    uuids = {
        token: real[name] if not real[name].endswith("_UUID") else _fixed_uuid(name)
        for token, name in _FLOW_UUIDS.items()
    }
    flows: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for name, text in raw.items():
        for token, value in uuids.items():
            text = text.replace(f'"{token}"', f'"{value}"')
        # Collections and labels referred to by id: a group id that names nothing here, so
        # the group is found (or made) by its name; labels keep their names.
        text = text.replace('"OPTOUT_COLLECTION_UUID"', '"0"')
        text = re.sub(r'"([^"]+):ID"', lambda m: json.dumps(_fixed_uuid(m.group(1))), text)
        flows[name] = (json.loads(text), KEYWORDS.get(name, []))
    return flows

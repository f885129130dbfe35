"""Glific's own flows (`flows/` of the reference data) with their seed keywords, ready for
`importFlow` (placeholders filled by tests.utils.flow_engine.reference_definitions)."""

from __future__ import annotations

from typing import Any

from tests.utils.flow_engine import reference_definitions

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


def reference_flows() -> dict[str, tuple[dict[str, Any], list[str]]]:
    """name -> (definition, keywords) for every reference flow."""
    return {
        name: (definition, KEYWORDS.get(name, []))
        for name, definition in reference_definitions().items()
    }

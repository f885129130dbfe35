"""Glific's real client documents (`glific-data/client-ops/`): finding the in-scope ones,
validating them the way `shared/tools/validate-client-ops` does, and checking that a response
has the shape a document asks for.

The documents are read from the reference data folder, never copied into the repo:
`$GLIFIC_REFERENCE_DATA` if set, else `<repo>/../shared/glific-data`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import httpx2
import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_client_schema,
    get_introspection_query,
    parse,
    validate,
)
from graphql.language import ArgumentNode, NameNode, ObjectFieldNode, Visitor, visit

from resolvers.roles import ROLE_ORDER, role_labels

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "GLIFIC_REFERENCE_DATA"

# The documents Glific's clients send for the domains this project covers, by folder. A new
# file matching a pattern is picked up without touching the tests.
PATTERNS: dict[str, tuple[str, ...]] = {
    "frontend": (
        "Contact__*.graphql",
        "ContactFields__*.graphql",
        "List__GET_LANGUAGES.graphql",
        "User__*.graphql",
        "Flow__*.graphql",
        "FlowLabel__*.graphql",
        # The chat screen: sending, marking read, the conversation list and saved searches
        # and the attachments (its subscription documents are not in this set).
        "Chat__CREATE_AND_SEND_MESSAGE_MUTATION.graphql",
        "Chat__MARK_AS_READ.graphql",
        "Chat__UPLOAD_MEDIA.graphql",
        "Chat__UPLOAD_MEDIA_BLOB.graphql",
        "Search__*.graphql",
        "Simulator__GET_SIMULATOR.graphql",
        "Simulator__RELEASE_SIMULATOR.graphql",
        # The shell every signed-in page mounts: the organization, its flags, the wallet,
        # the notification badge, the role names, the settings form.
        "Organization__GET_ORGANIZATION.graphql",
        "Organization__GET_ORGANIZATION_PROVIDER.graphql",
        "Organization__GET_ORGANIZATION_SERVICES.graphql",
        "Organization__BSPBALANCE.graphql",
        "Organization__GET_QUALITY_RATING.graphql",
        "Organization__GET_PROVIDERS.graphql",
        "Organization__UPDATE_ORGANIZATION.graphql",
        "Notifications__*.graphql",
        "Role__GET_ROLE_NAMES.graphql",
        # Collections and the staff screens.
        "Collection__*.graphql",
        "Tags__*.graphql",
    ),
    "glific-tests": (
        "contacts__*.graphql",
        "contacts_field__*.graphql",
        "profiles__*.graphql",
        "languages__*.graphql",
        # Messages and searches (the WhatsApp groups' too).
        "messages__by_id.graphql",
        "messages__clear.graphql",
        "messages__count.graphql",
        "messages__create.graphql",
        "messages__create_and_send_message.graphql",
        "messages__create_and_send_message_to_group.graphql",
        "messages__delete.graphql",
        "messages__list.graphql",
        "messages__update.graphql",
        "messages__send_hsm_message.graphql",
        "messages__send_hsm_message_to_group.graphql",
        "messages__wa_group_message.graphql",
        "searches__*.graphql",
        "flows__group_flow.graphql",
        "flows__wa_group_collection_flow.graphql",
        "flows__contact_resume.graphql",
        "flows__broadcast_stats.graphql",
        "flows__*_l10n.graphql",
    ),
}


def reference_root() -> Path:
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return REPO_ROOT.parent / "shared" / "glific-data"


def client_ops_dir() -> Path:
    return reference_root() / "client-ops"


def require_reference(name: str) -> Path:
    """A folder of the reference data; skips with the path when it is missing, but fails
    under CI."""
    folder = reference_root() / name
    if folder.is_dir():
        return folder
    message = (
        f"Glific reference data not found at {folder} (set {ENV_VAR} to the folder holding {name}/)"
    )
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must run these tests")
    pytest.skip(message)


def require_reference_data() -> Path:
    """The client-ops folder (see require_reference)."""
    return require_reference("client-ops")


def in_scope_documents() -> list[Path]:
    """Every in-scope document, sorted; empty when the reference data is missing."""
    folder = client_ops_dir()
    found: set[Path] = set()
    for sub, patterns in PATTERNS.items():
        for pattern in patterns:
            found.update((folder / sub).glob(pattern))
    return sorted(found, key=lambda p: (p.parent.name, p.name))


def unmatched_patterns() -> list[str]:
    """Patterns that match no file (a renamed folder or file would otherwise go unnoticed)."""
    folder = client_ops_dir()
    return [
        f"{sub}/{pattern}"
        for sub, patterns in PATTERNS.items()
        for pattern in patterns
        if not any((folder / sub).glob(pattern))
    ]


def document_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


# --- reading documents as Glific's server does ----------------------------------------------


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


class _Camel(Visitor):
    """Same rewrite as the validate-client-ops tool: a snake_case field becomes the camelCase
    field aliased to the name as written; snake_case arguments and input keys become camel."""

    def enter_field(self, node: FieldNode, *_: Any) -> FieldNode | None:
        name = node.name.value
        if "_" in name and not name.startswith("__"):
            return FieldNode(
                alias=node.alias or NameNode(value=name),
                name=NameNode(value=camel(name)),
                arguments=node.arguments,
                directives=node.directives,
                selection_set=node.selection_set,
            )
        return None

    def enter_argument(self, node: ArgumentNode, *_: Any) -> ArgumentNode | None:
        if "_" in node.name.value:
            return ArgumentNode(name=NameNode(value=camel(node.name.value)), value=node.value)
        return None

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> ObjectFieldNode | None:
        if "_" in node.name.value:
            return ObjectFieldNode(name=NameNode(value=camel(node.name.value)), value=node.value)
        return None


def read_as_glific(text: str) -> DocumentNode:
    return visit(parse(text), _Camel())


def fetch_schema(client: httpx2.Client, token: str) -> GraphQLSchema:
    """Our schema as a client sees it: introspection over HTTP, then graphql-core's
    `build_client_schema` (exactly what the validate-client-ops tool does)."""
    response = client.post(
        "/api",
        json={"query": get_introspection_query(descriptions=False)},
        headers={"authorization": token},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return build_client_schema(body["data"])


def validation_errors(schema: GraphQLSchema, text: str) -> list[str]:
    try:
        return [e.message for e in validate(schema, read_as_glific(text))]
    except Exception as exc:  # a document that does not even parse is a failure too
        return [f"{type(exc).__name__}: {exc}"]


# --- operations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """The one operation of a client document, read as Glific reads it (camelCase names,
    aliases holding the spelling the client wrote)."""

    text: str
    document: DocumentNode
    definition: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]

    @classmethod
    def load(cls, path: Path) -> Operation:
        return cls.from_text(path.read_text(encoding="utf-8"), path.name)

    @classmethod
    def from_text(cls, text: str, label: str = "document") -> Operation:
        document = read_as_glific(text)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        assert len(operations) == 1, f"{label}: expected one operation"
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        return cls(text, document, operations[0], fragments)

    @property
    def kind(self) -> str:
        return self.definition.operation.value

    @property
    def name(self) -> str | None:
        return self.definition.name.value if self.definition.name else None

    @property
    def root_fields(self) -> list[str]:
        """The root fields' names (camelCase, as our schema calls them)."""
        return [
            n.name.value
            for n in self.definition.selection_set.selections
            if isinstance(n, FieldNode)
        ]

    def variables(self) -> list[tuple[str, str]]:
        """(name, named type) for each declared variable: `$ids: [ID!]!` gives ("ids", "ID")."""
        out = []
        for var in self.definition.variable_definitions or ():
            type_node: Any = var.type
            while hasattr(type_node, "type"):  # unwrap list and non-null
                type_node = type_node.type
            out.append((var.variable.name.value, type_node.name.value))
        return out


# --- response shape --------------------------------------------------------------------------

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")


@dataclass
class ShapeRules:
    """Where a null object or an empty list is legitimate, as glob patterns over response
    paths such as `deleteContact.contact` or `contacts[].groups[]`. Everywhere else an object
    must be present and a list must have items (an empty list would check nothing)."""

    null_objects: tuple[str, ...] = ()
    empty_lists: tuple[str, ...] = ()


@dataclass
class _Walker:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    rules: ShapeRules
    problems: list[str] = field(default_factory=list)

    def allowed(self, patterns: Iterable[str], path: str) -> bool:
        return any(fnmatchcase(path, p) for p in patterns)

    def collect(
        self, selection_set: SelectionSetNode, parent: GraphQLObjectType
    ) -> dict[str, list[FieldNode]]:
        """Response key -> the field nodes that produce it (through fragments)."""
        out: dict[str, list[FieldNode]] = {}
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                key = (node.alias or node.name).value
                out.setdefault(key, []).append(node)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragments[node.name.value]
                for key, nodes in self.collect(fragment.selection_set, parent).items():
                    out.setdefault(key, []).extend(nodes)
            elif isinstance(node, InlineFragmentNode):
                for key, nodes in self.collect(node.selection_set, parent).items():
                    out.setdefault(key, []).extend(nodes)
        return out

    def check_object(
        self, value: Any, parent: GraphQLObjectType, selections: list[SelectionSetNode], path: str
    ) -> None:
        if not isinstance(value, dict):
            self.problems.append(f"{path}: expected an object, got {value!r}")
            return
        selected: dict[str, list[FieldNode]] = {}
        for selection_set in selections:
            for key, nodes in self.collect(selection_set, parent).items():
                selected.setdefault(key, []).extend(nodes)
        missing = sorted(set(selected) - set(value))
        extra = sorted(set(value) - set(selected))
        if missing:
            self.problems.append(f"{path or '<data>'}: missing keys {missing}")
        if extra:
            self.problems.append(f"{path or '<data>'}: keys not asked for {extra}")
        for key, nodes in selected.items():
            if key not in value:
                continue
            name = nodes[0].name.value
            child = f"{path}.{key}" if path else key
            if name == "__typename":
                if not isinstance(value[key], str):
                    self.problems.append(f"{child}: __typename should be a string")
                continue
            definition = parent.fields.get(name)
            if definition is None:
                self.problems.append(f"{child}: {parent.name} has no field {name}")
                continue
            subs = [n.selection_set for n in nodes if n.selection_set is not None]
            self.check_value(value[key], definition.type, subs, child, field_name=name)

    def check_value(
        self,
        value: Any,
        type_: GraphQLOutputType,
        subs: list[SelectionSetNode],
        path: str,
        field_name: str,
    ) -> None:
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                self.problems.append(f"{path}: null for a non-null {type_}")
                return
            type_ = type_.of_type
        if _is_input_errors(field_name, type_):
            # The happy path: a payload's `errors` is null.
            if value is not None:
                self.problems.append(f"{path}: expected no errors, got {value!r}")
            return
        if isinstance(type_, GraphQLList):
            if not isinstance(value, list):
                self.problems.append(f"{path}: expected a list, got {value!r}")
                return
            if not value and not self.allowed(self.rules.empty_lists, path):
                self.problems.append(f"{path}: empty list (seed data should fill it)")
            for item in value:
                self.check_value(item, type_.of_type, subs, f"{path}[]", field_name)
            return
        if isinstance(type_, GraphQLObjectType):
            if value is None:
                if not self.allowed(self.rules.null_objects, path):
                    self.problems.append(f"{path}: null {type_.name} (seed data should fill it)")
                return
            self.check_object(value, type_, subs, path)
            return
        if value is None:
            if field_name == "id":
                self.problems.append(f"{path}: id is null")
            return
        if isinstance(type_, GraphQLEnumType):
            if not isinstance(value, str) or value not in type_.values or value != value.upper():
                self.problems.append(f"{path}: {value!r} is not an upper-case {type_.name} value")
            return
        if isinstance(type_, GraphQLScalarType):
            problem = _scalar_problem(type_.name, value)
            if problem:
                self.problems.append(f"{path}: {problem}")
            return
        self.problems.append(f"{path}: unexpected type {type_}")


def _is_input_errors(field_name: str, type_: Any) -> bool:
    while isinstance(type_, (GraphQLNonNull, GraphQLList)):
        type_ = type_.of_type
    return field_name == "errors" and getattr(type_, "name", None) == "InputError"


def _scalar_problem(name: str, value: Any) -> str | None:
    if name in ("ID", "String"):
        if not isinstance(value, str):
            return f"{name} should be a string, got {value!r}"
        if name == "ID" and not value:
            return "ID is empty"
    elif name == "Int":
        if not isinstance(value, int) or isinstance(value, bool):
            return f"Int should be an integer, got {value!r}"
    elif name == "Float":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return f"Float should be a number, got {value!r}"
    elif name == "Boolean":
        if not isinstance(value, bool):
            return f"Boolean should be true/false, got {value!r}"
    elif name == "Json":
        if not isinstance(value, str):
            return f"Json should be a JSON-encoded string, got {value!r}"
        try:
            json.loads(value)
        except ValueError:
            return f"Json string does not hold JSON: {value!r}"
    elif name == "UUID4":
        if not isinstance(value, str) or not _UUID.fullmatch(value):
            return f"UUID4 should be a UUID string, got {value!r}"
    elif name == "DateTime":
        if not isinstance(value, str) or not _DATETIME.fullmatch(value):
            return f"DateTime should be ISO-8601 ending in Z, got {value!r}"
    elif name == "RoleLabel":
        if value not in role_labels(ROLE_ORDER):
            return f"RoleLabel should be one of Glific's role labels, got {value!r}"
    else:
        return f"no rule for scalar {name}"
    return None


def shape_problems(
    schema: GraphQLSchema, operation: Operation, data: Any, rules: ShapeRules
) -> list[str]:
    """Everything about `data` that does not match what the operation selects."""
    root = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }[operation.kind]
    assert root is not None, f"the schema has no {operation.kind} type"
    walker = _Walker(schema, operation.fragments, rules)
    walker.check_object(data, root, [operation.definition.selection_set], "")
    return walker.problems

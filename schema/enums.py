"""Enums as Glific names them: upper-case values over the lower-case stored strings. Each is
the resolvers' own enum (the values live once, next to the rules that use them), registered
under Glific's name."""

from __future__ import annotations

import strawberry

from resolvers import (
    contacts,
    contacts_fields,
    flows,
    imports,
    messages,
    organizations,
    querying,
    templates,
)

SortOrder = querying.Order
ContactStatusEnum = contacts.ContactStatus
ContactProviderStatusEnum = contacts.ProviderStatus
ContactFieldValueTypeEnum = contacts_fields.ValueType
ContactFieldScopeEnum = contacts_fields.Scope
ImportContactsTypeEnum = imports.SourceType
OrganizationStatusEnum = organizations.OrganizationStatus
FlowTypeEnum = flows.FlowType
MessageFlowEnum = messages.Direction
MessageTypeEnum = messages.MessageType
MessageStatusEnum = messages.BspStatus
TemplateButtonTypeEnum = templates.ButtonType

# strawberry.enum registers a class in place (and returns it): the names above stay plain
# aliases of the classes, which a type checker reads as types.
strawberry.enum(SortOrder, name="SortOrder")
strawberry.enum(ContactStatusEnum, name="ContactStatusEnum")
strawberry.enum(ContactProviderStatusEnum, name="ContactProviderStatusEnum")
strawberry.enum(ContactFieldValueTypeEnum, name="ContactFieldValueTypeEnum")
strawberry.enum(ContactFieldScopeEnum, name="ContactFieldScopeEnum")
strawberry.enum(ImportContactsTypeEnum, name="ImportContactsTypeEnum")
strawberry.enum(OrganizationStatusEnum, name="OrganizationStatusEnum")
strawberry.enum(FlowTypeEnum, name="FlowTypeEnum")
strawberry.enum(MessageFlowEnum, name="MessageFlowEnum")
strawberry.enum(MessageTypeEnum, name="MessageTypeEnum")
strawberry.enum(MessageStatusEnum, name="MessageStatusEnum")
strawberry.enum(TemplateButtonTypeEnum, name="TemplateButtonTypeEnum")

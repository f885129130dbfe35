"""Enums as Glific names them: upper-case values over the lower-case stored strings."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(name="SortOrder")
class SortOrder(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.enum(name="ContactStatusEnum")
class ContactStatusEnum(Enum):
    BLOCKED = "blocked"
    FAILED = "failed"
    INVALID = "invalid"
    PROCESSING = "processing"
    VALID = "valid"


@strawberry.enum(name="ContactProviderStatusEnum")
class ContactProviderStatusEnum(Enum):
    NONE = "none"
    SESSION = "session"
    SESSION_AND_HSM = "session_and_hsm"
    HSM = "hsm"


@strawberry.enum(name="ContactFieldValueTypeEnum")
class ContactFieldValueTypeEnum(Enum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"


@strawberry.enum(name="ContactFieldScopeEnum")
class ContactFieldScopeEnum(Enum):
    CONTACT = "contact"
    GLOBALS = "globals"
    WA_GROUP = "wa_group"


@strawberry.enum(name="ImportContactsTypeEnum")
class ImportContactsTypeEnum(Enum):
    FILE_PATH = "file_path"
    URL = "url"
    DATA = "data"


@strawberry.enum(name="OrganizationStatusEnum")
class OrganizationStatusEnum(Enum):
    INACTIVE = "inactive"
    APPROVED = "approved"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    READY_TO_DELETE = "ready_to_delete"
    FORCED_SUSPENSION = "forced_suspension"

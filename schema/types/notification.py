"""`Notification` (Glific's)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.loaders import ORGANIZATION
from schema.scalars import JsonValue
from schema.types.common import related
from schema.types.user import Organization


@strawberry.type(name="Notification")
class Notification:
    id: strawberry.ID | None
    category: str | None
    entity: JsonValue | None
    message: str | None
    severity: JsonValue | None
    is_read: bool | None
    inserted_at: datetime | None
    updated_at: datetime | None

    organization: Organization | None = related(ORGANIZATION, "organization_id")

"""Tables, the engine/session factory and migrations. Imports nothing above it."""

from sqlalchemy import BigInteger, column
from sqlmodel import SQLModel

from models import orm_direct
from models.base import OrgScoped, saved_id, utcnow, utcnow_seconds
from models.broadcast import MessageBroadcast, MessageBroadcastContact
from models.contact import SIMULATOR_PHONE_PREFIX, Contact, ContactHistory, Location
from models.contacts_field import ContactsField
from models.db import (
    Database,
    OrganizationScopeError,
    guarded,
    read_rows,
    unscoped,
    write_rows,
)
from models.direct import bound, prepared
from models.flow import Flow, FlowContext, FlowKeyword, FlowLabel, FlowResult, FlowRevision
from models.group import ContactGroup, Group, UserGroup
from models.job_queue import JobQueue
from models.jobs import SimulatorLease, UserJob
from models.language import Language
from models.message import Message
from models.notification import Notification
from models.organization import AccessRole, Organization
from models.profile import Profile
from models.provider import WhatsappProvider
from models.reads import Read
from models.records import records
from models.saved_search import SavedSearch
from models.send_slot import SendSlot, epoch_now
from models.session_template import SessionTemplate
from models.tag import Tag
from models.user import User, UserToken
from models.wa_group import (
    ContactWaGroup,
    WaGroup,
    WaGroupCollection,
    WaGroupFlowRun,
    WaManagedPhone,
    WaMessage,
)

metadata = SQLModel.metadata

# SQLite reuses the highest rowid after a delete unless AUTOINCREMENT is declared: a new
# contact could get a deleted contact's id, and anything still pointing at that id (a
# client cache, a queued job) would reach the wrong person.
for _table in metadata.tables.values():
    _table.dialect_kwargs["sqlite_autoincrement"] = True

# A stand-in column on the mixin, for SQLAlchemy's analysis of the organization filter's
# lambda (models.db). Set only now, after the tables, so SQLModel does not see it as a field.
OrgScoped.organization_id = column("organization_id", BigInteger)  # type: ignore[attr-defined]

__all__ = [
    "SIMULATOR_PHONE_PREFIX",
    "AccessRole",
    "Contact",
    "ContactGroup",
    "ContactHistory",
    "ContactWaGroup",
    "ContactsField",
    "Database",
    "Flow",
    "FlowContext",
    "FlowKeyword",
    "FlowLabel",
    "FlowResult",
    "FlowRevision",
    "Group",
    "JobQueue",
    "Language",
    "Location",
    "Message",
    "MessageBroadcast",
    "MessageBroadcastContact",
    "Notification",
    "OrgScoped",
    "Organization",
    "OrganizationScopeError",
    "Profile",
    "Read",
    "SavedSearch",
    "SendSlot",
    "SessionTemplate",
    "SimulatorLease",
    "Tag",
    "User",
    "UserGroup",
    "UserJob",
    "UserToken",
    "WaGroup",
    "WaGroupCollection",
    "WaGroupFlowRun",
    "WaManagedPhone",
    "WaMessage",
    "WhatsappProvider",
    "bound",
    "epoch_now",
    "guarded",
    "metadata",
    "orm_direct",
    "prepared",
    "read_rows",
    "records",
    "saved_id",
    "unscoped",
    "utcnow",
    "utcnow_seconds",
    "write_rows",
]

"""Glific's root types, merged from the per-domain field classes."""

from __future__ import annotations

from strawberry.tools import merge_types

from schema.fields.contact_tools import ContactToolsMutation, ContactToolsQuery
from schema.fields.contacts import ContactMutation, ContactQuery
from schema.fields.contacts_fields import ContactsFieldMutation, ContactsFieldQuery
from schema.fields.flows import FlowMutation, FlowQuery
from schema.fields.groups import GroupMutation, GroupQuery
from schema.fields.languages import LanguageMutation, LanguageQuery
from schema.fields.media import MediaMutation
from schema.fields.messages import MessageMutation, MessageQuery
from schema.fields.notifications import NotificationMutation, NotificationQuery
from schema.fields.organizations import OrganizationMutation, OrganizationQuery
from schema.fields.profiles import ProfileMutation, ProfileQuery
from schema.fields.search import SearchMutation, SearchQuery
from schema.fields.tags import TagMutation, TagQuery
from schema.fields.templates import TemplateMutation, TemplateQuery
from schema.fields.users import UserMutation, UserQuery
from schema.fields.wa_groups import WaGroupMutation, WaGroupQuery
from schema.fields.wa_messages import WaMessageMutation
from schema.fields.whatsapp_forms import WhatsappFormQuery
from schema.subscriptions import Subscription

RootQueryType = merge_types(
    "RootQueryType",
    (
        ContactQuery,
        ContactToolsQuery,
        ProfileQuery,
        ContactsFieldQuery,
        LanguageQuery,
        UserQuery,
        OrganizationQuery,
        GroupQuery,
        TagQuery,
        TemplateQuery,
        NotificationQuery,
        FlowQuery,
        MessageQuery,
        SearchQuery,
        WaGroupQuery,
        WhatsappFormQuery,
    ),
)
RootMutationType = merge_types(
    "RootMutationType",
    (
        ContactMutation,
        ContactToolsMutation,
        ProfileMutation,
        ContactsFieldMutation,
        LanguageMutation,
        FlowMutation,
        MessageMutation,
        SearchMutation,
        NotificationMutation,
        UserMutation,
        GroupMutation,
        TagMutation,
        TemplateMutation,
        OrganizationMutation,
        MediaMutation,
        WaGroupMutation,
        WaMessageMutation,
    ),
)
RootSubscriptionType = merge_types("RootSubscriptionType", (Subscription,))

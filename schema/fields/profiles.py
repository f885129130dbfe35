"""Root fields for profiles: Glific's four plus switch, deactivate and reactivate."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import profiles
from schema.fields.common import ctx_of, payload, query_row, query_rows, read
from schema.inputs import Opts, ProfileFilter, ProfileInput, to_opts, to_params
from schema.permissions import Manager, Staff
from schema.types.contact import ContactResult
from schema.types.profile import Profile, ProfileResult


@strawberry.type
class ProfileQuery:
    @strawberry.field(permission_classes=[Staff])
    async def profile(self, info: Info, id: strawberry.ID) -> ProfileResult | None:
        org_id = ctx_of(info).org_id
        found, errors = await query_row(info, lambda: profiles.profile_read(org_id, id), "profile")
        return ProfileResult(profile=found, errors=errors)

    @strawberry.field(permission_classes=[Staff])
    async def profiles(
        self, info: Info, filter: ProfileFilter | None = None, opts: Opts | None = None
    ) -> list[Profile | None] | None:
        org_id = ctx_of(info).org_id
        read = profiles.profiles_read(org_id, to_params(filter) or {}, to_opts(opts))
        return await query_rows(info, read)

    @strawberry.field(permission_classes=[Staff])
    async def count_profiles(self, info: Info, filter: ProfileFilter | None = None) -> int | None:
        org_id = ctx_of(info).org_id
        return await read(
            info, lambda s: profiles.count_profiles(s, org_id, to_params(filter) or {})
        )


@strawberry.type
class ProfileMutation:
    @strawberry.mutation(
        permission_classes=[Manager],
        description="Create a profile on a contact; it becomes the active one unless "
        "activate is false. The contact's default profile is made first if it has none.",
    )
    async def create_profile(
        self, info: Info, input: ProfileInput, activate: bool | None = True
    ) -> ProfileResult | None:
        org_id = ctx_of(info).org_id
        created, errors = await payload(
            info,
            lambda s: profiles.create_profile(
                s, org_id, to_params(input), activate=activate is not False
            ),
            "profile",
        )
        return ProfileResult(profile=created, errors=errors)

    @strawberry.mutation(permission_classes=[Staff])
    async def update_profile(
        self, info: Info, id: strawberry.ID, input: ProfileInput | None = None
    ) -> ProfileResult | None:
        org_id = ctx_of(info).org_id
        updated, errors = await payload(
            info,
            lambda s: profiles.update_profile(s, org_id, id, to_params(input) or {}),
            "profile",
        )
        return ProfileResult(profile=updated, errors=errors)

    @strawberry.mutation(permission_classes=[Manager])
    async def delete_profile(self, info: Info, id: strawberry.ID) -> ProfileResult | None:
        org_id = ctx_of(info).org_id
        _, errors = await payload(info, lambda s: profiles.delete_profile(s, org_id, id))
        return ProfileResult(profile=None, errors=errors)

    @strawberry.mutation(
        permission_classes=[Staff],
        description="Make one of the contact's active profiles the active one, chosen by id, "
        "by 1-based index (default profile first, then oldest first) or by name.",
    )
    async def switch_profile(
        self,
        info: Info,
        contact_id: strawberry.ID,
        profile_id: strawberry.ID | None = None,
        index: int | None = None,
        name: str | None = None,
    ) -> ContactResult | None:
        org_id = ctx_of(info).org_id
        contact, errors = await payload(
            info,
            lambda s: profiles.switch_profile(
                s, org_id, contact_id, profile_id=profile_id, index=index, name=name
            ),
            "contact",
        )
        return ContactResult(contact=contact, errors=errors)

    @strawberry.mutation(
        permission_classes=[Manager],
        description="Take a profile out of the switch menu; if it was active the contact "
        "falls back to its default profile. The default profile cannot be deactivated.",
    )
    async def deactivate_profile(self, info: Info, id: strawberry.ID) -> ProfileResult | None:
        org_id = ctx_of(info).org_id
        profile, errors = await payload(
            info, lambda s: profiles.set_profile_active(s, org_id, id, False), "profile"
        )
        return ProfileResult(profile=profile, errors=errors)

    @strawberry.mutation(permission_classes=[Manager], description="Undo deactivateProfile.")
    async def reactivate_profile(self, info: Info, id: strawberry.ID) -> ProfileResult | None:
        org_id = ctx_of(info).org_id
        profile, errors = await payload(
            info, lambda s: profiles.set_profile_active(s, org_id, id, True), "profile"
        )
        return ProfileResult(profile=profile, errors=errors)

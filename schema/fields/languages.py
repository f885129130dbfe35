"""Root fields for languages: anyone with a role reads them; only glific_admin changes them
(the table is shared by every organization)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from resolvers import languages
from resolvers.errors import InputErrors
from schema.fields.common import Work, ctx_of, lookup, read
from schema.inputs import LanguageFilter, LanguageInput, Opts, to_opts, to_params
from schema.permissions import GlificAdmin, Staff
from schema.types.common import input_errors
from schema.types.language import Language, LanguageResult


async def _change(info: Info, work: Work) -> LanguageResult:
    ctx = ctx_of(info)
    try:
        # Global table: the usage checks on delete must see every organization.
        async with ctx.db.transaction(all_organizations=True) as session:
            language = await work(session)
    except InputErrors as exc:
        return LanguageResult(language=None, errors=input_errors(exc))
    finally:
        await ctx.reset_reads()
    return LanguageResult(language=language, errors=None)


@strawberry.type
class LanguageQuery:
    @strawberry.field(permission_classes=[Staff])
    async def language(self, info: Info, id: strawberry.ID) -> LanguageResult | None:
        found, errors = await lookup(info, lambda s: languages.get_language(s, id))
        return LanguageResult(language=found, errors=errors)

    @strawberry.field(permission_classes=[Staff])
    async def languages(
        self, info: Info, opts: Opts | None = None, filter: LanguageFilter | None = None
    ) -> list[Language | None] | None:
        return await read(
            info, lambda s: languages.list_languages(s, to_params(filter) or {}, to_opts(opts))
        )

    @strawberry.field(permission_classes=[Staff])
    async def count_languages(self, info: Info, filter: LanguageFilter | None = None) -> int | None:
        return await read(info, lambda s: languages.count_languages(s, to_params(filter) or {}))


@strawberry.type
class LanguageMutation:
    @strawberry.mutation(permission_classes=[GlificAdmin])
    async def create_language(self, info: Info, input: LanguageInput) -> LanguageResult | None:
        return await _change(info, lambda s: languages.create_language(s, to_params(input)))

    @strawberry.mutation(permission_classes=[GlificAdmin])
    async def update_language(
        self, info: Info, id: strawberry.ID, input: LanguageInput | None = None
    ) -> LanguageResult | None:
        return await _change(
            info, lambda s: languages.update_language(s, id, to_params(input) or {})
        )

    @strawberry.mutation(permission_classes=[GlificAdmin])
    async def delete_language(self, info: Info, id: strawberry.ID) -> LanguageResult | None:
        result = await _change(info, lambda s: languages.delete_language(s, id))
        return LanguageResult(language=None, errors=result.errors)

"""The settings in force for a session: those of the app that opened it (`Database(settings=)`),
else the process-wide ones from the environment. Tests and tools can run several apps with
different settings in one process."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models.db import SETTINGS_KEY, Database
from settings import Settings, get_settings


def settings_of(session: AsyncSession) -> Settings:
    found = session.info.get(SETTINGS_KEY)
    return found if isinstance(found, Settings) else get_settings()


def settings_for(db: Database) -> Settings:
    return db.settings if isinstance(db.settings, Settings) else get_settings()

"""The SQL of stored settings. Writers hold an advisory lock while they change the rows and bump
the revision; a reader that sees a new revision waits on the same lock (shared), so it never
reads the rows of a change that is not yet committed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.tables import StoredSetting

LOCK_KEY = 0x4C554E41_5345  # "LUNASE": the advisory lock of the settings rows


async def revision(session: AsyncSession) -> int:
    row = (
        await session.execute(text("SELECT last_value, is_called FROM luna.settings_revision"))
    ).one()
    return int(row.last_value) if row.is_called else 0


async def read_all(session: AsyncSession) -> tuple[int, list[StoredSetting]]:
    """The rows and the revision they belong to, once any change in progress has committed."""
    await session.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": LOCK_KEY})
    rows = list(await session.scalars(select(StoredSetting).order_by(StoredSetting.name)))
    return await revision(session), rows


async def write(session: AsyncSession, values: dict[str, Any], removed: set[str]) -> int:
    """Stores `values`, forgets `removed`, and returns the new revision; the caller commits."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    for name, value in values.items():
        statement = insert(StoredSetting).values(name=name, value=value)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[StoredSetting.name],
                set_={"value": statement.excluded.value, "updated_at": text("now()")},
            )
        )
    if removed:
        await session.execute(delete(StoredSetting).where(StoredSetting.name.in_(removed)))
    return int(await session.scalar(text("SELECT nextval('luna.settings_revision')")) or 0)

"""All of memory's SQL. Every read joins the branch lineage (see lineage.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.lineage import Lineage, join, join_turns
from luna_narrates.db.tables import (
    TURN_MEMORY_TABLES,
    CharacterEvolutionSnapshot,
    EntityAlias,
    Fact,
    MemoryChunk,
    Relationship,
    TurnSummary,
)

HNSW_MAX_EF = 1000  # pgvector's upper limit for hnsw.ef_search
CHUNK_COLUMNS = "c.id, c.kind, c.source_id, c.text, c.turn_number, c.turn_id, c.branch_id"


def vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


async def _rows(session: AsyncSession, sql: str, **params: Any) -> list[RowMapping]:
    result = await session.execute(text(sql), params)
    return list(result.mappings().all())


async def vector_search(
    session: AsyncSession,
    lineage: Lineage,
    vector: Sequence[float],
    k: int,
    kinds: Sequence[str] | None = None,
) -> list[RowMapping]:
    """Nearest chunks by cosine distance. The HNSW index answers first, over-fetching because
    story and lineage are filtered after its scan; if that leaves fewer than k it answers again
    with its widest search, and only then (a small story among large ones, a short branch) does
    an exact scan of the lineage answer instead."""
    params = {
        **lineage.params(),
        "q": vector_literal(vector),
        "k": k,
        "fetch": max(4 * k, 100),
        "kinds": list(kinds or []),
    }
    only = "AND m.kind = ANY(CAST(:kinds AS text[]))" if kinds else ""
    await session.execute(text(f"SET LOCAL hnsw.ef_search = {int(params['fetch'])}"))
    hnsw_sql = f"""
        SELECT {CHUNK_COLUMNS}, c.distance FROM (
            SELECT m.*, m.embedding <=> CAST(:q AS vector) AS distance
            FROM memory_chunks m WHERE m.story_id = :story_id {only}
            ORDER BY m.embedding <=> CAST(:q AS vector) LIMIT :fetch
        ) c {join("c")}
        ORDER BY c.distance LIMIT :k
        """
    rows = await _rows(session, hnsw_sql, **params)
    if len(rows) >= k:
        return rows
    if params["fetch"] < HNSW_MAX_EF:
        # The index answers again with a wider search before anything scans the story.
        params["fetch"] = HNSW_MAX_EF
        await session.execute(text(f"SET LOCAL hnsw.ef_search = {HNSW_MAX_EF}"))
        rows = await _rows(session, hnsw_sql, **params)
        if len(rows) >= k:
            return rows
    return await _rows(
        session,
        f"""
        WITH c AS MATERIALIZED (
            SELECT m.* FROM memory_chunks m {join("m")} WHERE m.story_id = :story_id {only}
        )
        SELECT {CHUNK_COLUMNS}, c.embedding <=> CAST(:q AS vector) AS distance
        FROM c ORDER BY distance LIMIT :k
        """,
        **params,
    )


# Words in more than this share of all indexed texts carry no signal for full-text search
# (the vector side handles meaning) and make it rank a third of the story: PostgreSQL's own
# statistics (ANALYZE keeps element frequencies for tsvector columns) say which they are.
COMMON_TERM_SHARE = 0.02


async def text_search(
    session: AsyncSession, lineage: Lineage, terms: str, k: int
) -> list[RowMapping]:
    """Chunks matching any of the query's informative words, best ts_rank_cd first."""
    if not terms:
        return []
    return await _rows(
        session,
        f"""
        WITH common AS (
            SELECT e.lexeme
            FROM pg_stats p,
                 unnest(CAST(CAST(p.most_common_elems AS text) AS text[]),
                        p.most_common_elem_freqs) AS e(lexeme, share)
            WHERE p.schemaname = current_schema() AND p.tablename = 'memory_chunks'
              AND p.attname = 'search' AND e.share > :common_share
        ), wanted AS (
            SELECT string_agg(quote_literal(w.lexeme), ' | ') AS words
            FROM unnest(tsvector_to_array(to_tsvector('english', :terms))) AS w(lexeme)
            WHERE w.lexeme NOT IN (SELECT lexeme FROM common)
        )
        SELECT {CHUNK_COLUMNS}, ts_rank_cd(c.search, query) AS rank
        FROM wanted, to_tsquery('simple', coalesce(wanted.words, '')) AS query,
             memory_chunks c {join("c")}
        WHERE wanted.words IS NOT NULL AND c.story_id = :story_id AND c.search @@ query
        ORDER BY rank DESC, c.turn_number DESC LIMIT :k
        """,
        **lineage.params(),
        terms=terms,
        k=k,
        common_share=COMMON_TERM_SHARE,
    )


async def names(session: AsyncSession, lineage: Lineage) -> list[RowMapping]:
    """Every name of every entity on the lineage, newest first, with the entity's kind."""
    return await _rows(
        session,
        f"""
        SELECT a.entity_id, a.alias, a.normalized, a.is_primary, a.turn_number,
               e.kind, e.description, e.turn_number AS first_turn
        FROM entity_aliases a {join("a")} JOIN entities e ON e.id = a.entity_id
        WHERE a.story_id = :story_id
        ORDER BY a.turn_number DESC, a.is_primary DESC
        """,
        **lineage.params(),
    )


async def subjects_with_object(
    session: AsyncSession, lineage: Lineage, entity_ids: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    rows = await _rows(
        session,
        f"""
        SELECT DISTINCT f.entity_id FROM facts f {join("f")}
        WHERE f.object_entity_id = ANY(CAST(:ids AS uuid[]))
        """,
        **lineage.params(),
        ids=list(entity_ids),
    )
    return [row["entity_id"] for row in rows]


async def fact_history(
    session: AsyncSession, lineage: Lineage, entity_ids: Sequence[uuid.UUID]
) -> list[RowMapping]:
    """Every fact of the entities on the lineage, each with the turn it stopped being true
    (the next value of the same key on the lineage), or NULL while it is current."""
    return await _rows(
        session,
        f"""
        SELECT f.id, f.entity_id, f.key, f.value, f.object_entity_id, f.turn_number,
               lead(f.turn_number) OVER w AS ended_turn,
               lag(f.value) OVER w AS previous_value
        FROM facts f {join("f")}
        WHERE f.entity_id = ANY(CAST(:ids AS uuid[]))
        WINDOW w AS (PARTITION BY f.entity_id, f.key ORDER BY f.turn_number, f.created_at, f.id)
        ORDER BY f.entity_id, f.key, f.turn_number
        """,
        **lineage.params(),
        ids=list(entity_ids),
    )


async def relationship_history(
    session: AsyncSession, lineage: Lineage, entity_ids: Sequence[uuid.UUID]
) -> list[RowMapping]:
    return await _rows(
        session,
        f"""
        SELECT r.id, r.source_entity_id, r.target_entity_id, r.disposition, r.score,
               r.turn_number,
               lead(r.turn_number) OVER w AS ended_turn
        FROM relationships r {join("r")}
        WHERE r.source_entity_id = ANY(CAST(:ids AS uuid[]))
           OR r.target_entity_id = ANY(CAST(:ids AS uuid[]))
        WINDOW w AS (PARTITION BY r.source_entity_id, r.target_entity_id
                     ORDER BY r.turn_number, r.created_at, r.id)
        ORDER BY r.turn_number
        """,
        **lineage.params(),
        ids=list(entity_ids),
    )


async def snapshots(
    session: AsyncSession, lineage: Lineage, entity_ids: Sequence[uuid.UUID]
) -> list[RowMapping]:
    return await _rows(
        session,
        f"""
        SELECT s.id, s.entity_id, s.change, s.turn_number
        FROM character_evolution_snapshots s {join("s")}
        WHERE s.entity_id = ANY(CAST(:ids AS uuid[]))
        ORDER BY s.turn_number
        """,
        **lineage.params(),
        ids=list(entity_ids),
    )


async def entity_ids(
    session: AsyncSession, lineage: Lineage, latest: int | None = None
) -> list[uuid.UUID]:
    """In the order the story met them; or, with `latest`, that many, the last the story met or
    changed a fact of first."""
    if latest is None:
        order, params = "ORDER BY e.turn_number, e.name", {}
    else:
        last_fact = f"(SELECT max(f.turn_number) FROM facts f {join('f')} WHERE f.entity_id = e.id)"
        order = f"ORDER BY GREATEST(e.turn_number, {last_fact}) DESC, e.name LIMIT :latest"
        params = {"latest": latest}
    rows = await _rows(
        session,
        f"SELECT e.id FROM entities e {join('e')} WHERE e.story_id = :story_id {order}",
        **lineage.params(),
        **params,
    )
    return [row["id"] for row in rows]


async def facts_by_id(session: AsyncSession, fact_ids: Sequence[uuid.UUID]) -> list[RowMapping]:
    return await _rows(
        session,
        "SELECT id, entity_id, key FROM facts WHERE id = ANY(CAST(:ids AS uuid[]))",
        ids=list(fact_ids),
    )


# How far back a turn whose memory is still missing is shown raw. Older ones (a job that kept
# failing) stay findable through the passage index, which is built by a separate job.
PENDING_WINDOW = 50


async def turns_to_show(session: AsyncSession, lineage: Lineage) -> list[RowMapping]:
    """The latest turns of the lineage, newest first, each with its summary if written."""
    return await _rows(
        session,
        """
        SELECT t.id, t.turn_number, t.user_action, t.narrative_text, s.summary
        FROM unnest(CAST(:lineage_branches AS uuid[]), CAST(:lineage_upto AS int[]))
             AS lineage(branch_id, upto)
        CROSS JOIN LATERAL (
            SELECT * FROM turns
            WHERE turns.branch_id = lineage.branch_id AND turns.turn_number <= lineage.upto
              AND turns.is_selected
            ORDER BY turns.turn_number DESC LIMIT :window
        ) t
        LEFT JOIN turn_summaries s ON s.turn_id = t.id
        ORDER BY t.turn_number DESC LIMIT :window
        """,
        **lineage.params(),
        window=PENDING_WINDOW,
    )


async def latest_arcs(session: AsyncSession, lineage: Lineage, n: int) -> list[RowMapping]:
    return await _rows(
        session,
        f"""
        SELECT a.id, a.first_turn, a.turn_number, a.title, a.summary
        FROM story_arcs a {join("a")} WHERE a.story_id = :story_id
        ORDER BY a.turn_number DESC LIMIT :n
        """,
        **lineage.params(),
        n=n,
    )


async def arcs_by_id(session: AsyncSession, arc_ids: Sequence[uuid.UUID]) -> list[RowMapping]:
    return await _rows(
        session,
        "SELECT id, first_turn, turn_number, title, summary FROM story_arcs "
        "WHERE id = ANY(CAST(:ids AS uuid[]))",
        ids=list(arc_ids),
    )


async def summaries(
    session: AsyncSession, lineage: Lineage, first: int, last: int
) -> list[RowMapping]:
    """The turns of a range with their summaries (NULL where not built yet)."""
    return await _rows(
        session,
        f"""
        SELECT t.id, t.turn_number, t.user_action, t.narrative_text, s.summary
        FROM turns t {join_turns("t")} LEFT JOIN turn_summaries s ON s.turn_id = t.id
        WHERE t.story_id = :story_id AND t.turn_number BETWEEN :first AND :last
        ORDER BY t.turn_number
        """,
        **lineage.params(),
        first=first,
        last=last,
    )


async def turn_ids(session: AsyncSession, branch_id: uuid.UUID) -> dict[int, uuid.UUID]:
    rows = await _rows(
        session,
        "SELECT turn_number, id FROM turns WHERE branch_id = :b AND is_selected",
        b=branch_id,
    )
    return {row["turn_number"]: row["id"] for row in rows}


async def forget_turn(session: AsyncSession, turn_id: uuid.UUID, kinds: Sequence[str]) -> None:
    """Removes what a memory job wrote for a turn, so running it again writes it once.

    Entities, their names and their documents stay: later turns may refer to them, and a
    re-run finds them again.
    """
    for table in (Fact, Relationship, CharacterEvolutionSnapshot, TurnSummary):
        await session.execute(delete(table).where(table.turn_id == turn_id))
    await session.execute(
        delete(MemoryChunk).where(MemoryChunk.turn_id == turn_id, MemoryChunk.kind.in_(kinds))
    )


async def forget_passages(session: AsyncSession, turn_id: uuid.UUID) -> None:
    await session.execute(
        delete(MemoryChunk).where(MemoryChunk.turn_id == turn_id, MemoryChunk.kind == "passage")
    )


async def add_aliases(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(EntityAlias).values(rows).on_conflict_do_nothing())


async def lock_story_memory(session: AsyncSession, story_id: uuid.UUID) -> None:
    """Serialises changes to one story's memory until the transaction ends: a memory job's
    write and a take being retired never interleave, so neither acts on the other's half."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": f"luna-memory:{story_id}"},
    )


async def all_selected(session: AsyncSession, turn_ids: Sequence[uuid.UUID]) -> bool:
    """True when every turn still exists and is the selected take."""
    count = await session.scalar(
        text("SELECT count(*) FROM turns WHERE id = ANY(CAST(:ids AS uuid[])) AND is_selected"),
        {"ids": list(turn_ids)},
    )
    return bool(count == len(set(turn_ids)))


async def entities_exist(session: AsyncSession, entity_ids: set[uuid.UUID]) -> bool:
    count = await session.scalar(
        text("SELECT count(*) FROM entities WHERE id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": list(entity_ids)},
    )
    return bool(count == len(entity_ids))


async def hold_current_turn(session: AsyncSession, story_id: uuid.UUID, turn_id: uuid.UUID) -> bool:
    """Takes the story's memory lock, then holds the turn until the caller commits: True while
    it exists and is the selected version, so memory is only written for what the story tells."""
    await lock_story_memory(session, story_id)
    selected = await session.scalar(
        text("SELECT is_selected FROM turns WHERE id = :id FOR SHARE"), {"id": turn_id}
    )
    return bool(selected)


async def retire_version(session: AsyncSession, old: uuid.UUID, new: uuid.UUID) -> list[uuid.UUID]:
    """Takes a version that is no longer selected out of memory, as if it had never been told.
    The caller holds `lock_story_memory`, taken before the version was deselected.

    Entities it introduced that other turns still refer to stay, now introduced by `new` (same
    branch and number, so every lineage sees them as before). Arcs that covered it are dropped;
    answers the last turns of those arcs (other than `old`) so they can be summed up again.
    """
    arcs = await _rows(
        session,
        """
        SELECT a.id, a.turn_id FROM story_arcs a
        JOIN story_arc_turns x ON x.arc_id = a.id WHERE x.turn_id = :old
        """,
        old=old,
    )
    arc_ids = [row["id"] for row in arcs]
    await session.execute(
        text("DELETE FROM memory_chunks WHERE source_id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": arc_ids},
    )
    await session.execute(
        text("DELETE FROM story_arcs WHERE id = ANY(CAST(:ids AS uuid[]))"), {"ids": arc_ids}
    )
    kept = text(
        """
        SELECT e.id FROM entities e WHERE e.turn_id = :old AND (
            EXISTS (SELECT 1 FROM facts f WHERE f.turn_id <> :old
                    AND (f.entity_id = e.id OR f.object_entity_id = e.id))
            OR EXISTS (SELECT 1 FROM relationships r WHERE r.turn_id <> :old
                       AND e.id IN (r.source_entity_id, r.target_entity_id))
            OR EXISTS (SELECT 1 FROM character_evolution_snapshots s
                       WHERE s.turn_id <> :old AND s.entity_id = e.id)
            OR EXISTS (SELECT 1 FROM entity_aliases a WHERE a.turn_id <> :old
                       AND a.entity_id = e.id))
        """
    )
    kept_ids = list((await session.scalars(kept, {"old": old})).all())
    moves = (
        "UPDATE entities SET turn_id = :new WHERE id = ANY(CAST(:ids AS uuid[]))",
        "UPDATE entity_aliases SET turn_id = :new "
        "WHERE turn_id = :old AND entity_id = ANY(CAST(:ids AS uuid[]))",
        "UPDATE memory_chunks SET turn_id = :new "
        "WHERE turn_id = :old AND kind = 'entity' AND source_id = ANY(CAST(:ids AS uuid[]))",
    )
    for sql in moves:
        await session.execute(text(sql), {"old": old, "new": new, "ids": kept_ids})
    for table in TURN_MEMORY_TABLES:
        await session.execute(text(f"DELETE FROM {table} WHERE turn_id = :old"), {"old": old})
    return [row["turn_id"] for row in arcs if row["turn_id"] != old]

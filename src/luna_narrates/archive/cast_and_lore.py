"""The rules an archive's cast and lorebooks keep, checked before import the way an upload is
checked: every card reads as a card, every portrait as an image we accept, every lorebook
entry (packed ones unpacked) as a World Info entry. The columns derived from them (an entry's
keys index, kind and flags; a portrait's size and checksum) are computed again, not trusted."""

from __future__ import annotations

from typing import Any

from luna_narrates.formats.character_card import CardError, card_from_object
from luna_narrates.formats.world_info import LorebookError, checked_entry
from luna_narrates.kit import images
from luna_narrates.lore import tiers
from luna_narrates.lore.keys import match_keys
from luna_narrates.lore.service import kind_of

Row = dict[str, Any]


def problems(tables: dict[str, list[Row]]) -> list[str]:
    """What is wrong, as "where: what" sentences; rows are normalised in place."""
    found: list[str] = []
    books = {row["id"]: row for row in tables.get("lorebooks", [])}
    for index, row in enumerate(tables.get("lorebook_entries", [])):
        where = f"tables.lorebook_entries[{index}]"
        book = books.get(row.get("lorebook_id"))
        if book is None:
            continue  # the reference check names it
        try:
            _entry(row, book)
        except (LorebookError, tiers.PackError, ValueError) as error:
            found.append(f"{where}: {error}")
    for index, row in enumerate(tables.get("character_cards", [])):
        try:
            card = card_from_object(row.get("card"))
        except CardError as error:
            found.append(f"tables.character_cards[{index}].card: {error}")
            continue
        if card.version != row.get("version"):
            found.append(
                f"tables.character_cards[{index}].version: the card is V{card.version}, "
                f"not V{row.get('version')}."
            )
    for index, row in enumerate(tables.get("character_portraits", [])):
        try:
            info = images.inspect(row.get("image") or b"")
        except images.ImageRefused as error:
            found.append(f"tables.character_portraits[{index}].image: {error}")
            continue
        row.update(
            media_type=info.media_type, sha256=info.sha256, width=info.width, height=info.height
        )
    return found


def _entry(row: Row, book: Row) -> None:
    cold = book.get("storage_tier") == "cold"
    if cold:
        if row.get("packed") is None or row.get("fields") is not None:
            raise ValueError("an entry of a cold lorebook is packed, and only packed.")
        [fields] = tiers.unpack([row["packed"]], book.get("dictionary"))
    else:
        if row.get("fields") is None or row.get("packed") is not None:
            raise ValueError("an entry of a hot or warm lorebook has fields, and no packed form.")
        fields = row["fields"]
    if not isinstance(fields, dict):
        raise ValueError("an entry's fields are a JSON object.")
    fields = checked_entry(fields, "fields")
    if str(fields["uid"]) != row.get("uid"):
        raise ValueError(f"its uid {row.get('uid')!r} is not its fields' uid {fields['uid']!r}.")
    if not cold:
        row["fields"] = fields
    row.update(
        kind=kind_of(fields),
        comment=fields.get("comment") or "",
        match_keys=match_keys(fields.get("key") or []),
        enabled=not fields.get("disable"),
        constant=bool(fields.get("constant")),
    )

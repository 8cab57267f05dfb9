"""The macros cards and lorebooks are written with (CARD_SPECS §2 and §4.5), expanded for a
prompt: `{{char}}`/`<BOT>` to the character, `{{user}}`/`<USER>` to the player's character,
and the V3 comment forms removed. Case-insensitive, as the specs ask."""

from __future__ import annotations

import re

CHAR = re.compile(r"\{\{char\}\}|<bot>|<char>", re.IGNORECASE)
USER = re.compile(r"\{\{user\}\}|<user>", re.IGNORECASE)
HIDDEN = re.compile(r"\{\{(?://|comment:|hidden_key:)[^}]*\}\}", re.IGNORECASE)


def expand(text: str, char: str, user: str) -> str:
    return USER.sub(user, CHAR.sub(char, HIDDEN.sub("", text)))

"""Dollar amounts as the API writes them: plain decimal strings without exponent or trailing
zeros ("0.0004", "0", "12.5"), never a column's raw scale ("0E-8", "0.00040000")."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer


def plain(amount: Decimal) -> str:
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "0") else text


Usd = Annotated[Decimal, PlainSerializer(plain, return_type=str, when_used="json")]

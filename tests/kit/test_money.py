"""Dollar amounts in the API: plain decimals, never a column's scale or an exponent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel

from luna_narrates.kit.money import Usd, plain


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("0E-8", "0"),  # PostgreSQL's NUMERIC(14, 8) zero
        ("-0E-8", "0"),
        ("0.00040000", "0.0004"),
        ("12.50000000", "12.5"),
        ("1.5E+3", "1500"),
        ("0.00000001", "0.00000001"),
    ],
)
def test_amounts_are_plain_decimals(stored: str, shown: str) -> None:
    assert plain(Decimal(stored)) == shown


def test_models_write_them_so_and_keep_the_decimal_in_python() -> None:
    class Spend(BaseModel):
        cost_usd: Usd

    spend = Spend(cost_usd=Decimal("0E-8"))
    assert spend.cost_usd == Decimal(0)
    assert spend.model_dump_json() == '{"cost_usd":"0"}'
    assert (
        Spend.model_json_schema(mode="serialization")["properties"]["cost_usd"]["type"] == "string"
    )

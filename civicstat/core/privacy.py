"""What may be public: the column allow-list, coordinate coarsening, sensitive tiers, small counts."""

from __future__ import annotations

from civicstat.core.city import City
from civicstat.core.schema import PUBLIC_COLUMN_NAMES

# 3 decimal places of a degree: 111 m of latitude, about 85 m of longitude at 40° N.
COORDINATE_DECIMALS = 3


def public_select_list(table_alias: str = "r", tier_column: str = "t.privacy_tier") -> str:
    """SELECT list for public rows: allow-listed columns only, coordinates coarsened or removed."""
    items = []
    for name in PUBLIC_COLUMN_NAMES:
        if name in ("lat", "lon"):
            items.append(
                f"case when {tier_column} = 'no_location' then null "
                f"else round({table_alias}.{name}, {COORDINATE_DECIMALS}) end as {name}"
            )
        else:
            items.append(f"{table_alias}.{name}")
    return ",\n    ".join(items)


def privacy_tier(city: City, request_type: str | None) -> str | None:
    """'no_location', 'aggregate_only' or None for a request type."""
    return city.sensitive.get(request_type or "")


def suppress_small(count: int | None, k: int) -> str:
    """A count as shown publicly: 'fewer than k' below the threshold."""
    if count is None:
        return ""
    return f"fewer than {k}" if 0 < count < k else f"{count:,}"

"""Briefs that come to people: the subscriptions of city.toml, read and checked here.

```toml
[[subscriptions]]
district = "District 4"            # the district brief (public figures), or
# department = "Streets"           # the department's meeting packet (internal figures)
emails = ["council.d4@city.example"]
frequency = "weekly"               # weekly: the last 7 days; monthly: the last 30 days
```

`civicstat send-briefs DIR --frequency weekly` (run by cron once a week) sends the weekly ones, and
`--frequency monthly` the monthly ones; without --frequency every subscription is sent.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from civicstat.core.city import CityConfigError
from civicstat.core.filters import Period

FREQUENCIES = {"weekly": 7, "monthly": 30}  # the days each one's figures cover
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


@dataclass(frozen=True)
class Subscription:
    kind: str  # "district" or "department"
    name: str
    emails: tuple[str, ...]
    frequency: str

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name} ({self.frequency})"

    def period(self, as_of: dt.datetime) -> Period:
        """The whole days the figures cover, ending with the as-of day."""
        days = FREQUENCIES[self.frequency]
        end = dt.datetime.combine(as_of.date() + dt.timedelta(days=1), dt.time())
        return Period(end - dt.timedelta(days=days), end, f"Last {days} days")


def load_subscriptions(city_root: Path | str) -> list[Subscription]:
    """The [[subscriptions]] of ROOT/city.toml (none when it has none); CityConfigError, saying
    which one and why, for one that cannot be used."""
    path = Path(city_root) / "city.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CityConfigError(f"{path}: {exc}") from exc
    found = []
    for number, entry in enumerate(raw.get("subscriptions", []), start=1):
        where = f"{path}: subscription {number}"
        kinds = [k for k in ("district", "department") if entry.get(k)]
        if len(kinds) != 1:
            raise CityConfigError(f"{where}: give a district or a department (one of them)")
        emails = entry.get("emails", [])
        if isinstance(emails, str):
            emails = [emails]
        bad = [e for e in emails if not _ADDRESS.match(str(e))]
        if not emails or bad:
            raise CityConfigError(f"{where}: 'emails' must list e-mail addresses"
                                  + (f" ({bad[0]!r} is not one)" if bad else ""))
        frequency = entry.get("frequency", "weekly")
        if frequency not in FREQUENCIES:
            raise CityConfigError(f"{where}: frequency must be weekly or monthly")
        found.append(Subscription(kinds[0], str(entry[kinds[0]]), tuple(map(str, emails)), frequency))
    return found

"""kill -9 at random points of ingest and publish (issue 16, "Crashes"), a few times on a small
city: the benchmark (`make bench`, bench/crashes.py) runs it 20 times each at 300,000 requests."""

from __future__ import annotations

import pytest

from bench import crashes


@pytest.mark.crash
def test_random_kills_of_ingest_and_publish_leave_a_consistent_city(shared_data, tmp_path):
    boundaries = shared_data / "nyc" / "boundaries" / "city_council.geojson"
    results = crashes.run(rows=8_000, trials=2, seed=7, work=tmp_path, boundaries=boundaries,
                          progress=lambda line: None)
    for kind in ("ingest", "publish"):
        assert results[kind]["trials"] == 2
        assert results[kind]["failures"] == [], results[kind]

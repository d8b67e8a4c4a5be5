"""Boundary files: CRS checks and reprojection, and vectorised point-in-polygon."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pyproj import Transformer

from civicstat.core.geo import Areas, read_boundary
from civicstat.ingest.sources.base import InputError

from citykit import CENTRES, OUTSIDE, grid_geojson, make_city


def _projected_grid(tmp_path, crs: str, declare: bool):
    """The test grid reprojected to CRS, written with or without a `crs` member."""
    to = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    data = grid_geojson()
    for feature in data["features"]:
        ring = feature["geometry"]["coordinates"][0]
        feature["geometry"]["coordinates"][0] = [list(to.transform(x, y)) for x, y in ring]
    if declare:
        code = crs.split(":")[1]
        data["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{code}"}}
    path = tmp_path / f"grid_{crs.replace(':', '')}_{declare}.geojson"
    path.write_text(json.dumps(data))
    return path


def test_reads_lonlat_grid_and_names_areas_as_text(tmp_path):
    city = make_city(tmp_path)
    frame = read_boundary(city.layer("district").file, "district")
    assert list(frame["name"]) == ["1", "2", "3", "4"]  # integer properties become text
    assert frame.crs.to_epsg() == 4326


def test_float_keys_lose_their_decimal_point(tmp_path):
    data = grid_geojson()
    for feature in data["features"]:
        feature["properties"]["district"] = float(feature["properties"]["district"])
    path = tmp_path / "floats.geojson"
    path.write_text(json.dumps(data))
    assert list(read_boundary(path, "district")["name"]) == ["1", "2", "3", "4"]


def test_missing_key_names_the_properties(tmp_path):
    city = make_city(tmp_path)
    with pytest.raises(InputError, match="no property 'Ward'.*district, population"):
        read_boundary(city.layer("district").file, "Ward")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="boundary file not found"):
        read_boundary(tmp_path / "nope.geojson", "district")


def test_undeclared_projected_file_is_refused_with_crs_hint(tmp_path):
    path = _projected_grid(tmp_path, "EPSG:2263", declare=False)
    with pytest.raises(InputError) as error:
        read_boundary(path, "district")
    message = str(error.value)
    assert "declares no coordinate system" in message
    assert "not longitude/latitude" in message
    assert "--crs" in message


def test_undeclared_projected_file_with_given_crs_is_reprojected(tmp_path):
    path = _projected_grid(tmp_path, "EPSG:2263", declare=False)
    areas = Areas(district=_layer(read_boundary(path, "district", "EPSG:2263")))
    lat, lon = zip(*CENTRES.values(), strict=True)
    district, _ = areas.assign_areas(lat, lon)
    assert list(district) == list(CENTRES)


def test_declared_crs_is_reprojected(tmp_path):
    path = _projected_grid(tmp_path, "EPSG:3857", declare=True)
    frame = read_boundary(path, "district")
    minx, miny, maxx, maxy = frame.total_bounds
    assert minx == pytest.approx(-74.0) and maxy == pytest.approx(40.2)


def test_a_given_crs_that_cannot_be_right_is_caught(tmp_path):
    path = _projected_grid(tmp_path, "EPSG:2263", declare=False)
    with pytest.raises(InputError, match="check --crs"):
        read_boundary(path, "district", "EPSG:4326")


def _layer(frame):
    from civicstat.core.geo import AreaLayer

    return AreaLayer.from_frame(frame)


def test_assign_areas_is_vectorised_and_handles_missing_points(tmp_path):
    areas = Areas.from_city(make_city(tmp_path))
    lat = np.array([CENTRES["1"][0], CENTRES["4"][0], OUTSIDE[0], np.nan, 0.0, 95.0])
    lon = np.array([CENTRES["1"][1], CENTRES["4"][1], OUTSIDE[1], -73.9, 0.0, -73.9])
    district, neighborhood = areas.assign_areas(lat, lon)
    assert list(district) == ["1", "4", None, None, None, None]
    assert list(neighborhood) == ["West", "East", None, None, None, None]
    located = areas.locate(lat, lon)
    assert list(located.no_coordinates) == [False, False, False, True, False, False]
    assert list(located.placeholder) == [False, False, False, False, True, True]
    assert list(located.outside_city) == [False, False, True, False, False, False]


def test_many_points_match_a_per_point_check(tmp_path):
    import shapely

    areas = Areas.from_city(make_city(tmp_path))
    rng = np.random.default_rng(1)
    lat = rng.uniform(39.95, 40.25, 20_000)
    lon = rng.uniform(-74.05, -73.75, 20_000)
    district, _ = areas.assign_areas(lat, lon)
    polygons = dict(zip(areas.district.names, areas.district.polygons, strict=True))
    for i in range(0, 20_000, 397):
        inside = [name for name, poly in polygons.items()
                  if shapely.contains_xy(poly, lon[i], lat[i])]
        assert district[i] == (inside[0] if inside else None)


def test_configured_placeholder_point():
    areas = Areas(placeholder_points=[(42.3594, -71.0587)])
    mask = areas.placeholder_mask(np.array([42.3594, 42.36]), np.array([-71.0587, -71.06]))
    assert list(mask) == [True, False]


def test_no_layers_means_nothing_is_outside():
    located = Areas().locate([40.0], [-73.9])
    assert not located.outside_city.any()
    assert located.district[0] is None


@pytest.mark.shared
def test_real_state_plane_files_need_a_crs(shared_data):
    boundaries = shared_data / "boston" / "boundaries"
    for name, key in (("boston_precincts_2020.geojson", "WARD_PRECINCT"),
                      ("boston_neighborhoods_analyzeboston.geojson", "Name")):
        with pytest.raises(InputError, match="--crs"):
            read_boundary(boundaries / name, key)
        frame = read_boundary(boundaries / name, key, "EPSG:2249")
        minx, miny, maxx, maxy = frame.total_bounds
        assert -71.3 < minx < maxx < -70.8 and 42.2 < miny < maxy < 42.45
    areas = Areas(district=_layer(read_boundary(
        boundaries / "boston_wards_2020.geojson", "WARD")))
    district, _ = areas.assign_areas([42.3601], [-71.0589])  # City Hall Plaza: ward 3
    assert district[0] == "3"


@pytest.mark.shared
def test_real_web_mercator_file_is_reprojected(shared_data):
    path = shared_data / "la" / "boundaries" / "la_neighborhood_councils_2020_epsg3857.geojson"
    frame = read_boundary(path, "Name")
    minx, miny, maxx, maxy = frame.total_bounds
    assert -118.8 < minx < maxx < -117.5 and 33.6 < miny < maxy < 35


def test_keep_returns_other_properties(tmp_path):
    city = make_city(tmp_path)
    frame = read_boundary(city.layer("district").file, "district", keep=["population"])
    assert list(frame["population"]) == [1000, 2000, 3000, 4000]
    with pytest.raises(InputError, match="no property 'pop'"):
        read_boundary(city.layer("district").file, "district", keep=["pop"])


def test_a_point_on_a_shared_edge_gets_the_first_district(tmp_path):
    areas = Areas.from_city(make_city(tmp_path))
    district, _ = areas.assign_areas([40.05, 40.1], [-73.9, -73.9])  # edge 1|2, corner 1|2|3|4
    assert list(district) == ["1", "1"]

"""Point → places on both databases with the shared geodata: areas, nearest address and asset, organisation."""

import csv
import json
import math
from pathlib import Path

import pytest
from shapely.geometry import shape

from meldingen.geo.lookup import InvalidPoint, areas_at, lookup_point

GEODATA = Path(__file__).resolve().parent.parent / "sample_data" / "geodata"


def read_addresses() -> list[dict]:
    with open(GEODATA / "adressen_amsterdam_bag_sample.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def features(name: str) -> list[dict]:
    return json.loads((GEODATA / name).read_text(encoding="utf-8"))["features"]


def door(row: dict) -> str:
    number = row["huisnummer"] + row["huisletter"]
    return f"{number}-{row['huisnummertoevoeging']}" if row["huisnummertoevoeging"] else number


def test_all_amsterdam_bag_points_resolve_to_themselves_at_distance_zero_in_amsterdam(app):
    rows = read_addresses()
    assert len(rows) == 1904
    doors_at = {}
    for row in rows:
        doors_at.setdefault((row["lat"], row["lon"]), set()).add((row["straatnaam"], door(row)))
    for row in rows:
        place = lookup_point(row["lat"], row["lon"])
        assert place.address["distance_m"] == 0.0, row
        # Several doors share one point (40A, 40B, 40C): any of them is the point itself.
        assert (place.address["street"], place.address["number"]) in doors_at[(row["lat"], row["lon"])]
        assert place.areas["municipality"] == "GM0363"
        assert place.organisation == "GM0363"


def test_all_342_municipalities_are_known_by_a_point_inside_them(app):
    municipalities = features("gemeenten_2024.geojson")
    assert len(municipalities) == 342
    for feature in municipalities:
        point = shape(feature["geometry"]).representative_point()
        codes, names = areas_at(point.y, point.x)
        assert codes["municipality"] == feature["properties"]["gemeentecode"]
        assert names["municipality"] == feature["properties"]["gemeentenaam"]


def test_emmen_points_get_their_neighbourhood_district_and_municipality(app):
    for feature in features("buurten_2024_emmen.geojson"):
        props = feature["properties"]
        point = shape(feature["geometry"]).representative_point()
        place = lookup_point(point.y, point.x)
        assert place.areas == {"municipality": "GM0114", "district": props["wijkcode"],
                               "neighbourhood": props["buurtcode"]}, props["buurtnaam"]  # fmt: skip
        assert place.organisation == "GM0114"


def test_point_in_rotterdam_is_told_rotterdam_and_not_served(app):
    place = lookup_point(51.9225, 4.47917)  # Coolsingel
    assert place.areas["municipality"] == "GM0599"
    assert place.municipality_name == "Rotterdam"
    assert place.in_netherlands and place.organisation is None


def test_point_outside_the_netherlands_has_no_areas(app):
    for lat, lon in [(50.8467, 4.3525), (51.2277, 6.7735), (40.7128, -74.0060)]:  # Brussels, Düsseldorf, NYC
        place = lookup_point(lat, lon)
        assert not place.in_netherlands
        assert place.organisation is None and place.address is None


@pytest.mark.parametrize(
    ("lat", "lon"),
    [("abc", "4.9"), (None, 4.9), ("52.3", ""), (0, 0), ("0.0", "0"), (91, 4.9), (52.3, 181), ("nan", "4.9"),
     ("inf", "4.9"), (True, 4.9)],
)  # fmt: skip
def test_points_that_are_not_points_are_refused(app, lat, lon):
    with pytest.raises(InvalidPoint):
        lookup_point(lat, lon)


def test_no_address_further_than_the_configured_distance(app):
    # On the water of the IJ, about 91 m from the nearest address (Stenen Hoofd).
    place = lookup_point(52.3888, 4.8935)
    assert place.address is None
    place = lookup_point(52.3888, 4.8935, address_max_m=150)
    assert place.address is not None and 85 < place.address["distance_m"] < 100


def test_address_distance_is_in_metres(app):
    place = lookup_point(52.3877221 + 0.0001, 4.8925727)  # 0.0001° north ≈ 11.1 m
    assert place.address is not None
    assert math.isclose(place.address["distance_m"], 11.1, abs_tol=1.0)


def test_nearest_asset_of_the_asked_type_within_its_distance(app, runner, tmp_path):
    register = tmp_path / "lights.csv"
    register.write_text("id,lat,lon,model\nL-1,52.3877221,4.8925727,led\nL-2,52.3880,4.8930,led\n")
    bins = tmp_path / "bins.csv"
    bins.write_text("nummer,lat,lon\nB-9,52.38773,4.89258\n")
    assert runner.invoke(args=["import", "assets", str(register), "--type", "streetlight", "--id-column", "id", "--force"]).exit_code == 0
    assert runner.invoke(args=["import", "assets", str(bins), "--type", "litter_bin", "--id-column", "nummer"]).exit_code == 0

    anything = lookup_point(52.3877221, 4.8925727)
    assert anything.asset == {"type": "streetlight", "id": "L-1", "distance_m": 0.0}
    bin_only = lookup_point(52.3877221, 4.8925727, asset_types=["litter_bin"])
    assert bin_only.asset["id"] == "B-9" and 0 < bin_only.asset["distance_m"] < 2
    assert lookup_point(52.3877221, 4.8925727, asset_types=["tree"]).asset is None
    assert lookup_point(52.3900, 4.8925727).asset is None  # 250 m away: beyond ASSET_MAX_DISTANCE_M


def test_spatial_index_sql_path_agrees_with_the_in_memory_index(app):
    from flask import current_app

    from meldingen.geo.lookup import areas_at

    points = [(row["lat"], row["lon"]) for row in read_addresses()[::50]]
    points += [(shape(f["geometry"]).representative_point().y, shape(f["geometry"]).representative_point().x)
               for f in features("buurten_2024_emmen.geojson")[::5] + features("wijken_2024_selectie.geojson")[::9]]
    for lat, lon in points:
        current_app.config["GEO_AREA_CACHE"] = False
        by_sql = areas_at(float(lat), float(lon))
        current_app.config["GEO_AREA_CACHE"] = True
        assert areas_at(float(lat), float(lon)) == by_sql


def test_a_newly_imported_area_is_found_at_once(app, tmp_path):
    from meldingen.geo.imports import import_areas

    assert lookup_point(52.3877221, 4.8925727).areas["neighbourhood"] is None
    square = {"type": "Polygon", "coordinates": [[[4.890, 52.386], [4.895, 52.386], [4.895, 52.389],
                                                   [4.890, 52.389], [4.890, 52.386]]]}  # fmt: skip
    path = tmp_path / "buurt.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": square,
         "properties": {"buurtcode": "BU0363AF03", "buurtnaam": "Houthavens Oost", "wijkcode": "WK0363AA"}}]}))  # fmt: skip
    import_areas(path, "neighbourhood", "buurtcode", "buurtnaam", "wijkcode")
    assert lookup_point(52.3877221, 4.8925727).areas["neighbourhood"] == "BU0363AF03"

"""Imports of areas, addresses and assets: the shared geodata loads; malformed files and rows are reported."""

import json

import pytest
from sqlalchemy import func, select

from meldingen.extensions import db
from meldingen.geo.imports import ImportFileError, import_addresses, import_areas, import_assets
from meldingen.geo.models import Address, Area, Asset
from meldingen.seed import SAMPLE_DIR

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

GEO = SAMPLE_DIR / "geodata"


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_sample_data_holds_all_shared_geodata(app):
    assert count(Area, Area.level == "municipality") == 342
    assert count(Area, Area.level == "district") == 271
    assert count(Area, Area.level == "neighbourhood") == 83
    assert count(Address) == 1904
    emmen_buurt = db.session.scalar(select(Area).where(Area.code == "BU01140100"))
    assert (emmen_buurt.parent_code, emmen_buurt.municipality_code) == ("WK011401", "GM0114")


def test_reimporting_the_same_file_updates_and_creates_nothing(app):
    result = import_areas(GEO / "wijken_2024_selectie.geojson", "district", "wijkcode", "wijknaam", "gemeentecode")
    assert (result.created, result.updated, result.skipped) == (0, 271, [])
    assert count(Area, Area.level == "district") == 271


def test_taandwarsstraat_without_postcode_is_kept(app):
    address = db.session.scalar(select(Address).where(Address.street == "Taandwarsstraat", Address.number == 99))
    assert address is not None and address.postcode is None


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def square(lon, lat, size=0.01):
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size],
                                                [lon, lat + size], [lon, lat]]]}


def test_bad_area_features_are_reported_and_skipped(app, tmp_path):
    features = [
        {"type": "Feature", "properties": {"code": "WK9999A", "naam": "Goed"}, "geometry": square(5.0, 52.0)},
        {"type": "Feature", "properties": {"code": "WK9999B"}, "geometry": square(5.1, 52.0)},  # no name
        {"type": "Feature", "properties": {"code": "WK9999C", "naam": "Punt"},
         "geometry": {"type": "Point", "coordinates": [5, 52]}},
        {"type": "Feature", "properties": {"code": "WK9999D", "naam": "Kapot"}, "geometry": {"type": "Polygon"}},
        {"type": "Feature", "properties": None, "geometry": None},
        {"type": "Feature", "properties": {"code": "WK9999E", "naam": "Vlinder"},  # self-intersecting: repaired
         "geometry": {"type": "Polygon", "coordinates": [[[5, 52], [5.01, 52.01], [5.01, 52], [5, 52.01], [5, 52]]]}},
    ]
    path = write(tmp_path, "areas.geojson", {"type": "FeatureCollection", "features": features})
    result = import_areas(path, "district", "code", "naam")
    assert result.created == 2
    assert len(result.skipped) == 4
    assert all(line.startswith("feature ") for line in result.skipped)
    assert count(Area, Area.code.in_(["WK9999A", "WK9999E"])) == 2


@pytest.mark.parametrize("content", ["not json at all", {"type": "Feature"}, [], {"type": "FeatureCollection"}])
def test_files_that_are_not_geojson_collections_are_refused_whole(app, tmp_path, content):
    path = write(tmp_path, "bad.geojson", content)
    with pytest.raises(ImportFileError):
        import_areas(path, "district", "code", "naam")


def test_unknown_level_is_refused(app, tmp_path):
    with pytest.raises(ImportFileError, match="level"):
        import_areas(write(tmp_path, "a.geojson", {"type": "FeatureCollection", "features": []}), "province",
                     "code", "naam")


def test_address_csv_with_bad_rows_loads_the_good_ones(app, tmp_path):
    header = ("nummeraanduiding_id,straatnaam,huisnummer,huisletter,huisnummertoevoeging,postcode,woonplaats,"
              "gemeentecode,gemeentenaam,objecttype,status,rd_x,rd_y,lat,lon\n")
    rows = [
        "0363200099999001,Teststraat,1,,,1013AB,Amsterdam,GM0363,Amsterdam,,,,,52.39,4.89\n",
        "0363200099999002,Teststraat,een,,,1013AB,Amsterdam,GM0363,Amsterdam,,,,,52.39,4.89\n",
        "0363200099999003,Teststraat,3,,,1013AB,Amsterdam,GM0363,Amsterdam,,,,,abc,4.89\n",
        "0363200099999004,,4,,,1013AB,Amsterdam,GM0363,Amsterdam,,,,,52.39,4.89\n",
        "0363200099999005,Teststraat,5,,,1013AB,Amsterdam,GM0363,Amsterdam,,,,,0,0\n",
    ]
    result = import_addresses(write(tmp_path, "a.csv", header + "".join(rows)))
    assert result.created == 1
    assert [line.split(":")[0] for line in result.skipped] == ["row 3", "row 4", "row 5", "row 6"]


def test_address_csv_without_the_needed_columns_is_refused(app, tmp_path):
    with pytest.raises(ImportFileError, match="missing columns"):
        import_addresses(write(tmp_path, "a.csv", "id,street\n1,x\n"))


def test_assets_from_any_csv(app, tmp_path):
    content = "mastnummer;x\n"  # wrong delimiter: id column not found
    with pytest.raises(ImportFileError):
        import_assets(write(tmp_path, "bad.csv", content), "street_light", "mastnummer")
    csv_text = "mast,breedte,lengte,type_armatuur\nL-1,52.3877,4.8925,LED\nL-2,52.3879,4.8930,LED\nL-3,,4.9,LED\n"
    result = import_assets(write(tmp_path, "lights.csv", csv_text), "street_light", "mast", "breedte", "lengte")
    assert result.created == 2 and len(result.skipped) == 1
    light = db.session.scalar(select(Asset).where(Asset.external_id == "L-1"))
    assert light.type == "street_light" and light.attributes == {"type_armatuur": "LED"}


def test_non_utf8_file_is_refused_not_crashing(app, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,lat,lon\nStra\xdfe,52,5\n".encode("utf-16"))
    with pytest.raises(ImportFileError):
        import_assets(path, "tree", "id")

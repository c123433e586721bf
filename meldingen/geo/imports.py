"""Importing areas (GeoJSON), BAG addresses (CSV) and assets (CSV); bad rows are reported and skipped.

An import flushes its rows and returns what it did; the command or page that ran it commits."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from geoalchemy2.shape import from_shape
from sqlalchemy import select

from meldingen.db import RD_SRID
from meldingen.extensions import db
from meldingen.geo.crs import rd_point_ewkt, transform_geometry_to_rd
from meldingen.geo.fractions import normalise_fraction
from meldingen.geo.lookup import invalidate_area_cache
from meldingen.geo.models import AREA_LEVELS, Address, Area, Asset
from meldingen.geo.search import invalidate_address_index


class ImportFileError(ValueError):
    """A file that cannot be read at all (not rows within it)."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped: list[str] = field(default_factory=list)  # "row 12: reason"

    @property
    def loaded(self) -> int:
        return self.created + self.updated


    def row_for(self, existing: dict, key: str, make: Callable[[], object]):
        """The stored row under `key`, or a new one added to the session; counts which it was."""
        row = existing.get(key)
        if row is None:
            row = existing[key] = make()
            db.session.add(row)
            self.created += 1
        else:
            self.updated += 1
        return row


Progress = Callable[[Iterable], Iterable]


def _no_progress(items):
    return items


def read_geojson_features(path: Path) -> list:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFileError(f"{path}: not a readable GeoJSON file ({exc})") from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(
        data.get("features"), list
    ):
        raise ImportFileError(f"{path}: not a GeoJSON FeatureCollection")
    return data["features"]


def import_areas(path: Path, level: str, code_property: str, name_property: str,
                 parent_property: str | None = None, municipality_property: str | None = None,
                 progress: Progress = _no_progress) -> ImportResult:
    """Load or update area polygons (WGS84 GeoJSON) at one level; polygons are stored in RD New."""
    from shapely.geometry import MultiPolygon, shape
    from shapely.validation import make_valid

    if level not in AREA_LEVELS:
        raise ImportFileError(f"level must be one of {', '.join(AREA_LEVELS)}")
    features = read_geojson_features(path)
    result = ImportResult()
    existing = {a.code: a for a in db.session.scalars(select(Area).where(Area.level == level))}
    parents = dict(db.session.execute(select(Area.code, Area.municipality_code)).all())
    for number, feature in enumerate(progress(features), start=1):
        try:
            props = feature.get("properties") or {}
            code = str(props.get(code_property) or "").strip()
            name = str(props.get(name_property) or "").strip()
            if not code or not name:
                raise ValueError(f"missing '{code_property}' or '{name_property}'")
            geometry = shape(feature["geometry"])
            if geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
                raise ValueError(f"geometry must be a polygon, not {geometry.geom_type}")
            if not geometry.is_valid:
                geometry = make_valid(geometry)
                polygons = [g for g in getattr(geometry, "geoms", [geometry]) if g.geom_type == "Polygon"]
                geometry = MultiPolygon(polygons)
            rd = transform_geometry_to_rd(geometry)
            if rd.geom_type == "Polygon":
                rd = MultiPolygon([rd])
            parent = str(props.get(parent_property) or "").strip() or None if parent_property else None
            if level == "municipality":
                municipality = code
            elif municipality_property and props.get(municipality_property):
                municipality = str(props[municipality_property])
            elif level == "district":
                municipality = parent
            else:
                municipality = parents.get(parent)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            result.skipped.append(f"feature {number}: {exc}")
            continue
        area = result.row_for(existing, code, lambda code=code: Area(level=level, code=code))
        area.name = name
        area.parent_code = parent
        area.municipality_code = municipality
        area.geom = from_shape(rd, srid=RD_SRID)
    db.session.flush()
    forget_cached_places()
    return result


def forget_cached_places() -> None:
    """Areas or addresses changed: this process's in-memory indexes of them (geo/lookup.py's area index, the
    typed-address search's local index) are built again at their next use. Other processes notice within
    their caches' check interval."""
    invalidate_area_cache()
    invalidate_address_index()


ADDRESS_COLUMNS = ("nummeraanduiding_id", "straatnaam", "huisnummer", "postcode", "woonplaats", "lat", "lon")


CSV_DELIMITERS = ",;\t|"


def _read_csv(path: Path, delimiter: str | None = None, encoding: str | None = None) -> tuple[list[str], list[dict]]:
    """The header and rows of a CSV file, read whole (so the file is closed whatever happens next).

    Without `encoding`, UTF-8 (with or without BOM) is tried first and Windows-1252 second: Dutch Excel saves
    "CSV" as cp1252 with ";" between fields. Without `delimiter`, the first lines decide (csv.Sniffer).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: not a readable CSV file ({exc})") from None
    text = _decode(data, path, encoding)
    if delimiter is None:
        delimiter = sniff_delimiter(text)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        return [name.strip() for name in reader.fieldnames or []], [
            {(k or "").strip(): v for k, v in row.items()} for row in reader]
    except csv.Error as exc:
        raise ImportFileError(f"{path}: not a readable CSV file ({exc})") from None


def _decode(data: bytes, path: Path, encoding: str | None) -> str:
    for candidate in ([encoding] if encoding else ["utf-8-sig", "cp1252"]):
        try:
            return data.decode(candidate)
        except LookupError:
            raise ImportFileError(f"unknown encoding '{candidate}'") from None
        except UnicodeDecodeError as exc:
            if encoding:
                raise ImportFileError(f"{path}: not {encoding} ({exc})") from None
    raise ImportFileError(f"{path}: neither UTF-8 nor Windows-1252 text")  # cp1252 leaves five bytes undefined


def sniff_delimiter(text: str) -> str:
    """The field separator of a CSV text: one of , ; tab | as the first lines show; "," when they do not tell."""
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        return ","


def decimal_number(value) -> str | None:
    """A number as Dutch Excel writes it ("52,3731") in the form Python reads ("52.3731")."""
    if value is None:
        return None
    text = str(value).strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    return text


def _coordinates(row: dict, lat_column: str, lon_column: str) -> tuple[float, float]:
    from meldingen.geo.lookup import validate_point

    return validate_point(decimal_number(row.get(lat_column)), decimal_number(row.get(lon_column)))


def import_addresses(path: Path, progress: Progress = _no_progress) -> ImportResult:
    """Load BAG addresses from a CSV with the columns of the shared sample (nummeraanduiding_id, …, lat, lon)."""
    from meldingen.geo.addressparse import normalise_postcode, street_key

    header, rows = _read_csv(path)
    missing = [c for c in ADDRESS_COLUMNS if c not in header]
    if missing:
        raise ImportFileError(f"{path}: missing columns {', '.join(missing)}")
    result = ImportResult()
    existing = {a.bag_id: a for a in db.session.scalars(select(Address))}
    for number, row in enumerate(progress(rows), start=2):
        try:
            bag_id = (row.get("nummeraanduiding_id") or "").strip()
            street = (row.get("straatnaam") or "").strip()
            if not bag_id or not street:
                raise ValueError("missing nummeraanduiding_id or straatnaam")
            house = int((row.get("huisnummer") or "").strip())
            lat, lon = _coordinates(row, "lat", "lon")
        except (TypeError, ValueError) as exc:
            result.skipped.append(f"row {number}: {exc}")
            continue
        address = result.row_for(existing, bag_id, lambda bag_id=bag_id: Address(bag_id=bag_id))
        address.street = street
        address.street_key = street_key(street)
        address.number = house
        address.letter = (row.get("huisletter") or "").strip() or None
        address.suffix = (row.get("huisnummertoevoeging") or "").strip() or None
        address.postcode = normalise_postcode(row.get("postcode"))
        address.city = (row.get("woonplaats") or "").strip()
        address.municipality_code = (row.get("gemeentecode") or "").strip() or None
        address.lat, address.lon = lat, lon
        address.geom = rd_point_ewkt(lon, lat)
    db.session.flush()
    forget_cached_places()
    return result


def import_assets(path: Path, asset_type: str, id_column: str, lat_column: str = "lat", lon_column: str = "lon",
                  organisation_code: str | None = None, progress: Progress = _no_progress, *,
                  delimiter: str | None = None, encoding: str | None = None,
                  fraction_column: str | None = None) -> ImportResult:
    """Load an asset register (street lights, containers, trees …) from any CSV with an id and lat/lon; a
    container's fraction (glass, paper, …; Dutch names accepted) from `fraction_column` when given."""
    header, rows = _read_csv(path, delimiter, encoding)
    wanted = (id_column, lat_column, lon_column) + ((fraction_column,) if fraction_column else ())
    missing = [c for c in wanted if c not in header]
    if missing:
        raise ImportFileError(f"{path}: missing columns {', '.join(missing)}")
    result = ImportResult()
    existing = {a.external_id: a for a in db.session.scalars(select(Asset).where(Asset.type == asset_type))}
    for number, row in enumerate(progress(rows), start=2):
        try:
            external_id = (row.get(id_column) or "").strip()
            if not external_id:
                raise ValueError(f"missing {id_column}")
            lat, lon = _coordinates(row, lat_column, lon_column)
            fraction = normalise_fraction(row.get(fraction_column)) if fraction_column else None
        except (TypeError, ValueError) as exc:
            result.skipped.append(f"row {number}: {exc}")
            continue
        asset = result.row_for(existing, external_id, lambda external_id=external_id: Asset(type=asset_type, external_id=external_id))
        asset.organisation_code = organisation_code
        asset.fraction = fraction
        asset.attributes = {k: v for k, v in row.items() if k not in wanted and k}
        asset.lat, asset.lon = lat, lon
        asset.geom = rd_point_ewkt(lon, lat)
    db.session.flush()
    return result

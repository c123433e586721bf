"""A photo's GPS outside the service area is named as a place ("in Seattle, VS"), never as raw coordinates."""

from __future__ import annotations

import re

import pytest
from fake_chat_platform import RESIDENTS, USERS, install_send_routes, platform_config
from fake_platforms import jpeg_bytes
from PIL import Image
from sqlalchemy import select

from meldingen.extensions import db
from meldingen.geo import places
from meldingen.media.models import Photo
from meldingen.reports.models import Report

SEATTLE = (47.6205, -122.3493)  # the Space Needle
ANTWERP_SUBURB = (51.26, 4.50)
TACOMA = (47.25, -122.44)  # 41 km from Seattle, the nearest city in the table
MID_ATLANTIC = (40.0, -35.0)
ROTTERDAM = (51.9225, 4.47917)  # a municipality the sample service point does not serve
AMSTERDAM_ADDRESS = (52.3877221, 4.8925727)  # Westerdoksdijk 40A
COORDINATES = re.compile(r"-?\d{1,3}\.\d{3,}")


@pytest.mark.parametrize("point, nl, en", [
    (SEATTLE, "in Seattle, VS", "in Seattle, USA"),
    (ANTWERP_SUBURB, "in Antwerpen, België", "in Antwerp, Belgium"),
    (TACOMA, "bij Seattle, VS", "near Seattle, USA"),
    (MID_ATLANTIC, "ver buiten Nederland", "far outside the Netherlands"),
])
def test_points_abroad_are_named_by_the_nearest_known_city_in_the_residents_language(point, nl, en):
    assert places.name_abroad(*point, "nl").text == nl
    assert places.name_abroad(*point, "en").text == en


def test_every_city_has_a_known_country_with_dutch_and_english_names():
    countries = places._countries()
    for city in places._cities():
        assert city.country in countries, city
        assert -90 <= city.lat <= 90 and -180 <= city.lon <= 180
    assert countries["US"] == {"nl": "VS", "en": "USA"}


def test_a_point_in_the_netherlands_outside_the_service_area_is_named_by_its_municipality(app):
    named = places.name_place(*ROTTERDAM, "nl")
    assert (named.kind, named.text, named.served) == (places.MUNICIPALITY, "in de gemeente Rotterdam", False)
    assert places.name_place(*ROTTERDAM, "en").text == "in the municipality of Rotterdam"


def test_a_point_in_the_service_area_is_named_by_its_address_and_usable(app):
    named = places.name_place(*AMSTERDAM_ADDRESS, "nl")
    assert named.served and named.kind == places.ADDRESS and named.label.startswith("Westerdoksdijk 40")


def test_a_point_abroad_is_not_usable(app):
    named = places.name_place(*SEATTLE, "nl")
    assert not named.served and named.text == "in Seattle, VS"


def exif_gps(lat: float, lon: float) -> Image.Exif:
    def dms(value: float):
        value = abs(value)
        degrees, minutes = int(value), int((value % 1) * 60)
        return (float(degrees), float(minutes), round(((value * 60) % 1) * 60, 2))

    exif = Image.Exif()
    exif[0x8825] = {1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)}
    return exif


@pytest.fixture
def app_config(fake):
    install_send_routes(fake)
    return platform_config(fake)


def test_photo_taken_in_seattle_is_named_and_the_resident_is_asked_for_the_real_place(client, fake):
    resident = RESIDENTS["telegram"](client, fake, USERS["telegram"][0])  # a photo sent as a file keeps its GPS
    resident.send_photo(caption="Stoeptegel ligt los", data=jpeg_bytes(exif=exif_gps(*SEATTLE)))
    photo = db.session.scalar(select(Photo))
    if photo.gps_lat is None:
        pytest.skip("this platform's photo lost its GPS")
    reply = resident.replies()[-1]
    assert reply.startswith("Uw foto is gemaakt in Seattle, VS. Die plek valt buiten ons gebied.")
    assert not COORDINATES.search(reply)
    resident.send_location(*AMSTERDAM_ADDRESS)  # the real place: the report is made there
    (report,) = db.session.scalars(select(Report)).all()
    assert report.municipality_code == "GM0363"


def test_photo_taken_in_another_municipality_names_that_municipality(client, fake):
    resident = RESIDENTS["telegram"](client, fake, USERS["telegram"][0])
    resident.send_photo(caption="Graffiti op de muur", data=jpeg_bytes(exif=exif_gps(*ROTTERDAM)))
    if db.session.scalar(select(Photo)).gps_lat is None:
        pytest.skip("this platform's photo lost its GPS")
    reply = resident.replies()[-1]
    assert "Uw foto is gemaakt in de gemeente Rotterdam." in reply and not COORDINATES.search(reply)
    assert db.session.scalars(select(Report)).all() == []

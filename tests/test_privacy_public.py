"""What the public sees: the public description made by redaction (or written by staff), never the resident's
own words, and a point rounded to what the category needs. Staff keep seeing the resident's words."""

from __future__ import annotations

import pytest
from factories import AMSTERDAM, make_report
from fake_chat_platform import RESIDENTS, USERS, install_send_routes, platform_config
from sqlalchemy import select

from meldingen.categories.models import Category
from meldingen.extensions import db
from meldingen.pipeline import change_category
from meldingen.reports.models import Report
from meldingen.reports.services import find_sub_category
from tests.conftest import bearer

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test

OPEN311 = "/open311/v2"
PERSON_CATEGORY = "jongerenoverlast"  # under "overlast van en door personen of groepen"


@pytest.fixture
def fake(fake):
    install_send_routes(fake)
    return fake


@pytest.fixture
def app_config(fake):
    return platform_config(fake)


def feed(client) -> dict:
    response = client.get(f"{OPEN311}/requests.json")
    assert response.status_code == 200
    return {item["service_request_id"]: item for item in response.json}


def test_a_chat_report_with_a_phone_number_is_on_the_public_feed_without_it(client, fake):
    resident = RESIDENTS["whatsapp"](client, fake, USERS["whatsapp"][0])
    resident.send_location(*AMSTERDAM)
    resident.send_text("Losse stoeptegel voor de deur, bel me op 06-12345678. Groeten, Jan de Vries")
    report = db.session.scalar(select(Report))
    assert report is not None and report.channel == "whatsapp"

    shown = feed(client)[report.reference]
    assert "06-12345678" not in shown["description"] and "Jan de Vries" not in shown["description"]
    assert shown["description"] == "Losse stoeptegel voor de deur, bel me op [telefoonnummer]. Groeten, [naam]"
    xml = client.get(f"{OPEN311}/requests/{report.reference}.xml").get_data(as_text=True)
    assert "12345678" not in xml and "Vries" not in xml
    # Staff who may see the report still read the resident's own words.
    assert report.description == "Losse stoeptegel voor de deur, bel me op 06-12345678. Groeten, Jan de Vries"


def test_public_point_is_rounded_to_what_the_category_needs_and_a_person_loses_the_house_number(app, client):
    marked = set(db.session.scalars(select(Category.slug).where(Category.person_related.is_(True))))
    assert {"overlast-van-en-door-personen-of-groepen", "overlast-bedrijven-en-horeca", PERSON_CATEGORY} <= marked
    assert "onderhoud-stoep-straat-en-fietspad" not in marked
    tile = make_report("Losse tegel")
    youths = make_report("Jongeren hangen elke avond bij Westerdoksdijk 40A rond", category=PERSON_CATEGORY)
    shown = feed(client)
    assert (shown[tile.reference]["lat"], shown[tile.reference]["long"]) == (round(AMSTERDAM[0], 4),
                                                                            round(AMSTERDAM[1], 4))
    assert (shown[youths.reference]["lat"], shown[youths.reference]["long"]) == (round(AMSTERDAM[0], 3),
                                                                                round(AMSTERDAM[1], 3))
    assert shown[youths.reference]["description"] == "Jongeren hangen elke avond bij Westerdoksdijk [huisnummer] rond"
    assert shown[tile.reference]["address"].startswith("Westerdoksdijk 40")
    assert shown[youths.reference]["address"].startswith("Westerdoksdijk,")

    # A small radius search does not find the exact spot the feed hides; the public point it does.
    exact = f"lat={youths.lat}&long={youths.lon}&radius=5"
    public = f"lat={round(youths.lat, 3)}&long={round(youths.lon, 3)}&radius=5"
    assert youths.reference not in [r["service_request_id"]
                                    for r in client.get(f"{OPEN311}/requests.json?{exact}").json]
    assert youths.reference in [r["service_request_id"] for r in client.get(f"{OPEN311}/requests.json?{public}").json]

    # Administrators set the precision per category, as data.
    tile.category.public_coordinate_decimals = 2
    db.session.commit()
    assert (feed(client)[tile.reference]["lat"]) == round(AMSTERDAM[0], 2)

    # A category change to one about a person takes house numbers out of a text nobody wrote.
    noise = make_report("Elke nacht herrie bij Spuistraat 3")
    assert noise.public_description == "Elke nacht herrie bij Spuistraat 3"
    change_category(noise, find_sub_category(PERSON_CATEGORY), actor="test")
    db.session.commit()
    assert noise.public_description == "Elke nacht herrie bij Spuistraat [huisnummer]"


def test_api_gives_staff_both_texts_and_those_who_may_write_the_public_one(app, client, make_staff):
    report = make_report("Stoep kapot, mail piet@example.nl")
    _, agent = make_staff("agent")
    got = client.get(f"/api/v1/reports/{report.reference}", headers=bearer(agent)).json
    assert got["description"] == "Stoep kapot, mail piet@example.nl"
    assert got["public_description"] == "Stoep kapot, mail [e-mailadres]"

    url = f"/api/v1/reports/{report.reference}/public-description"
    written = client.post(url, json={"public_description": "Stoep kapot bij de school"}, headers=bearer(agent))
    assert written.status_code == 200 and written.json["public_description"] == "Stoep kapot bij de school"
    assert feed(client)[report.reference]["description"] == "Stoep kapot bij de school"
    # A category change keeps what a person wrote.
    change_category(report, find_sub_category(PERSON_CATEGORY), actor="test")
    db.session.commit()
    assert report.public_description == "Stoep kapot bij de school"

    assert client.post(url, json={"public_description": "x"}, headers=bearer(make_staff("crew")[1])).status_code == 403
    assert client.post(url, json={"public_description": "x"}, headers=bearer(make_staff("head")[1])).status_code == 200
    emmen = make_staff("admin", "GM0114")[1]
    assert client.post(url, json={"public_description": "x"}, headers=bearer(emmen)).status_code == 404
    assert client.post(url, json={"public_description": "x" * 4001}, headers=bearer(agent)).status_code == 422


def test_staff_page_shows_the_public_text_and_an_agent_changes_it_with_the_form(app, client, make_staff):
    report = make_report("Stoep kapot, bel 0612345678")
    agent, _ = make_staff("agent")
    client.post("/staff/login", data={"email": agent.email, "password": "correct horse battery"})
    page = client.get(f"/staff/reports/{report.reference}").get_data(as_text=True)
    assert "Openbare omschrijving" in page and "Stoep kapot, bel [telefoonnummer]" in page
    response = client.post(f"/staff/reports/{report.reference}/public-description",
                           data={"public_description": "  Stoep kapot  "})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Report, report.id).public_description == "Stoep kapot"
    assert db.session.get(Report, report.id).public_description_edited is True

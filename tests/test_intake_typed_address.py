"""The place the resident typed is the place stored (issue 21, part 1).

The corpus of tests/typed_address_corpus.py goes through each platform's webhook, the intake and the pipeline
(one app and database per backend, as tests/test_intake_corpus.py); the API and Open311 make reports from the
same typed addresses; and every address of the sample that shares its map point with another number is
resolved to itself by the one way in, `geo.typed.match_typed_address`.
"""

from __future__ import annotations

import collections
import csv
import itertools
from pathlib import Path

import pytest
from fake_chat_platform import RESIDENTS
from pdok_fakes import RAADHUISPLEIN_EMMEN, WESTERDOKSDIJK_40A, FakePdok, free_found
from test_intake_corpus import (  # the fixtures are used by name
    _close_apps,
    close_everything,
    corpus_app,
    corpus_fake,
    fill,
    play,
    resident_reports,
    user_for,
)
from typed_address_corpus import SCRIPTS

from meldingen.extensions import db
from meldingen.geo.typed import match_typed_address
from meldingen.intake.slots import number_only, place_without_number
from meldingen.pipeline import NewReport, Prepared, resolve_place

GEODATA = Path(__file__).resolve().parent.parent / "sample_data" / "geodata" / "adressen_amsterdam_bag_sample.csv"
KINDS = ("matched", "suffix_only", "number_later", "not_found")
_numbers = itertools.count(5001)


def read_addresses() -> list[dict]:
    with open(GEODATA, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def door(row: dict) -> str:
    """The house number as written on the door: 40A, 5-1."""
    number = row["huisnummer"] + row["huisletter"]
    return f"{number}-{row['huisnummertoevoeging']}" if row["huisnummertoevoeging"] else number


def shared_point_addresses() -> list[dict]:
    """Every address whose map point another house number (of any street) shares."""
    at_point = collections.defaultdict(list)
    for row in read_addresses():
        at_point[(row["lat"], row["lon"])].append(row)
    return [row for rows in at_point.values() if len({(r["straatnaam"], r["huisnummer"]) for r in rows}) > 1
            for row in rows]


# --- the corpus --------------------------------------------------------------------------------------------


def test_the_corpus_covers_every_kind_on_every_platform():
    counts = collections.Counter(script["kind"] for script in SCRIPTS)
    assert set(counts) == set(KINDS)
    assert all(counts[kind] >= 12 for kind in KINDS), counts
    assert len({s["name"] for s in SCRIPTS}) == len(SCRIPTS)
    for kind in KINDS:
        assert {s["platform"] for s in SCRIPTS if s["kind"] == kind} == {"whatsapp", "telegram", "twilio", "webchat"}


@pytest.mark.parametrize("script", SCRIPTS, ids=[s["name"] for s in SCRIPTS])
def test_typed_place_conversation_ends_right(script, corpus_app, corpus_fake):
    client = corpus_app.test_client()
    platform = script["platform"]
    resident = RESIDENTS[platform](client, corpus_fake, user_for(platform, next(_numbers)))
    try:
        play(resident, script["steps"])
        replies = resident.replies()
        reports = resident_reports(resident)
        story = f"replies: {replies!r}; reports: {[(r.reference, r.description) for r in reports]!r}"
        assert len(reports) == script["reports"], story
        last = reports[-1] if reports else None
        if "address" in script:
            assert f"{last.address_street} {last.address_number}" == script["address"], story
            assert last.address_distance_m == 0.0, story  # the typed door itself, at its own point
        if "description" in script:
            assert last.description == script["description"], story
        for words in script.get("last_reply", []):
            assert replies and fill(words, reports) in replies[-1], story
        for words in script.get("never", []):
            assert not any(words.lower() in reply.lower() for reply in replies), story
        for words in script.get("last_never", []):
            assert replies and words.lower() not in replies[-1].lower(), story
    finally:
        db.session.rollback()
        close_everything()


# --- one way in: typed address → the matched address -------------------------------------------------------


def test_every_address_sharing_its_point_is_stored_as_typed(app):
    """Typed as written, the report's place holds the typed door (not the first door at the point)."""
    rows = shared_point_addresses()
    assert len(rows) > 400
    prepared = Prepared()
    wrong = []
    for row in rows:
        typed = f"{row['straatnaam']} {door(row)}"
        place = resolve_place(NewReport(description="x", channel="staff", address_text=typed), prepared)
        stored = f"{place.address['street']} {place.address['number']}" if place and place.address else None
        if stored != typed:
            wrong.append((typed, stored))
    assert wrong == []


def test_a_typed_address_with_its_own_point_keeps_the_typed_door(app):
    """The chat intake hands the found point and the typed words: the typed door, at distance 0."""
    typed = match_typed_address("Silodam 5")
    place = resolve_place(NewReport(description="x", channel="whatsapp", lat=typed.found["lat"],
                                    lon=typed.found["lon"], address_text="Silodam 5"), Prepared())
    assert place.address["street"] == "Silodam" and place.address["number"] == "5"
    assert place.address["distance_m"] == 0.0


def test_a_point_far_from_the_typed_address_keeps_the_nearest_address(app):
    zoutkeetsplein = match_typed_address("Zoutkeetsplein 7").found
    place = resolve_place(NewReport(description="x", channel="staff", lat=zoutkeetsplein["lat"],
                                    lon=zoutkeetsplein["lon"], address_text="Westerdoksdijk 601"), Prepared())
    assert place.address["street"] == "Zoutkeetsplein"


@pytest.mark.parametrize(("typed", "stored"), [
    ("Zoutkeetsplein 5", "5-1"), ("zoutkeetsplein 1", "1-1"), ("Barentszplein 3", "3-2"),
    ("Westerdoksdijk 40", "40A"), ("Zandhoek 4", "4-2"), ("Realengracht 104", "104A"),
    ("Van Diemenstraat 420", "420-1"), ("1013 LD 5", "5-1"),
])
def test_a_number_only_with_suffixes_finds_its_plainest_door(app, typed, stored):
    found = match_typed_address(typed).found
    assert found is not None and found["address"]["number"] == stored


def test_a_letter_typed_finds_that_door(app):
    assert match_typed_address("Zoutkeetsplein 5 H").found["address"]["number"] == "5-H"
    assert match_typed_address("Houtmankade 5c").found["address"]["number"] == "5C"
    assert match_typed_address("Zoutkeetsplein 5 huis").found["address"]["number"] == "5-H"  # the closest door


@pytest.mark.parametrize("typed", ["Zoutkeetsplein nr. 5", "zoutkeetsplein no. 5", "Zoutkeetsplein huisnr. 5"])
def test_a_number_word_with_a_dot_between_street_and_number(app, typed):
    found = match_typed_address(typed).found
    assert found is not None and found["address"]["street"] == "Zoutkeetsplein"


def test_a_known_street_without_the_number_is_not_found_but_named(app):
    typed = match_typed_address("Westerdoksdyk 999")
    assert typed.found is None and typed.street == "Westerdoksdijk"
    assert typed.looked_for == "Westerdoksdijk 999"
    unknown = match_typed_address("Kerkstraat 12")
    assert unknown.found is None and unknown.street is None and not unknown.geocoder_unavailable


@pytest.fixture
def fake_pdok():
    return FakePdok("found")


@pytest.fixture
def app_config(fake_pdok):
    return {"GEOCODER_URL": "https://pdok.test/bzk/locatieserver/search/v3_1", "GEOCODER_TRANSPORT": fake_pdok.transport}


def test_pdok_answering_another_number_is_not_the_address_typed(app, fake_pdok):
    fake_pdok.body = free_found(WESTERDOKSDIJK_40A)
    typed = match_typed_address("Westerdoksdijk 41")  # the local table has no 41; PDOK guesses 40A
    assert typed.found is None and typed.street == "Westerdoksdijk"
    fake_pdok.body = free_found({**WESTERDOKSDIJK_40A, "huisnummer": 41, "huisletter": None, "huis_nlt": "41"})
    typed = match_typed_address("Westerdoksdijk 41, Amsterdam")  # another question: not PDOK's cached answer
    assert typed.found is not None and typed.found["address"]["number"] == "41"


def test_pdok_doors_of_the_typed_number_give_the_plainest_one(app, fake_pdok):
    def door(number, suffix=None, score=10.0):
        return {**RAADHUISPLEIN_EMMEN, "huisnummer": number, "huisnummertoevoeging": suffix, "score": score}

    fake_pdok.body = free_found(door(50, score=20.0), door(5, "H", 19.0), door(5, "2", 18.0), door(5, "1", 17.0))
    typed = match_typed_address("Raadhuisplein 5 Emmen")
    assert typed.found is not None and typed.found["address"]["number"] == "5-1"
    typed = match_typed_address("Raadhuisplein 5-H, Emmen")
    assert typed.found is not None and typed.found["address"]["number"] == "5-H"


def test_pdok_address_is_the_one_typed_by_street_or_by_postcode(app, fake_pdok):
    fake_pdok.body = free_found(RAADHUISPLEIN_EMMEN)  # Raadhuisplein 1, 7811AP Emmen
    assert match_typed_address("Raadhuisplein 1, 7811 AB Emmen").found is not None  # the postcode mistyped
    assert match_typed_address("Raadhuisplin 1 Emmen").found is not None  # the street mistyped
    assert match_typed_address("7811 AP 1").found is not None
    assert match_typed_address("7811 AB 1").found is None  # only a postcode, and another one
    assert match_typed_address("Stationsstraat 1 Emmen").found is None  # another street


# --- the API and Open311 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "stored"), [
    ("Silodam 5", "Silodam 5"), ("Jan Mensplein 20", "Jan Mensplein 20"), ("Realengracht 208", "Realengracht 208"),
    ("Zoutkeetsplein 5", "Zoutkeetsplein 5-1"),
])
def test_api_report_with_an_address_stores_the_typed_address(client, auth, make_staff, typed, stored):
    _, token = make_staff("agent", "DSP")
    response = client.post("/api/v1/reports", json={"description": "Losse stoeptegel", "address": typed},
                           headers=auth(token))
    assert response.status_code == 201, response.json
    address = response.json["address"]
    assert f"{address['street']} {address['number']}" == stored


def test_api_report_with_an_unknown_address_is_made_unplaced(client, auth, make_staff):
    _, token = make_staff("agent", "DSP")
    response = client.post("/api/v1/reports", json={"description": "Losse stoeptegel", "address": "Silodam 9999"},
                           headers=auth(token))
    assert response.status_code == 201
    assert response.json["address"] is None


@pytest.mark.parametrize(("fields", "stored"), [
    ({"lat": None, "long": None, "address_string": "Silodam 7"}, "Silodam 7"),
    ({"lat": "52.3902604", "long": "4.8913251", "address_string": "Silodam 3, 1013 AL Amsterdam"}, "Silodam 3"),
    ({"lat": None, "long": None, "address_string": "Zoutkeetsplein 2"}, "Zoutkeetsplein 2-1"),
])
def test_open311_request_with_an_address_stores_the_typed_address(client, make_staff, fields, stored):
    _, token = make_staff("agent", "GM0363")
    data = {"api_key": token, "service_code": "onderhoud-stoep-straat-en-fietspad", "description": "Losse tegel",
            **fields}
    response = client.post("/open311/v2/requests.json", data={k: v for k, v in data.items() if v is not None})
    assert response.status_code == 201, response.json
    reference = response.json[0]["service_request_id"]
    (shown,) = client.get(f"/open311/v2/requests/{reference}.json").json
    assert shown["address"].startswith(stored + ",") or shown["address"] == stored


def test_open311_request_by_bag_id_stores_that_address(app, client, make_staff):
    from sqlalchemy import select

    from meldingen.geo.models import Address
    from meldingen.reports.models import Report

    bag_id = next(r["nummeraanduiding_id"] for r in read_addresses() if r["straatnaam"] == "Silodam"
                  and r["huisnummer"] == "4")
    _, token = make_staff("agent", "GM0363")
    response = client.post("/open311/v2/requests.json", data={
        "api_key": token, "service_code": "onderhoud-stoep-straat-en-fietspad", "description": "Losse tegel",
        "address_id": bag_id})
    assert response.status_code == 201, response.json
    report = db.session.scalar(select(Report).where(Report.reference == response.json[0]["service_request_id"]))
    assert (report.address_street, report.address_number) == ("Silodam", "4")
    assert db.session.scalar(select(Address.number).where(Address.bag_id == bag_id)) == 4


# --- reading a place without a number, and a number without a place -----------------------------------------


@pytest.mark.parametrize(("text", "number"), [
    ("nr 14", "14"), ("Nr. 14", "14"), ("nummer 8", "8"), ("huisnummer 7", "7"), ("14", "14"), ("op 14", "14"),
    ("bij nummer 14a", "14A"), ("nr14", "14"), ("huisnr 12-2", "12-2"), ("numer 18", "18"), ("number 16", "16"),
    ("it's number 16", "16"), ("het is nummer 8", "8"),
])
def test_a_house_number_on_its_own_is_read(text, number):
    assert number_only(text) == number


@pytest.mark.parametrize("text", ["Al 3 weken", "14 fietswrakken", "nr 14 en 16", "Silodam 5", "nee", ""])
def test_more_than_a_house_number_is_not_one(text):
    assert number_only(text) is None


def known(streets):
    def lookup(words):
        return next((s for s in streets if s.lower().replace(" ", "") == words.lower().replace(" ", "")), None)

    return lookup


@pytest.mark.parametrize(("text", "street", "description"), [
    ("Er ligt grofvuil bij de houtmankade", "Houtmankade", "Er ligt grofvuil"),
    ("bij de houtmankade", "Houtmankade", ""),
    ("houtmankade", "Houtmankade", ""),
    ("Kapotte lamp aan de Houtmankade, al een week", "Houtmankade", "Kapotte lamp al een week"),
    ("There is rubbish near Jan Mensplein", "Jan Mensplein", "There is rubbish"),
    ("Al 3 weken ligt er afval bij de Silodam", "Silodam", "Al 3 weken ligt er afval"),
])
def test_a_known_street_without_a_number_is_a_place_hint(text, street, description):
    hint = place_without_number(text, known(["Houtmankade", "Jan Mensplein", "Silodam"]))
    assert hint is not None and hint.street == street and hint.description == description


def test_a_postcode_without_a_number_is_a_place_hint():
    hint = place_without_number("Er ligt afval, postcode 1013 CT", known([]))
    assert hint is not None and hint.postcode == "1013CT" and hint.description == "Er ligt afval"


@pytest.mark.parametrize("text", ["Gat in de weg", "De houtmankade is mooi maar vies", "Silodam 5 is vies",
                                  "Glas op straat", "Afval in het park", "bij silodam 5 ligt glas"])
def test_words_that_are_no_place_hint(text):
    assert place_without_number(text, known(["Houtmankade", "Silodam", "Weg", "Straat", "Park"])) is None


@pytest.mark.parametrize(("draft", "text", "looked_up"), [
    ({"place_hint": {"street": "Houtmankade", "postcode": None}}, "nr 5", "Houtmankade 5"),
    ({"place_hint": {"street": None, "postcode": "1013CT"}}, "nummer 8", "1013CT 8"),
    ({"number_hint": "14"}, "bij het jan mensplein", "Jan Mensplein 14"),
])
def test_an_address_completed_by_a_later_message_is_looked_up_before_the_lock(app, draft, text, looked_up):
    """The lookup may ask PDOK: it happens before the resident's lock, and the intake answers from it."""
    from datetime import UTC, datetime

    from meldingen.channels.messages import InboundMessage
    from meldingen.intake.services import resolve_addresses_before_lock
    from meldingen.residents.models import Conversation, Reporter

    reporter = Reporter(channel_kind="webchat", platform_id="lock-test", language="nl")
    db.session.add(reporter)
    db.session.flush()
    db.session.add(Conversation(reporter_id=reporter.id, channel_kind="webchat", state="collecting", draft=draft,
                                language="nl", version=0))
    db.session.commit()
    message = InboundMessage(channel_kind="webchat", external_id="m1", platform_user_id="lock-test",
                             display_name=None, sent_at=datetime.now(UTC), kind="text", text=text)
    prepared = resolve_addresses_before_lock(message)
    assert looked_up in prepared._addresses
    assert prepared._addresses[looked_up].found is not None

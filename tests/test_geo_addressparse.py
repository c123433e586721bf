"""Reading typed Dutch addresses: parts, street normalisation and typo-tolerant street matching."""

import pytest

from meldingen.geo.addressparse import ParsedAddress, StreetIndex, normalise_postcode, parse_address, street_key

STREETS = [
    "Westerdoksdijk", "Westerdok", "Van Diemenstraat", "1e Breeuwersstraat", "Taandwarsstraat", "Barentszstraat",
    "Barentszplein", "Silodam", "Zoutkeetsgracht", "Vierwindenstraat", "Vierwindendwarsstraat", "Realengracht",
    "Grote Bickersstraat", "Stenen Hoofd", "Jan Mensplein", "Dirk Hartoghstraat", "Van Linschotenstraat",
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Westerdoksdijk 40A", ParsedAddress(street="Westerdoksdijk", number=40, letter="A")),
        ("westerdoksdijk 40 a amsterdam", ParsedAddress(street="westerdoksdijk", number=40, letter="A", city="amsterdam")),
        ("1013 AE 40A", ParsedAddress(number=40, letter="A", postcode="1013AE")),
        ("1013AE 40-A", ParsedAddress(number=40, suffix="A", postcode="1013AE")),
        ("Taandwarsstraat 99", ParsedAddress(street="Taandwarsstraat", number=99)),
        ("1e Breeuwersstraat 12-H", ParsedAddress(street="1e Breeuwersstraat", number=12, suffix="H")),
        ("Barentszstraat 1-1", ParsedAddress(street="Barentszstraat", number=1, suffix="1")),
        ("Van Diemenstraat 12 A-2", ParsedAddress(street="Van Diemenstraat", number=12, letter="A", suffix="2")),
        ("Westerdoksdijk", ParsedAddress(street="Westerdoksdijk")),
        ("Westerdoksdijk 40A, 1013 AE Amsterdam",
         ParsedAddress(street="Westerdoksdijk", number=40, letter="A", postcode="1013AE", city="Amsterdam")),
        ("lamp kapot bij westerdoksdijk 40a", ParsedAddress(street="westerdoksdijk", number=40, letter="A")),
        ("Er ligt afval op de Van Diemenstraat 110. Graag ophalen!",
         ParsedAddress(street="de Van Diemenstraat", number=110)),
        ("", ParsedAddress()),
    ],
)  # fmt: skip
def test_typed_address_is_split_into_its_parts(text, expected):
    assert parse_address(text) == expected


def test_letter_and_suffix_compare_as_one_addition_whatever_the_separator():
    assert {parse_address(t).addition for t in ["Westerdoksdijk 40A", "westerdoksdijk 40 a", "1013AE 40-A"]} == {"a"}
    assert parse_address("Westerdoksdijk 40").addition == ""


def test_ordinal_in_street_name_is_not_taken_for_the_house_number():
    parsed = parse_address("2e Hugo de Grootstraat 5")
    assert (parsed.street, parsed.number) == ("2e Hugo de Grootstraat", 5)


def test_words_after_the_number_that_are_not_a_city_are_ignored():
    assert parse_address("Silodam 12 de lamp is kapot en hangt er al weken zo").city is None


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Van Diemenstraat", "vandiemenstraat"),
        ("van diemenstr.", "vandiemenstraat"),
        ("v. Diemenstraat", "vandiemenstraat"),
        ("Van Diëmenstraat", "vandiemenstraat"),
        ("eerste Breeuwersstraat", "1ebreeuwersstraat"),
        ("1ste Breeuwersstraat", "1ebreeuwersstraat"),
        ("Jan Mens pl.", "janmensplein"),
        ("St. Jacobsstraat", "sintjacobsstraat"),
        ("'s-Gravenhekje", "sgravenhekje"),
    ],
)
def test_street_names_are_normalised_for_matching(name, key):
    assert street_key(name) == key


def test_postcode_is_normalised_and_invalid_ones_refused():
    assert normalise_postcode("1013 ae") == "1013AE"
    assert normalise_postcode("0123AB") is None
    assert normalise_postcode("1013 SS") is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Westerdoksdijk", "Westerdoksdijk"),
        ("westerdokdijk", "Westerdoksdijk"),
        ("Westerdoksdyk", "Westerdoksdijk"),
        ("Barentzstraat", "Barentszstraat"),
        ("van diemen straat", "Van Diemenstraat"),
        ("Silodan", "Silodam"),
        ("Taandwarstraat", "Taandwarsstraat"),
    ],
)
def test_misspelt_street_matches_the_known_street(typed, expected):
    matches = StreetIndex(STREETS).match(typed)
    assert matches and matches[0].name == expected


def test_unknown_street_matches_nothing():
    assert StreetIndex(STREETS).match("Kalverstraat") == []


def test_street_inside_a_sentence_is_found_among_its_word_runs():
    index = StreetIndex(STREETS)
    assert index.match_parsed(parse_address("lamp kapot westerdoksdyk 40a")).name == "Westerdoksdijk"
    assert index.match_parsed(parse_address("westerdoksdijk amsterdam")).name == "Westerdoksdijk"
    assert index.match_parsed(parse_address("de grote bickersstraat 3")).name == "Grote Bickersstraat"


@pytest.mark.parametrize(
    ("text", "street"),
    [
        ("van diemenstr. 420 H", "van diemenstr."),
        ("v. Diemenstraat 4", "v. Diemenstraat"),
        ("J.P. Coenstraat 3", "J.P. Coenstraat"),
        ("Lamp kapot. Westerdoksdijk 40a", "Westerdoksdijk"),
    ],
)
def test_abbreviation_dots_do_not_end_the_sentence(text, street):
    assert parse_address(text).street == street

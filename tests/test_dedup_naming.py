"""Issue 24, without a database: the number residents type on a post's sticker, a container's fraction, and
what they weigh in a pair's score."""

from __future__ import annotations

import pytest

from meldingen.dedup.matching import Evidence, score_pair
from meldingen.dedup.naming import number_matches_asset, same_number, typed_numbers
from meldingen.geo.fractions import fractions_in_text, normalise_fraction

MERGE, SUGGEST = 0.8, 0.2


@pytest.mark.parametrize("text, number", [
    ("mast 12-045 brandt niet", "12045"),
    ("Lamp kapot, paal nr 3187", "3187"),
    ("lichtmast 231 is uit", "231"),
    ("lantaarnpaal 0231 doet het niet", "231"),
    ("Mast nummer 12045 kapot", "12045"),
    ("paalnummer: 12.045", "12045"),
    ("The lamp post 3187 is out", "3187"),
])
def test_the_number_on_the_sticker_is_read_however_it_is_typed(text, number):
    assert typed_numbers(text) == {("light", number)}


def test_a_number_that_counts_days_or_metres_is_not_a_post_number():
    assert typed_numbers("De lamp 3 dagen uit, paal 2 meter van de hoek") == set()


def test_leading_zeros_and_separators_do_not_make_another_number():
    assert same_number("231", "231") and not same_number("12045", "45")
    assert same_number("12045", "2045") and not same_number("231", "232")
    assert number_matches_asset("12045", "LM-12-045") and number_matches_asset("231", "0231")


@pytest.mark.parametrize("text, fraction", [
    ("De glasbak zit vol", "glass"), ("papierbak vol", "paper"), ("Papiercontainer puilt uit", "paper"),
    ("restafval container vol", "residual"), ("plastic bak vol", "plastic"), ("pmd container vol", "plastic"),
    ("kledingcontainer vol", "textile"), ("gft bak stinkt", "organic"), ("Bottle bank is full", "glass"),
    ("clothes container full", "textile"),
])
def test_the_words_select_the_fraction(text, fraction):
    assert fractions_in_text(text) == {fraction}


def test_words_that_name_no_fraction_select_none():
    assert fractions_in_text("Container is vol") == frozenset()
    assert fractions_in_text("Vol bij het restaurant") == frozenset()


@pytest.mark.parametrize("value, fraction", [
    ("Glas", "glass"), ("PMD", "plastic"), ("Rest", "residual"), ("Restafval", "residual"),
    ("Papier en karton", "paper"), ("GFT", "organic"), ("Textiel", "textile"), ("paper", "paper"), ("", None),
])
def test_a_registers_fraction_is_read_in_dutch_and_english(value, fraction):
    assert normalise_fraction(value) == fraction


def test_a_registers_fraction_that_names_nothing_known_is_refused():
    with pytest.raises(ValueError, match="unknown fraction"):
        normalise_fraction("Bouwafval")


BASE = {"limit_m": 25, "window_days": 84, "age_difference_days": 0.2, "same_category": True}


def test_two_typed_numbers_that_differ_are_never_merged_nor_suggested_even_at_one_spot():
    score, reasons = score_pair(Evidence(distance_m=0, use_assets=False, new_text="lamp kapot, paal 3187",
                                         known_text="lamp kapot, paal 3188", new_numbers={("light", "3187")},
                                         known_numbers={("light", "3188")}, **BASE))
    assert score < SUGGEST and reasons["typed_number"]["same"] is False


def test_the_same_typed_number_merges_reports_whose_gps_points_lie_far_apart():
    score, _ = score_pair(Evidence(distance_m=70, use_assets=False, new_text="mast 12-045 uit",
                                   known_text="lichtmast 12045 kapot", new_numbers={("light", "12045")},
                                   known_numbers={("light", "12045")}, **BASE))
    assert score >= MERGE


def test_two_named_posts_are_never_merged_and_a_named_post_beats_the_gps_nearest_one():
    named = score_pair(Evidence(distance_m=20, use_assets=True, new_asset=("street_light", "A"),
                                known_asset=("street_light", "B"), new_asset_named=True, known_asset_named=True,
                                new_text="lamp kapot", known_text="lamp kapot", **BASE))[0]
    assert named < SUGGEST


def test_different_fractions_at_one_spot_are_different_problems_and_the_same_fraction_is_one():
    apart, reasons = score_pair(Evidence(distance_m=2, use_assets=False, new_text="glasbak vol",
                                         known_text="papiercontainer vol", new_fractions=frozenset({"glass"}),
                                         known_fractions=frozenset({"paper"}), **BASE))
    one, _ = score_pair(Evidence(distance_m=2, use_assets=True, new_asset=("container", "G"),
                                 known_asset=("container", "P"), new_text="glasbak vol",
                                 known_text="de glasbak zit propvol", new_fractions=frozenset({"glass"}),
                                 known_fractions=frozenset({"glass"}), **BASE))
    assert apart < SUGGEST and reasons["fraction"]["same"] is False
    assert one >= MERGE  # two containers' "nearest" 2 m apart does not split one full glass container

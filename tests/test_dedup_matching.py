"""The evidence of one pair, without a database: typed numbers, text, assets, distance."""

from __future__ import annotations

from meldingen.dedup.matching import Evidence, number_matches_asset, score_pair, text_similarity, typed_numbers


def test_numbers_residents_type_are_read_with_their_kind():
    assert typed_numbers("Lichtmast 12-045 is kapot") == {("light", "12045")}
    assert typed_numbers("paal 23 en container 1234, boom nr. 8812") == {
        ("light", "23"), ("container", "1234"), ("tree", "8812")}
    assert typed_numbers("Tegel los bij nummer 12") == set()  # a house number, not an object


def test_a_typed_number_names_the_registered_object():
    assert number_matches_asset("12045", "LM-12-045") and number_matches_asset("23", "AMS-0023")
    assert not number_matches_asset("24", "AMS-0023")


def test_text_similarity_survives_compounds():
    assert text_similarity("Lantaarnpaal doet het niet", "lamp van de lantaarnpaal is kapot") > 0.5
    assert text_similarity("Losse stoeptegel", "Straatlantaarn brandt niet") < 0.1


def test_the_same_asset_outweighs_distance_and_another_nearest_asset_weighs_by_distance():
    base = {"limit_m": 25, "window_days": 84, "age_difference_days": 0.5, "same_category": True, "use_assets": True,
                "new_text": "lamp kapot", "known_text": "lamp kapot"}
    same, reasons = score_pair(Evidence(distance_m=20, new_asset=("street_light", "1"),
                                        known_asset=("street_light", "1"), **base))
    # Each asset only the one nearest a GPS point: two points 2 m apart, each hardly nearer its own object,
    # say little (issue 24: one full container reported 2 m from others was split); two points 18 m apart,
    # each 2 m from its own post and 18 m from the other, keep two neighbouring lights apart.
    near, near_reasons = score_pair(Evidence(distance_m=2, new_asset=("street_light", "1"), asset_separation_m2=3,
                                             known_asset=("street_light", "2"), **base))
    far, _ = score_pair(Evidence(distance_m=18, new_asset=("street_light", "1"), asset_separation_m2=320,
                                 known_asset=("street_light", "2"), **base))
    assert same >= 0.8 and near >= 0.8 and far < 0.8  # not merged: at most a suggestion for staff
    assert near_reasons["asset"]["same"] is False and near_reasons["terms"]["asset"] > -1
    assert reasons["asset"]["same"] is True and set(reasons["terms"]) >= {"prior", "distance", "asset", "text"}

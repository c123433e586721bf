"""Duplicates weigh the words where the place is weak: one snapped point is "same address", not "same problem"."""

from __future__ import annotations

from sqlalchemy import select

from meldingen.dedup.matching import Evidence, place_is_weak, score_pair
from meldingen.extensions import db
from meldingen.pipeline import create_report
from meldingen.reports.models import DuplicateCandidate
from meldingen.reports.services import NewReport

BIN_FULL = "prullenbak-is-vol"
LITTER = "veeg-zwerfvuil"  # related to prullenbak-is-vol in the sample tree


def evidence(**overrides) -> Evidence:
    values = {"distance_m": 0.0, "limit_m": 20.0, "window_days": 7, "age_difference_days": 0.1, "same_category": False,
                  "use_assets": True, "new_text": "Er ligt glas op het fietspad",
                  "known_text": "Prullenbak zit helemaal vol"}
    values.update(overrides)
    return Evidence(**values)


def test_two_reports_on_one_snapped_point_have_a_weak_place():
    assert place_is_weak(evidence(distance_m=0.0))
    assert place_is_weak(evidence(distance_m=6.0, new_asset=("litter_bin", "B1"), known_asset=("litter_bin", "B1")))
    assert not place_is_weak(evidence(distance_m=4.0))
    assert not place_is_weak(evidence(distance_m=6.0, new_asset=("litter_bin", "B1"), known_asset=("litter_bin", "B2")))


def test_different_words_in_a_related_category_on_one_snapped_point_are_only_suggested():
    score, reasons = score_pair(evidence())
    assert 0.2 <= score < 0.8
    assert reasons["weak_place_different_words"] is True


def test_related_category_with_agreeing_words_on_one_snapped_point_is_still_merged():
    score, reasons = score_pair(evidence(new_text="Prullenbak is vol, afval ernaast",
                                         known_text="Prullenbak zit helemaal vol"))
    assert score >= 0.8
    assert "weak_place_different_words" not in reasons


def test_same_category_on_one_snapped_point_keeps_its_score():
    with_words = score_pair(evidence(same_category=True))[0]
    assert with_words >= 0.8


def test_different_words_a_few_metres_apart_are_judged_by_distance_as_before():
    _, reasons = score_pair(evidence(distance_m=4.0))
    assert "weak_place_different_words" not in reasons


def report_at(description: str, address: str, category: str):
    report = create_report(NewReport(description=description, channel="staff", address_text=address,
                                     category_slug=category))
    db.session.commit()
    return report


def test_glass_on_the_bike_path_is_not_merged_into_the_full_bin_at_the_same_address(app):
    known = report_at("Prullenbak zit helemaal vol", "Zoutkeetsgracht 2", BIN_FULL)
    glass = report_at("Er ligt glas op het fietspad", "bij de Zoutkeetsgracht 2", LITTER)
    assert (glass.lat, glass.lon) == (known.lat, known.lon)  # both snapped to the one BAG address point
    assert glass.duplicate_of_id is None
    row = db.session.scalar(select(DuplicateCandidate).where(DuplicateCandidate.report_id == glass.id))
    assert row is not None and row.candidate_id == known.id and row.state == "suggested"
    assert row.reasons["weak_place_different_words"] is True


def test_litter_next_to_the_full_bin_at_the_same_address_is_merged(app):
    known = report_at("Prullenbak zit helemaal vol", "Zoutkeetsgracht 2", BIN_FULL)
    again = report_at("prullenbak vol, zwerfvuil eromheen", "Zoutkeetsgracht 2", LITTER)
    assert again.duplicate_of_id == known.id

"""Issue 24 through the pipeline: the number on the post and the container's fraction decide, with and without
an asset register, on SpatiaLite and PostGIS."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from meldingen.extensions import db
from meldingen.geo.crs import rd_point_ewkt
from meldingen.geo.models import Asset
from meldingen.reports.models import Report, ReportEvent
from tests.factories import AMSTERDAM, make_report

LIGHT = "straatverlichting-openbare-klok"
CONTAINER = "container-is-vol"
PLASTIC = "container-voor-plastic-afval-is-vol"
M_LAT = 1 / 111_200  # degrees of latitude per metre
M_LON = 1 / 67_900  # degrees of longitude per metre at 52.39° N


def offset(point, north_m=0.0, east_m=0.0):
    return (point[0] + north_m * M_LAT, point[1] + east_m * M_LON)


POST_A = AMSTERDAM
POST_B = offset(AMSTERDAM, east_m=20)  # the neighbouring post, 20 m on


def register(kind: str, *items):
    """Assets of one type: (external id, point[, fraction])."""
    for external_id, (lat, lon), *fraction in items:
        db.session.add(Asset(type=kind, external_id=external_id, lat=lat, lon=lon, geom=rd_point_ewkt(lon, lat),
                             fraction=fraction[0] if fraction else None, attributes={}))
    db.session.commit()


def light(text, point):
    return make_report(text, point=point, category=LIGHT)


def test_a_typed_number_pins_the_report_to_its_post_whatever_the_gps_says(app):
    register("street_light", ("LM-12-045", POST_A), ("LM-12-046", POST_B))
    gps = offset(POST_B, north_m=3)  # the phone put the resident beside the other post
    report = light("Lichtmast 12-045 brandt niet", gps)
    assert report.asset_external_id == "LM-12-045"
    assert (round(report.lat, 6), round(report.lon, 6)) == (round(POST_A[0], 6), round(POST_A[1], 6))
    created = db.session.scalar(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                                          ReportEvent.kind == "created"))
    assert created.data["gps"]["lat"] == pytest.approx(gps[0]) and created.data["pinned_to_asset"] == "LM-12-045"


def test_a_typed_number_far_from_its_post_does_not_pin(app):
    register("street_light", ("LM-3187", offset(POST_A, north_m=600)), ("LM-3188", POST_A))
    report = light("lamp kapot, paal nr 3187", POST_A)
    assert report.asset_external_id == "LM-3188"  # 600 m off: not the post meant; the nearest stays


def test_reports_naming_two_posts_are_never_merged_and_the_same_post_named_joins_across_gps_noise(app):
    register("street_light", ("LM-12-045", POST_A), ("LM-12-046", POST_B))
    first = light("Lichtmast 12-045 brandt niet", offset(POST_A, north_m=8))
    other = light("mast 12-046 is uit", offset(POST_A, north_m=6))  # GPS beside post A, number of post B
    again = light("lantaarnpaal 012045 doet het niet", offset(POST_B, north_m=-9))  # GPS nearest post B
    assert other.duplicate_of_id is None and other.asset_external_id == "LM-12-046"
    assert again.duplicate_of_id == first.id


def test_without_a_register_two_typed_numbers_that_differ_keep_reports_apart_and_the_same_one_joins(app):
    first = light("Paal nr 3187 doet het niet", POST_A)
    other = light("paal nr 3188 doet het niet", offset(POST_A, east_m=3))
    same = light("lantaarnpaal 03187 kapot", offset(POST_A, north_m=-12))
    assert first.asset_type is None and other.duplicate_of_id is None
    assert same.duplicate_of_id == first.id


SPOT = offset(AMSTERDAM, north_m=40)


def containers():
    register("container", ("C-G", SPOT, "glass"), ("C-P", offset(SPOT, east_m=2), "paper"),
             ("C-R", offset(SPOT, east_m=4), "residual"), ("C-K", offset(SPOT, east_m=6), "plastic"))


@pytest.mark.parametrize("with_register", [True, False])
def test_reports_about_two_fractions_at_one_spot_are_two_problems(app, with_register):
    if with_register:
        containers()
    glass = make_report("Glasbak vol", point=offset(SPOT, east_m=5), category=CONTAINER)
    paper = make_report("papiercontainer zit vol", point=offset(SPOT, east_m=1), category=CONTAINER)
    plastic = make_report("De bak zit vol met zakken", point=SPOT, category=PLASTIC)  # the category says plastic
    glass_again = make_report("De glasbak zit propvol", point=offset(SPOT, east_m=6), category=CONTAINER)
    assert paper.duplicate_of_id is None and plastic.duplicate_of_id is None
    assert glass_again.duplicate_of_id == glass.id
    if with_register:
        # The fraction chose the container, not the GPS point (which stood beside the residual and paper ones).
        assert (glass.asset_external_id, paper.asset_external_id, plastic.asset_external_id) == ("C-G", "C-P", "C-K")


def test_one_full_container_reported_from_points_2_m_apart_is_one_report_with_the_register(app):
    containers()
    first = make_report("Container is vol", point=offset(SPOT, east_m=1), category=CONTAINER)
    second = make_report("container zit propvol", point=offset(SPOT, east_m=3), category=CONTAINER)
    third = make_report("Container vol, zakken ernaast", point=offset(SPOT, east_m=5), category=CONTAINER)
    assert second.duplicate_of_id == first.id and third.duplicate_of_id == first.id


def test_the_asset_import_reads_the_fraction_column(app, runner, tmp_path):
    path = tmp_path / "containers.csv"
    path.write_text("nummer;lat;lon;fractie\nG-1;52,3877;4,8925;Glas\nP-1;52,3878;4,8925;Papier en karton\n"
                    "X-1;52,3879;4,8925;Bouwafval\nR-1;52,3880;4,8925;\n", encoding="utf-8")
    result = runner.invoke(args=["import", "assets", str(path), "--type", "container", "--id-column", "nummer",
                                 "--fraction-column", "fractie"])
    assert result.exit_code == 0, result.output
    stored = dict(db.session.execute(select(Asset.external_id, Asset.fraction).where(Asset.type == "container",
                                                                                     Asset.external_id.in_(
                                                                                         ["G-1", "P-1", "X-1",
                                                                                          "R-1"]))).all())
    assert stored == {"G-1": "glass", "P-1": "paper", "R-1": None}
    assert "row 4" in result.output and "Bouwafval" in result.output


def test_the_asset_import_names_a_missing_fraction_column(app, runner, tmp_path):
    path = tmp_path / "containers.csv"
    path.write_text("nummer,lat,lon\nG-1,52.3877,4.8925\n", encoding="utf-8")
    result = runner.invoke(args=["import", "assets", str(path), "--type", "container", "--id-column", "nummer",
                                 "--fraction-column", "fractie"])
    assert result.exit_code != 0 and "fractie" in result.output


def test_the_sample_data_ships_containers_with_their_fractions(app):
    fractions = set(db.session.scalars(select(Asset.fraction).where(Asset.type == "container")))
    assert {"glass", "paper", "residual", "plastic"} <= fractions
    reports = db.session.scalars(select(Report)).all()
    assert reports == []  # the example register makes no reports

"""The meldingen command line, as an operator uses it."""

import json

import pytest
from sqlalchemy import func, select

from meldingen.accounts.models import ApiToken, StaffUser, hash_token
from meldingen.extensions import db
from meldingen.geo.models import Area

pytestmark = pytest.mark.rolled_back  # one shared database, rolled back after each test


def test_staff_create_with_password_on_stdin(runner):
    result = runner.invoke(args=["staff", "create", "Piet@Example.nl", "--role", "head", "--organisation", "GM0363",
                                 "--department", "STW", "--password-stdin"], input="een lang wachtwoord\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "piet@example.nl"))
    assert user.role == "head" and user.department.code == "STW"
    assert user.check_password("een lang wachtwoord")
    assert "een lang wachtwoord" not in result.output


def test_staff_create_generates_and_prints_a_password(runner):
    result = runner.invoke(args=["staff", "create", "kees@example.nl", "--role", "crew", "--organisation", "GM0114"])
    assert result.exit_code == 0
    password = result.output.split("password: ")[1].strip()
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "kees@example.nl")).check_password(password)


def test_staff_create_refuses_unknown_organisation_and_duplicates(runner):
    bad = runner.invoke(args=["staff", "create", "x@example.nl", "--role", "crew", "--organisation", "GM9999"])
    assert bad.exit_code != 0 and "GM9999" in bad.output
    args = ["staff", "create", "y@example.nl", "--role", "crew", "--organisation", "GM0363"]
    assert runner.invoke(args=args).exit_code == 0
    again = runner.invoke(args=args)
    assert again.exit_code != 0 and "already exists" in again.output


def test_staff_token_prints_only_a_working_token(runner, client):
    runner.invoke(args=["staff", "create", "t@example.nl", "--role", "head", "--organisation", "GM0363"])
    result = runner.invoke(args=["staff", "token", "t@example.nl"])
    assert result.exit_code == 0
    token = result.output.strip()
    assert result.output == token + "\n" and token.startswith("mld_")
    stored = db.session.scalar(select(ApiToken.token_hash))
    assert stored == hash_token(token) and token not in stored
    assert client.get("/api/v1/reports", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_staff_token_for_unknown_account_fails(runner):
    result = runner.invoke(args=["staff", "token", "niemand@example.nl"])
    assert result.exit_code != 0


def test_load_sample_data_is_idempotent(runner):
    before = db.session.scalar(select(func.count()).select_from(Area))
    result = runner.invoke(args=["load-sample-data"])
    assert result.exit_code == 0, result.output
    assert "342 municipalities" in result.output
    assert db.session.scalar(select(func.count()).select_from(Area)) == before


def test_import_areas_command_reports_bad_features_and_goes_on(runner, tmp_path):
    path = tmp_path / "a.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"c": "BU9"}, "geometry": None}]}))
    result = runner.invoke(args=["import", "areas", str(path), "--level", "neighbourhood", "--code-property", "c",
                                 "--name-property", "n"])
    assert result.exit_code == 0
    assert "skipped feature 1" in result.output and "0 new" in result.output


def test_import_areas_command_with_a_broken_file_fails_clearly(runner, tmp_path):
    path = tmp_path / "a.geojson"
    path.write_text("{")
    result = runner.invoke(args=["import", "areas", str(path), "--level", "district", "--code-property", "c",
                                 "--name-property", "n"])
    assert result.exit_code == 1 and "not a readable GeoJSON" in result.output


def test_import_assets_command(runner, tmp_path):
    path = tmp_path / "containers.csv"
    path.write_text("id,lat,lon\nC-1,52.3877,4.8925\n")
    result = runner.invoke(args=["import", "assets", str(path), "--type", "container", "--id-column", "id"])
    assert result.exit_code == 0 and "1 new" in result.output


def test_worker_needs_a_broker(runner):
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "MELDINGEN_BROKER_URL" in result.output


def test_version_prints_meldingens_own_version():
    from click.testing import CliRunner

    from meldingen.console import make_cli, meldingen_version

    result = CliRunner().invoke(make_cli(), ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"meldingen {meldingen_version()}"
    assert meldingen_version() not in ("", "unknown")


def test_import_assets_of_a_type_no_category_uses_is_refused_naming_the_types_in_use(runner, tmp_path):
    from meldingen.geo.models import Asset

    path = tmp_path / "lights.csv"
    path.write_text("id,lat,lon\nL-1,52.3877,4.8925\n")
    refused = runner.invoke(args=["import", "assets", str(path), "--type", "lantaarnpaal", "--id-column", "id"])
    assert refused.exit_code != 0
    assert "'lantaarnpaal'" in refused.output and "street_light" in refused.output and "--force" in refused.output
    assert db.session.scalar(select(func.count()).select_from(Asset).where(Asset.type == "lantaarnpaal")) == 0

    forced = runner.invoke(args=["import", "assets", str(path), "--type", "lantaarnpaal", "--id-column", "id",
                                 "--force"])
    assert forced.exit_code == 0 and "1 new" in forced.output and "warning" in forced.output


def test_import_assets_reads_a_csv_as_dutch_excel_saves_it(runner, tmp_path):
    from meldingen.geo.models import Asset

    path = tmp_path / "containers.csv"
    path.write_bytes("nummer;breedtegraad;lengtegraad;locatie\r\n"
                     "C-1;52,3877;4,8925;Westerdoksdijk bij café\r\n"
                     "C-2;52,3850;4,8930;Barentszplein\r\n".encode("cp1252"))
    result = runner.invoke(args=["import", "assets", str(path), "--type", "container", "--id-column", "nummer",
                                 "--lat-column", "breedtegraad", "--lon-column", "lengtegraad"])
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output
    first = db.session.scalar(select(Asset).where(Asset.external_id == "C-1"))
    assert (round(first.lat, 4), round(first.lon, 4)) == (52.3877, 4.8925)
    assert first.attributes["locatie"] == "Westerdoksdijk bij café"


def test_import_assets_with_a_given_delimiter_and_encoding(runner, tmp_path):
    path = tmp_path / "trees.tsv"
    path.write_bytes("id\tlat\tlon\r\nB-1\t52.3877\t4.8925\r\n".encode("utf-16"))
    result = runner.invoke(args=["import", "assets", str(path), "--type", "tree", "--id-column", "id",
                                 "--delimiter", "tab", "--encoding", "utf-16"])
    assert result.exit_code == 0 and "1 new" in result.output, result.output
    wrong = runner.invoke(args=["import", "assets", str(path), "--type", "tree", "--id-column", "id",
                                "--encoding", "klingon"])
    assert wrong.exit_code != 0 and "unknown encoding" in wrong.output

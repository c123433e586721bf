"""The newcomer's rough edges: a setting that cannot work is one line, not a traceback (a wrong or unreachable
database URL, a placeholder secret, a time zone that does not exist); `meldingen -e FILE` reads the file;
MELDINGEN_TIMEZONE is the local time of what the API answers and of deadlines; the README's commands exist."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import make_app

from meldingen import create_app
from meldingen.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def meldingen(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The console script as an operator runs it (a process of its own, the environment as given)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MELDINGEN_", "FLASK_"))}
    clean["PYTHONPATH"] = str(ROOT)
    code = "import sys; from meldingen.console import main; sys.argv[0] = 'meldingen'; main()"
    return subprocess.run([sys.executable, "-c", code, *args], env={**clean, **env}, capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def one_line_error(result) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_database_url_that_is_not_one_is_one_line():
    line = one_line_error(meldingen("db", "upgrade", MELDINGEN_DATABASE_URL="nonsense"))
    assert line.startswith("meldingen: MELDINGEN_DATABASE_URL is not a database URL")


def test_an_unreachable_database_is_one_line_naming_it_without_its_password(tmp_path):
    url = f"postgresql+psycopg://meldingen:geheim@127.0.0.1:{free_port()}/meldingen"
    for args in (("db", "upgrade"), ("--help",), ("run", "--port", str(free_port()))):
        line = one_line_error(meldingen(*args, MELDINGEN_DATABASE_URL=url))
        assert "127.0.0.1" in line and "refused" in line.lower() and "geheim" not in line, (args, line)


def test_a_sqlite_file_in_a_missing_folder_is_one_line(tmp_path):
    line = one_line_error(meldingen("db", "upgrade", MELDINGEN_DATABASE_URL=f"sqlite:///{tmp_path}/no/such/x.sqlite"))
    assert "unable to open database file" in line


def test_meldingen_e_file_reads_the_environment_from_the_file(tmp_path):
    env_file = tmp_path / "meldingen.env"
    env_file.write_text(f"MELDINGEN_DATABASE_URL=sqlite:///{tmp_path}/from-file.sqlite\n")
    result = meldingen("-e", str(env_file), "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-file.sqlite").exists()


def test_the_example_environment_s_placeholder_secret_is_refused_outside_development(tmp_path):
    example = ROOT / "deploy" / "meldingen.env.example"
    assert "CHANGE-ME" in example.read_text()
    line = one_line_error(meldingen("-e", str(example), "db", "upgrade"))
    assert "still holds the placeholder CHANGE-ME" in line
    config = {"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite", "SECRET_KEY": "CHANGE-ME-64-random-hex-characters"}
    with pytest.raises(ConfigError, match="MELDINGEN_SECRET_KEY still holds the placeholder"):
        create_app(config)
    make_app(tmp_path, config["DATABASE_URL"], SECRET_KEY=config["SECRET_KEY"])  # testing: development, allowed


def test_a_time_zone_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="MELDINGEN_TIMEZONE"):
        make_app(tmp_path, f"sqlite:///{tmp_path}/x.sqlite", TIMEZONE="Europe/Atlantis")


@pytest.mark.parametrize("app_config", [{"TIMEZONE": "America/New_York"}])
def test_the_api_answers_times_and_counts_deadlines_in_the_configured_zone(app, make_staff, auth):
    from meldingen.reports.deadlines import compute_deadline
    from meldingen.timeutil import isoformat, local_zone

    assert str(local_zone()) == "America/New_York"
    assert isoformat(datetime(2026, 12, 7, 12, 0, tzinfo=UTC)) == "2026-12-07T07:00:00-05:00"
    # Friday 23:30 in New York (Saturday in Amsterdam): one working day later is Monday 23:30 there.
    friday_night = datetime(2026, 12, 12, 4, 30, tzinfo=UTC)
    assert compute_deadline(friday_night, 1, False).isoformat() == "2026-12-14T23:30:00-05:00"
    _, token = make_staff("agent", "DSP")
    created = app.test_client().post("/api/v1/reports", headers=auth(token), json={
        "description": "Losse stoeptegel", "location": {"lat": 52.3731, "lon": 4.8926}})
    assert created.status_code == 201 and created.get_json()["created_at"].endswith("-05:00")


def test_the_readme_names_the_classifier_commands_as_they_are():
    from meldingen.classify.cli import evaluate_command, train_command

    readme = (ROOT / "README.md").read_text()
    assert "`meldingen classifier train [--folds N]`" in readme
    assert "`meldingen classifier evaluate FILE.csv [--json]`" in readme
    assert "--folds" in {opt for p in train_command.params for opt in p.opts}
    assert [p.name for p in evaluate_command.params if not p.opts[0].startswith("-")] == ["csv_file"]
    assert not re.search(r"classifier train\|evaluate FILE\.csv", readme)

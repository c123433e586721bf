"""Configuration defaults; every key can be overridden by a MELDINGEN_<KEY> environment variable."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

DEFAULTS: dict[str, object] = {
    # Database: empty means the embedded SpatiaLite file in the instance folder.
    "DATABASE_URL": "",
    "BROKER_URL": "",
    "MEDIA_DIR": "",
    "PUBLIC_URL": "",
    "INTAKE_QUIET_SECONDS": 8,
    "WHATSAPP_APP_SECRET": "",
    "WHATSAPP_VERIFY_TOKEN": "",
    "WHATSAPP_ACCESS_TOKEN": "",
    "WHATSAPP_PHONE_NUMBER_ID": "",
    "WHATSAPP_GRAPH_URL": "https://graph.facebook.com/v21.0",
    "TELEGRAM_BOT_TOKEN": "",
    "TELEGRAM_SECRET_TOKEN": "",
    "TELEGRAM_API_URL": "https://api.telegram.org",
    "TWILIO_ACCOUNT_SID": "",
    "TWILIO_AUTH_TOKEN": "",
    "TWILIO_FROM": "",
    "TWILIO_API_URL": "https://api.twilio.com",
    "MESSENGER_APP_SECRET": "",
    "MESSENGER_VERIFY_TOKEN": "",
    "MESSENGER_PAGE_ACCESS_TOKEN": "",
    "MESSENGER_GRAPH_URL": "https://graph.facebook.com/v21.0",
    "SIGNAL_API_URL": "",  # the municipality's own signal-cli-rest-api (normal or native mode)
    "SIGNAL_NUMBER": "",  # the number registered or linked in it, e.g. +31612345678
    "GEOCODER_URL": "https://api.pdok.nl/bzk/locatieserver/search/v3_1",
    "GEOCODER_TIMEOUT": 2.0,
    "ADDRESS_MAX_DISTANCE_M": 50.0,
    "ASSET_MAX_DISTANCE_M": 30.0,
    "MAX_PHOTO_BYTES": 20 * 1024 * 1024,
    "MAX_PHOTO_PIXELS": 50_000_000,  # pixels decoded; a large JPEG is decoded reduced (1/2, 1/4, 1/8) to fit
    "MAX_PHOTO_DECLARED_PIXELS": 600_000_000,  # a JPEG's own size (phone panoramas, 200 MP sensors)
    "CLASSIFIER_THRESHOLD": 0.45,
    "TIMEZONE": "Europe/Amsterdam",
    "RATELIMIT_STORAGE_URI": "memory://",
    # Base-map tiles of every staff and resident map ({z}/{x}/{y}, web mercator): PDOK's BRT-Achtergrondkaart
    # (public, free, no key; the browser fetches them). Empty: area outlines only.
    "TILE_URL": "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png",
    "TILE_ATTRIBUTION": 'Kaartgegevens &copy; <a href="https://www.kadaster.nl">Kadaster</a>',
    # The municipality (CBS code) the website chat's pin map starts in when the page does not name one
    # (/chat?gemeente=GM0363); empty: the area of every municipality this service point serves.
    "CHAT_MUNICIPALITY": "",
    # Background work: "" chooses "rq" when BROKER_URL is set, else "thread" (inside the web process).
    "JOBS_BACKEND": "",
    # Webhook deliveries written to files and imported by the background process: "auto" does so on SQLite with
    # the embedded default's background process (channels/spool.py); "on" or "off" to choose.
    "INBOX_SPOOL": "auto",
    # Niceness of background work (`meldingen worker`, the embedded default's background process): when the cores
    # are busy, web processes answering webhooks and staff come first.
    "WORKER_NICE": 10,
    "INBOX_SPOOL_DIR": "",
    # Area polygons answered from an in-process index (checked against the table every 10 s); "false": SQL.
    "GEO_AREA_CACHE": True,
    # Where the classifier model lives; empty: instance/classifier/model.joblib.
    "CLASSIFIER_MODEL_PATH": "",
    # Make the model (when missing) and load it when the app is made, before it serves; "false": not at start (a model is still never trained on a request).
    "CLASSIFIER_PRELOAD": True,
    # A claimed inbox conversation is released after this long without activity.
    "INBOX_CLAIM_SECONDS": 600,
    # JSON: least seconds between two messages to one resident, per platform kind ("*" for any); a platform not
    # named keeps its adapter's own (channels/<platform>.py: WhatsApp 6 s, to combine rather than burst).
    "NOTIFY_PACING_SECONDS": {},
    # Sends in flight at once per platform channel, across all workers: a platform that hangs keeps at most
    # this many workers waiting (the recipe runs 4 reply workers, so the other platforms always have one).
    # Empty: each platform's adapter says (3 for most; none for the website chat, where nothing leaves).
    "NOTIFY_CONCURRENCY": {},
    # JSON: approved templates for messages outside WhatsApp's 24-hour window, by purpose ("*" for any), e.g.
    # {"status_changed": {"name": "melding_status", "language": "nl", "parameters": ["reference", "status"]}}
    "WHATSAPP_TEMPLATES": {},
    # JSON: Twilio Content templates by purpose: {"*": {"content_sid": "HX…", "parameters": ["reference"]}}
    "TWILIO_TEMPLATES": {},
    # How often the background sweeps look for due work (outbox retries, drafts whose quiet period passed).
    "SWEEP_SECONDS": 15,
    # How often the scheduler (RQ at scale) moves delayed jobs, such as quiet-period timers, onto their queues.
    "SCHEDULER_INTERVAL": 0.1,
    # Bearer token for GET /metrics (queue depth and age); empty: /metrics is off.
    "METRICS_TOKEN": "",
    # Fault tolerance (docs/RECOVERY.md): waits between attempts of background work that failed (JSON list,
    # seconds; the last one repeats), attempts before the work is parked on the staff "stuck" list, how long a
    # claimed piece of work may run before another worker takes it over, the timeout of platform calls, and how
    # long to wait for a platform's receipt after a send whose outcome is unknown (a timeout).
    "RETRY_SECONDS": [5, 30, 120, 600, 1800],
    "RETRY_MAX_ATTEMPTS": 6,
    "WORK_LEASE_SECONDS": 120.0,
    "PLATFORM_TIMEOUT": 15.0,
    "UNCONFIRMED_WAIT_SECONDS": 300.0,
    # The organisation code of this service point; reports are routed to the
    # municipality they lie in, among those this service point serves.
    "SERVICE_POINT": "DSP",
    # Werkzeug's password hash method; the tests choose a fast one, production keeps scrypt.
    "PASSWORD_HASH_METHOD": "scrypt",
    # Reverse proxies in front whose X-Forwarded-For/-Proto to trust (Werkzeug ProxyFix); 0: none.
    "PROXY_FIX": 0,
    # Compressed answers (Flask-Compress) for what is large and has no secret a page reflects: JSON, the maps'
    # GeoJSON, CSV; never HTML (a form's CSRF token beside reflected input invites BREACH), and not the static
    # files, which are streamed from disk (a proxy in front compresses and caches those).
    "COMPRESS_MIMETYPES": ["application/json", "application/geo+json", "application/problem+json", "text/csv"],
    "COMPRESS_STREAMS": False,
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_MIN_SIZE": 1400,
    "COMPRESS_LEVEL": 5,
    "COMPRESS_BR_LEVEL": 4,
    # The address of that proxy, for `make run`'s waitress (which drops forwarded headers from anyone else); "*"
    # trusts whoever connects, as ProxyFix does: then only the proxy may reach the port.
    "TRUSTED_PROXY": "*",
    # Host names answered besides MELDINGEN_PUBLIC_URL's and loopback (comma-separated, e.g. an internal name).
    "TRUSTED_HOSTS_EXTRA": "",
    "MAX_IMPORT_BYTES": 200 * 1024 * 1024,
    # Abuse limits (Flask-Limiter strings), each keyed on the abuser: an account, a chat session, a key, an address.
    "LIMIT_LOGIN_ACCOUNT": "10 per minute; 30 per hour",  # failed sign-ins per account
    "LIMIT_LOGIN_IP": "60 per minute; 300 per hour",  # failed sign-ins per address (an office shares one)
    "LIMIT_CHAT_SESSION": "20 per minute; 200 per hour",  # messages per website-chat session
    "LIMIT_CHAT_IP": "120 per minute",  # messages per address, all sessions together
    "LIMIT_CHAT_NEW_SESSION_IP": "10 per minute; 60 per hour",
    "LIMIT_CHAT_POLL": "90 per minute",  # reply polls per chat session
    "LIMIT_OPEN311_POST_KEY": "60 per minute",
    "LIMIT_OPEN311_POST_IP": "30 per minute",
    "LIMIT_API": "600 per minute",  # per API token (or per address without one)
    "LIMIT_PUBLIC_IP": "120 per minute",  # public reads that cost work (geo look-ups, Open311 reads)
    "LIMIT_WEBHOOK_UNVERIFIED_IP": "30 per minute",  # refused deliveries per address, then 429
    "LIMIT_WEBHOOK_CHANNEL": "3000 per minute",  # verified deliveries per channel processed at once; the rest later
    # Days after a report is closed that the resident's words, platform id and chat texts are kept (privacy/).
    "RETENTION_DAYS": 365,
    # Report events to subscribed systems (subscriptions/, docs/webhooks.md): waits between delivery attempts (JSON
    # list of seconds; the last one repeats), attempts before a delivery is parked for administrators, the timeout
    # of one POST, and whether loopback/private addresses and plain http may receive them (tests, development).
    "WEBHOOK_RETRY_SECONDS": [10, 60, 300, 1800, 7200, 21600],
    "WEBHOOK_MAX_ATTEMPTS": 8,
    "WEBHOOK_TIMEOUT": 10.0,
    "WEBHOOK_ALLOW_PRIVATE": False,
    # Idempotency-Key (docs/api.md): how long a retry waits for the first request with its key to answer, and
    # after how long a key whose request died with its process is free again.
    "IDEMPOTENCY_WAIT_SECONDS": 10.0,
    "IDEMPOTENCY_LEASE_SECONDS": 120.0,
}

INT_KEYS = {"INTAKE_QUIET_SECONDS", "WORKER_NICE", "RETRY_MAX_ATTEMPTS", "MAX_PHOTO_BYTES", "MAX_PHOTO_PIXELS", "MAX_PHOTO_DECLARED_PIXELS",
            "INBOX_CLAIM_SECONDS", "PROXY_FIX", "MAX_IMPORT_BYTES", "RETENTION_DAYS", "WEBHOOK_MAX_ATTEMPTS"}
JSON_KEYS = {"NOTIFY_PACING_SECONDS", "NOTIFY_CONCURRENCY", "RETRY_SECONDS", "WHATSAPP_TEMPLATES", "TWILIO_TEMPLATES",
             "WEBHOOK_RETRY_SECONDS"}
FLOAT_KEYS = {"SWEEP_SECONDS", "SCHEDULER_INTERVAL", "GEOCODER_TIMEOUT", "ADDRESS_MAX_DISTANCE_M", "ASSET_MAX_DISTANCE_M",
              "CLASSIFIER_THRESHOLD", "WORK_LEASE_SECONDS", "PLATFORM_TIMEOUT", "UNCONFIRMED_WAIT_SECONDS",
              "WEBHOOK_TIMEOUT", "IDEMPOTENCY_WAIT_SECONDS", "IDEMPOTENCY_LEASE_SECONDS"}


class ConfigError(RuntimeError):
    """A setting that cannot work; the message is one line saying which and why (printed without a traceback)."""


PLACEHOLDER = "CHANGE-ME"  # what deploy/meldingen.env.example puts where a secret goes
SECRET_KEYS = ("SECRET_KEY", "METRICS_TOKEN", "DATABASE_URL")


def refuse_placeholders(app) -> None:
    """Outside development (debug or testing) a secret still holding the example's placeholder is refused."""
    if app.debug or app.testing:
        return
    for key in SECRET_KEYS:
        value = app.config.get(key)
        if isinstance(value, str) and PLACEHOLDER in value.upper():
            raise ConfigError(f"MELDINGEN_{key} still holds the placeholder {PLACEHOLDER} from the example "
                              "environment: set a real value (a secret key: python3 -c 'import secrets; "
                              "print(secrets.token_hex(32))')")


def check_timezone(app) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(app.config["TIMEZONE"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"MELDINGEN_TIMEZONE={app.config['TIMEZONE']!r} is not a time zone name such as "
                          "Europe/Amsterdam") from None


def check_database_url(url: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("MELDINGEN_DATABASE_URL is not a database URL: use sqlite:///PATH or "
                          "postgresql+psycopg://USER:PASSWORD@HOST:5432/NAME") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"MELDINGEN_DATABASE_URL names {parsed.get_backend_name()!r}: Meldingen runs on SQLite "
                          "(sqlite:///PATH) or PostgreSQL with PostGIS (postgresql+psycopg://…)")


def load_config(app, test_config: dict | None = None) -> None:
    """Fill app.config from defaults, the environment and an optional test mapping."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("MELDINGEN", loads=str)
    if test_config:
        app.config.update(test_config)
    for key in INT_KEYS:
        app.config[key] = int(app.config[key])
    for key in FLOAT_KEYS:
        app.config[key] = float(app.config[key])
    for key in JSON_KEYS:
        value = app.config[key]
        if isinstance(value, str):
            try:
                app.config[key] = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError as exc:
                raise RuntimeError(f"MELDINGEN_{key} is not valid JSON: {exc}") from None

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _stored_secret_key(instance)
    if not app.config["MEDIA_DIR"]:
        app.config["MEDIA_DIR"] = str(instance / "media")
    url = app.config["DATABASE_URL"] or f"sqlite:///{instance / 'meldingen.sqlite'}"
    if url.startswith(("postgresql://", "postgres://")):
        # psycopg 3 is the driver we ship; plain URLs would pick psycopg2.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    check_database_url(url)
    app.config["DATABASE_URL"] = url
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    check_timezone(app)
    refuse_placeholders(app)
    # Flask predefines these keys, so setdefault would do nothing: set them unless a test or the
    # environment chose otherwise.
    overridden = set(test_config or {}) | {k[len("MELDINGEN_"):] for k in os.environ if k.startswith("MELDINGEN_")}
    if "SESSION_COOKIE_SAMESITE" not in overridden:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if "SESSION_COOKIE_SECURE" not in overridden:
        app.config["SESSION_COOKIE_SECURE"] = app.config["PUBLIC_URL"].startswith("https://")
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if "RATELIMIT_STORAGE_URI" not in overridden and app.config["BROKER_URL"]:
        # Limits shared by every web process: in the Redis that already carries the job queue.
        app.config["RATELIMIT_STORAGE_URI"] = app.config["BROKER_URL"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", DEFAULTS["RATELIMIT_STORAGE_URI"])
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)


def _stored_secret_key(instance: Path) -> str:
    """A random key kept in the instance folder, so sessions survive restarts without setup."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key

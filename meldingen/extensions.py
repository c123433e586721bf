"""Flask extensions, created unbound; create_app binds them."""

from apispec.ext.marshmallow import MarshmallowPlugin
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from meldingen.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def resolve_schema_name(schema) -> str | None:
    """OpenAPI component names: the class name without "Schema"; schemas used with modifiers
    (partial=True, only=…, exclude=…) are written inline instead of clashing with the plain one."""
    if not isinstance(schema, type) and (schema.partial or schema.only or schema.exclude):
        return None
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    return name[: -len("Schema")] if name.endswith("Schema") and len(name) > 6 else name


api = Api(spec_kwargs={"marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=resolve_schema_name)})
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
compress = Compress()

"""/api/v1/geo: the places of a point and typed address search. Public data only (areas, BAG addresses),
so no token is needed."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from meldingen.geo.lookup import InvalidPoint, lookup_point
from meldingen.geo.search import search

blp = Blueprint("geo", __name__, url_prefix="/geo", description="Areas, addresses and assets of a point")


class LookupArgs(Schema):
    # Strings, so that "abc" gets lookup's own explanation rather than a generic type error.
    lat = fields.String(required=True)
    lon = fields.String(required=True)
    asset_type = fields.List(fields.String(), load_default=None,
                             metadata={"description": "only assets of these types (repeatable)"})  # fmt: skip


class SearchArgs(Schema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=300))
    limit = fields.Integer(load_default=5, validate=validate.Range(min=1, max=20))


def place_to_dict(place) -> dict:
    return {
        "areas": place.areas,
        "area_names": place.area_names,
        "organisation": place.organisation,
        "address": place.address,
        "asset": place.asset,
        "in_netherlands": place.in_netherlands,
        "served": place.organisation is not None,
    }


@blp.route("/lookup")
class Lookup(MethodView):
    @blp.arguments(LookupArgs, location="query")
    def get(self, args):
        """Municipality, district, neighbourhood, nearest address and asset, and the responsible organisation.

        A point in a municipality this service does not serve has `served: false` and the municipality's name
        in `area_names`; a point outside the Netherlands has `in_netherlands: false` and no areas.
        """
        try:
            place = lookup_point(args["lat"], args["lon"], asset_types=args.get("asset_type"))
        except InvalidPoint as exc:
            abort(400, message=str(exc))
        return place_to_dict(place)


@blp.route("/search")
class Search(MethodView):
    @blp.arguments(SearchArgs, location="query")
    def get(self, args):
        """Typed address → candidate points, best first: the local address table first, PDOK second.

        `geocoder` says whether PDOK was asked and answered ("not needed", "answered", "unavailable", "off").
        """
        outcome = search(args["q"], limit=args["limit"])
        return {
            "results": [
                {key: result[key] for key in ("lat", "lon", "address", "score", "source", "match")}
                for result in outcome.results
            ],
            "geocoder": outcome.geocoder,
        }

"""/api/v1/geo: the places of a point and typed address search. Public data only (areas, BAG addresses),
so no token is needed."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, fields, validate

from meldingen.api.schemas import NOT_ONLY_CONTROL
from meldingen.geo.lookup import InvalidPoint, PlaceInfo, lookup_point
from meldingen.geo.search import search

blp = Blueprint("geo", __name__, url_prefix="/geo", description="Areas, addresses and assets of a point")


class LookupArgs(Schema):
    lat = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=-90, max=90),
                       metadata={"example": 52.3731})
    lon = fields.Float(required=True, allow_nan=False, validate=validate.Range(min=-180, max=180),
                       metadata={"example": 4.8926})
    asset_type = fields.List(fields.String(), load_default=None,
                             metadata={"description": "only assets of these types (repeatable)"})  # fmt: skip


class AddressSchema(Schema):
    street = fields.String(allow_none=True)
    number = fields.String(allow_none=True)
    postcode = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    distance_m = fields.Float(allow_none=True)


class PlaceSchema(Schema):
    areas = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))
    area_names = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))
    organisation = fields.String(allow_none=True)
    address = fields.Dict(allow_none=True, metadata={"description": "street, number, postcode, city, distance_m"})
    asset = fields.Dict(allow_none=True, metadata={"description": "type, id, distance_m"})
    in_netherlands = fields.Boolean()
    served = fields.Boolean()


class SearchResultSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()
    address = fields.Dict(allow_none=True)
    score = fields.Float()
    source = fields.String(allow_none=True)
    match = fields.String(allow_none=True)


class SearchAnswerSchema(Schema):
    results = fields.List(fields.Nested(SearchResultSchema))
    geocoder = fields.String(metadata={"description": "not needed, answered, unavailable or off"})


class SearchArgs(Schema):
    q = fields.String(required=True, validate=[validate.Length(min=1, max=300), NOT_ONLY_CONTROL],
                      metadata={"example": "Westerdoksdijk 40A"})
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
    @blp.response(200, PlaceSchema)
    def get(self, args):
        """Municipality, district, neighbourhood, nearest address and asset, and the responsible organisation.

        A point in a municipality this service does not serve has `served: false` and the municipality's name
        in `area_names`; a point outside the Netherlands has `in_netherlands: false` and no areas.
        """
        if args["lat"] == 0 and args["lon"] == 0:
            # (0, 0) is refused as a report's place (a device without a position sends it), but as a question it
            # has an answer: the Gulf of Guinea, outside the Netherlands.
            return place_to_dict(PlaceInfo(lat=0.0, lon=0.0))
        try:
            place = lookup_point(args["lat"], args["lon"], asset_types=args.get("asset_type"))
        except InvalidPoint as exc:
            abort(400, message=str(exc))
        return place_to_dict(place)


@blp.route("/search")
class Search(MethodView):
    @blp.arguments(SearchArgs, location="query")
    @blp.response(200, SearchAnswerSchema)
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

"""/api/v1/classify: category suggestions for a text, best first, over the active categories."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from meldingen.api.auth import token_required
from meldingen.classify.services import suggest_categories

blp = Blueprint("classify", __name__, url_prefix="/classify", description="Category suggestions")


class ClassifyRequest(Schema):
    text = fields.String(required=True, metadata={"description": "the resident's words; long texts are cut"})
    k = fields.Integer(load_default=3, validate=validate.Range(min=1, max=10))


class SuggestionSchema(Schema):
    main_slug = fields.String()
    sub_slug = fields.String()
    confidence = fields.Float()


class ClassifyResponse(Schema):
    suggestions = fields.List(fields.Nested(SuggestionSchema))


@blp.route("")
class Classify(MethodView):
    @token_required("classify")
    @blp.arguments(ClassifyRequest)
    @blp.response(200, ClassifyResponse)
    @blp.doc(security=[{"bearer": []}])
    def post(self, args):
        """Suggested categories for a text, best first, with a calibrated confidence (0..1).

        An empty text gets no suggestions; deactivated categories are never suggested.
        """
        return {"suggestions": suggest_categories(args["text"], k=args["k"])}

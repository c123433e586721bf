"""Install the input guards on an app: safe JSON bodies, cleaned form and query values, bounded path converters.

Called by `create_app` before any blueprint is registered, so every route is built with these converters.
"""

from __future__ import annotations

import json

from flask import Flask, Request
from flask_smorest.arguments import ArgumentsMixin
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import ImmutableMultiDict

from meldingen.inputs.bounds import CONVERTERS, MAX_ID
from meldingen.inputs.jsonbody import JSONRefused, SafeJSONProvider, parse_json
from meldingen.inputs.text import clean_pairs


class CleanMultiDict(ImmutableMultiDict):
    """Query and form parameters with NUL, lone surrogates and control characters removed from keys and values."""

    def __init__(self, mapping=None):
        if mapping is None:
            super().__init__()
        elif isinstance(mapping, dict) and not hasattr(mapping, "lists"):
            super().__init__(clean_pairs(mapping.items()))
        elif hasattr(mapping, "lists"):
            super().__init__(clean_pairs((k, v) for k, values in mapping.lists() for v in values))
        else:
            super().__init__(clean_pairs(mapping))


    def get(self, key, default=None, type=None):
        """As MultiDict.get; with `type=int`, a number outside what an id column holds counts as invalid (the
        default), so `?after=9…9` or a form's `id=9…9` never reaches the database."""
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and value is not default and not -MAX_ID <= value <= MAX_ID:
            return default
        return value


class CleanRequest(Request):
    parameter_storage_class = CleanMultiDict


class SafeArgumentsParser(FlaskParser):
    """webargs (flask-smorest's `@blp.arguments`) parses JSON itself: with the depth limit and cleaning too."""

    def _raw_load_json(self, req):
        from webargs import core

        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        if not data:
            return core.missing
        try:
            return parse_json(data)
        except JSONRefused as exc:
            raise json.JSONDecodeError(str(exc), str(exc), 0) from None

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        from flask_smorest import abort

        reason = error.msg if isinstance(error, json.JSONDecodeError) else "body is not UTF-8"
        abort(400, exc=error, messages={"json": [reason]})


def install_input_guards(app: Flask) -> None:
    # flask-smorest reads its parser from this class attribute; every API blueprint gets the safe one.
    if not isinstance(ArgumentsMixin.ARGUMENTS_PARSER, SafeArgumentsParser):
        ArgumentsMixin.ARGUMENTS_PARSER = SafeArgumentsParser()
    app.json = SafeJSONProvider(app)
    app.request_class = CleanRequest
    app.url_map.converters.update(CONVERTERS)

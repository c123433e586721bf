"""Open311 GeoReport v2 server: services from the category tree, service requests from the same report pipeline.

`services` holds the operations (filters, creation, API keys), `serialise` the spec's JSON and XML shapes,
and `views` the thin `/open311/v2/…` blueprint. What is supported is described in docs/open311.md.
"""

"""Report events for systems that subscribed a URL (a municipality's case system): Standard Webhooks, at least once.

`models.py` the subscriptions and their outbox of deliveries; `services.py` subscribing, and writing an event's
deliveries in the transaction of the change; `signing.py` the Standard Webhooks signature; `delivery.py` one
attempt (claim, POST, record) and the sweep; `tasks.py` the background tasks; `cli.py` the commands. What an event
carries (the report as the API shows it to the organisation) is rendered by `api/events.py`, which the app
factory connects to the domain's signals.
"""

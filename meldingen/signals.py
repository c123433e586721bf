"""The named reactions of the domain: what happened, for whoever must react, connected in `create_app`.

A service that makes or changes something sends one of these inside its transaction (after it flushed), with
the object as the sender and what a receiver needs as keywords. Receivers are connected explicitly by the app
factory (`meldingen.create_app` → `register_reactions`), never at import, so reading the factory tells every
reaction there is. A receiver does its work in the same session and transaction: it flushes, never commits.

Signals are blinker's; `signal.send(sender, **kw)` returns the receivers' results.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# A report was made by the pipeline (chat, website chat, API, Open311, staff). sender: the Report;
# keywords: new (the NewReport it was made from).
report_created = _signals.signal("report-created")

# A report was found to be a duplicate and joined to a known one. sender: the known (root) Report;
# keywords: duplicate (the Report joined to it, or None when no new report was kept), reporter (the resident
# who now follows the known report, or None).
report_merged = _signals.signal("report-merged")

# A report's status changed through the status table. sender: the Report; keywords: previous, new_status,
# resident_message (the text staff chose to send residents, or None), actor.
status_changed = _signals.signal("status-changed")

# A report's category changed. sender: the Report; keywords: previous (the category before), actor.
category_changed = _signals.signal("category-changed")

# A resident's message was stored and its media fetched: the intake takes it from here. sender: the
# InboundMessage; keywords: event, channel, photo_ids, media_errors. Exactly one receiver must be connected.
message_received = _signals.signal("message-received")

# A resident's message was taken in by the intake (in the transaction that marks its event done): what confirms
# it to the resident reacts (the read receipt). sender: the InboundMessage; keywords: event, channel.
message_processed = _signals.signal("message-processed")

# A platform reported what became of a message we sent (sent, delivered, read, failed). sender: the
# DeliveryStatus, stored once by `channels`; the outbox records it (notify/delivery.py).
delivery_reported = _signals.signal("delivery-reported")

# The sample data were loaded (`meldingen load-sample-data`). sender: the app.
sample_data_loaded = _signals.signal("sample-data-loaded")

"""Chat channels: each platform's webhook contract (signature, payload shape) and outbound API, in one place per platform.

`adapter` holds the one protocol every platform implements (`ChannelAdapter`), `adapters` the adapters by kind;
nothing outside this package branches on a platform's kind.

`messages` holds the normalised inbound message every platform parser produces; `base` the outbound HTTP
rules shared by the platform clients (timeouts, retryable errors, credentials scoped to the platform host).
"""

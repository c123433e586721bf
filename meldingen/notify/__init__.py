"""Notify: reply templates and the outbox that carries messages to residents."""

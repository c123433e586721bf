"""Calls to chat platforms share one HTTP client per process (a new client costs 20-50 ms of TLS set-up each)."""

from __future__ import annotations

import os

from meldingen.channels import http


def test_every_call_in_a_process_gets_the_same_open_client():
    first = http.platform_client()
    assert http.platform_client() is first and not first.is_closed


def test_a_closed_client_or_a_forked_process_gets_a_new_one(monkeypatch):
    first = http.platform_client()
    monkeypatch.setattr(http, "_owner_pid", os.getpid() + 1)  # as a child made by fork sees it
    second = http.platform_client()
    assert second is not first
    second.close()
    third = http.platform_client()
    assert third is not second and not third.is_closed

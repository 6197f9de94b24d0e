"""The webhook sender: signs (Standard Webhooks) and POSTs outbox rows to configured URLs."""

from authd.webhooks._sender import Endpoint, HttpSender

__all__ = ["Endpoint", "HttpSender"]

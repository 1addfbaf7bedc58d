"""Outward channels. Each sends one message or raises; the delivery loop retries with back-off.

`log` writes JSON lines to a file (the demo's channel); `sms` posts to an SMS gateway and `webhook` to any URL,
both configured per deployment. New channels register themselves in CHANNELS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from fanzha.config import get_settings


@dataclass
class Message:
    user_id: int
    username: str
    phone: str
    title: str
    body: str
    link: str


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None: ...


class LogChannel:
    name = "log"

    def __init__(self, path: Path | None = None):
        self.path = path or get_settings().data_dir / "notifications.log"

    def send(self, message: Message) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(message.__dict__, ensure_ascii=False) + "\n")


class SmsGatewayChannel:
    """Posts {phone, text} to the deployment's SMS gateway (FANZHA_SMS_GATEWAY_URL)."""

    name = "sms"

    def __init__(self, url: str, timeout: float = 5.0):
        self.url, self.timeout = url, timeout

    def send(self, message: Message) -> None:
        if not message.phone:
            raise ValueError("用户没有登记手机号")
        r = httpx.post(self.url, json={"phone": message.phone, "text": f"{message.title} {message.body}"[:300]},
                       timeout=self.timeout)
        r.raise_for_status()


class WebhookChannel:
    """Posts the whole message as JSON to FANZHA_WEBHOOK_URL (a duty system, a chat bot …)."""

    name = "webhook"

    def __init__(self, url: str, timeout: float = 5.0):
        self.url, self.timeout = url, timeout

    def send(self, message: Message) -> None:
        httpx.post(self.url, json=message.__dict__, timeout=self.timeout).raise_for_status()


def configured_channels() -> dict[str, Channel]:
    settings = get_settings()
    channels: dict[str, Channel] = {}
    for name in [c.strip() for c in settings.notify_channels.split(",") if c.strip()]:
        if name == "log":
            channels[name] = LogChannel()
        elif name == "sms" and settings.sms_gateway_url:
            channels[name] = SmsGatewayChannel(settings.sms_gateway_url)
        elif name == "webhook" and settings.webhook_url:
            channels[name] = WebhookChannel(settings.webhook_url)
    return channels

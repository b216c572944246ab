"""What the app that embeds the service negotiates: the language of texts, and revalidation of reference data.

Language. Core answers carry every customer text twice (`explanation_zh` / `explanation_en`, or
`{"zh": …, "en": …}`). `Accept-Language` chooses: a header preferring Chinese (or none at all) keeps the
Chinese half, one preferring English keeps the English half, and a header that ranks both equally
(`Accept-Language: zh-CN, en`, or `*`) keeps both — what relationship managers' tools ask for. Only
pairs are touched: a text that exists in one language only is always kept. The answer says which in
`Content-Language` and varies on `Accept-Language`.

Reference data (fund shelf, one fund, leaderboard, questionnaire, model portfolios) carries a weak
`ETag` (a hash of the answer as sent) and `Cache-Control: private, no-cache`, so the app revalidates
with `If-None-Match` and gets an empty 304 while nothing changed. Routes opt in with the
`ReferenceData` dependency.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ZH, EN, BOTH = "zh-CN", "en", "zh-CN, en"
REFERENCE_FLAG = "reference_data"


def language_of(header: str | None) -> str:
    """ZH, EN or BOTH from an Accept-Language header (absent or unsupported: ZH)."""
    if not header:
        return ZH
    best: dict[str, float] = {}
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if tag == "*":
            best["zh"] = max(best.get("zh", 0.0), quality)
            best["en"] = max(best.get("en", 0.0), quality)
        elif tag.startswith("zh"):
            best["zh"] = max(best.get("zh", 0.0), quality)
        elif tag.startswith("en"):
            best["en"] = max(best.get("en", 0.0), quality)
    zh, en = best.get("zh", 0.0), best.get("en", 0.0)
    if zh == en:
        return BOTH if zh > 0 else ZH
    return ZH if zh > en else EN


def pick_language(value: Any, language: str) -> Any:
    """`value` with the other half of every zh/en text pair removed (nothing removed for BOTH)."""
    if language == BOTH:
        return value
    drop = "en" if language == ZH else "zh"
    keep = "zh" if drop == "en" else "en"
    return _pick(value, drop, keep)


def _pick(value: Any, drop: str, keep: str) -> Any:
    if isinstance(value, list):
        return [_pick(v, drop, keep) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key == drop and keep in value:
            continue
        if key.endswith(f"_{drop}") and f"{key[: -len(drop)]}{keep}" in value:
            continue
        out[key] = _pick(item, drop, keep)
    return out


async def mark_reference_data(request: Request) -> None:
    request.state.reference_data = True


ReferenceData = Annotated[None, Depends(mark_reference_data)]


class ContentNegotiation:
    """Pure-ASGI: language of texts for JSON answers under /v1, ETag / 304 for reference data."""

    def __init__(self, app: ASGIApp, prefix: str = "/v1") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        language = language_of(headers.get("accept-language"))
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffered_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._finish(scope, send, start, b"".join(chunks), language, headers)

        await self.app(scope, receive, buffered_send)

    async def _finish(self, scope: Scope, send: Send, start: Message, body: bytes, language: str,
                      request_headers: dict[str, str]) -> None:
        status = int(start["status"])
        response_headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        content_type = next((v for k, v in response_headers if k.lower() == b"content-type"), b"")
        if content_type.startswith(b"application/json") and body:
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            if payload is not None and language != BOTH:
                body = json.dumps(pick_language(payload, language), ensure_ascii=False,
                                  separators=(",", ":")).encode()
            response_headers += [(b"content-language", language.encode()), (b"vary", b"Accept-Language")]
        state = scope.get("state") or {}
        if state.get(REFERENCE_FLAG) and scope.get("method") in ("GET", "HEAD") and status == 200:
            etag = f'W/"{hashlib.sha256(body).hexdigest()[:20]}"'
            response_headers += [(b"etag", etag.encode()), (b"cache-control", b"private, no-cache")]
            if etag in {t.strip() for t in request_headers.get("if-none-match", "").split(",")}:
                status, body = 304, b""
                response_headers = [(k, v) for k, v in response_headers if k.lower() != b"content-type"]
        response_headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})

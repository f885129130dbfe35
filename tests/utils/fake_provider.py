"""A fake WhatsApp provider for tests: a real HTTP server (uvicorn serving a tiny Starlette
app on a loopback port, in a thread with its own event loop) that takes both Gupshup's
`POST /wa/api/v1/msg` (and its wallet, `GET /sm/api/v2/wallet/balance`) and Meta's
`POST /{version}/{phone_number_id}/messages`.

It records every request (with the time it arrived, `at`) and answers as the provider
would: Gupshup `202 {"status": "submitted", "messageId": ...}`, Meta `200 {"messages":
[{"id": "wamid..."}], ...}`, each with a new id. `script([...])` queues what the next
requests get instead, one step per request: "timeout" (no answer for `timeout_sleep`
seconds, cut short when the server stops), a status code (that code with a provider-shaped
error body) or a `Reply`. `on_request`, when set, is called with each send request (in
the fake's thread) before it is answered: a test can make something happen at the moment
the provider takes a message.

    with FakeProvider(timeout_sleep=2) as fake:
        fake.script(["timeout", 500, Reply(429, headers={"Retry-After": "3"})])
        ...  # send with fake.gupshup_credentials() or fake.meta_credentials()
        assert fake.requests[0].message["type"] == "text"

Usable from sync and async tests alike: the server runs on its own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from resolvers.delivery import GupshupCredentials, MetaCredentials

GUPSHUP_PATH = "/wa/api/v1/msg"
GUPSHUP_TEMPLATE_PATH = "/wa/api/v1/template/msg"
GUPSHUP_WALLET_PATH = "/sm/api/v2/wallet/balance"
META_PATH = re.compile(r"^/(?P<version>v[0-9.]+)/(?P<phone_number_id>[^/]+)/messages$")
META_MEDIA_PATH = re.compile(r"^/(?P<version>v[0-9.]+)/(?P<media_id>[^/]+)$")
META_DOWNLOAD_PREFIX = "/meta-media/"
Provider = Literal["gupshup", "meta"]
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True)
class Reply:
    """A scripted answer: `body` is sent as JSON unless `text` is given (sent as is)."""

    status: int
    body: Any = None
    text: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


Step = Literal["timeout"] | int | Reply


@dataclass
class FakeRequest:
    """One request as the fake saw it, and what it answered (`status` None: no answer)."""

    provider: Provider | None
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    form: dict[str, str] | None = None
    json: Any = None
    status: int | None = None
    reply: Any = None
    # When it arrived (time.monotonic() of the test process): rate limits are checked on it.
    at: float = field(default_factory=time.monotonic)

    @property
    def message(self) -> Any:
        """Gupshup's `message` form field, decoded."""
        assert self.form is not None, f"{self.path} had no form body"
        return json.loads(self.form["message"])


class FakeProvider:
    # What Gupshup's wallet (`GET /sm/api/v2/wallet/balance`) reports.
    balance: float = 12.5
    # Meta's media (`GET /{version}/{media_id}`, then the URL it names): the ids it knows,
    # and the one file it hands over for each.
    media_ids: frozenset[str] = frozenset()
    media_bytes: bytes = b"\xff\xd8\xff a photo of homework \xff\xd9"
    media_mime: str = "image/jpeg"

    def __init__(self, *, timeout_sleep: float = 5.0) -> None:
        self.timeout_sleep = timeout_sleep
        self.on_request: Callable[[FakeRequest], None] | None = None
        self._lock = threading.Lock()
        self._requests: list[FakeRequest] = []
        self._script: deque[Step] = deque()
        self._loop = asyncio.new_event_loop()
        self._stopping = asyncio.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        config = uvicorn.Config(
            # One catch-all route: every request is recorded, even one to a wrong path.
            Starlette(routes=[Route("/{path:path}", self._handle, methods=ALL_METHODS)]),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._loop.run_until_complete,
            args=(self._server.serve(sockets=[self._sock]),),
            daemon=True,
        )

    # --- control, from the test's thread -------------------------------------------------

    def start(self) -> FakeProvider:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake provider did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            # Wake any "timeout" step first, so shutdown does not wait for it.
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._server.should_exit = True
            self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()
        self._sock.close()

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def script(self, steps: Iterable[Step]) -> None:
        """Queue answers for the next requests, in order; after them, success again."""
        with self._lock:
            self._script.extend(steps)

    def reset(self) -> None:
        """Forget the requests and any steps not yet used (for a fake shared by tests)."""
        with self._lock:
            self._requests.clear()
            self._script.clear()

    @property
    def requests(self) -> list[FakeRequest]:
        with self._lock:
            return list(self._requests)

    def gupshup_credentials(self, **overrides: Any) -> GupshupCredentials:
        values: dict[str, Any] = {
            "app_name": "glific-test-app",
            "api_key": "gupshup-test-key",
            "source_number": "919900000001",
        }
        return GupshupCredentials(**(values | overrides), api_url=self.url)

    def meta_credentials(self, **overrides: Any) -> MetaCredentials:
        values: dict[str, Any] = {
            "access_token": "meta-test-token",
            "phone_number_id": "106540352242922",
        }
        return MetaCredentials(**(values | overrides), api_url=self.url)

    # --- the server, on its own loop -------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        record = await _record(request)
        with self._lock:
            self._requests.append(record)
        if request.method == "GET" and (found := META_MEDIA_PATH.match(request.url.path)):
            return self._answer(record, self._meta_media(request, found["media_id"]))
        if request.method == "GET" and request.url.path.startswith(META_DOWNLOAD_PREFIX):
            if not request.headers.get("authorization", "").startswith("Bearer "):
                return self._answer(record, _error("meta", 401))
            return Response(self.media_bytes, media_type=self.media_mime)
        if request.url.path == GUPSHUP_WALLET_PATH and request.method == "GET":
            if not request.headers.get("apikey"):
                return self._answer(record, _error("gupshup", 401))
            return self._answer(record, Reply(200, {"status": "success", "balance": self.balance}))
        if record.provider is None or request.method != "POST":
            return self._answer(record, Reply(404, {"error": f"no route {request.url.path}"}))
        with self._lock:
            step = self._script.popleft() if self._script else None
        if self.on_request is not None:
            self.on_request(record)
        if step == "timeout":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.timeout_sleep)
            # The client has given up by now; whatever is sent here goes nowhere.
            return Response(status_code=503)
        if step is None:
            return self._answer(record, _success(record))
        if isinstance(step, int):
            return self._answer(record, _error(record.provider, step))
        return self._answer(record, step)

    def _meta_media(self, request: Request, media_id: str) -> Reply:
        """Meta's media lookup: a download URL (on this fake) and the file's type."""
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return _error("meta", 401)
        if media_id not in self.media_ids:
            return _error("meta", 400)
        return Reply(
            200,
            {
                "messaging_product": "whatsapp",
                "url": f"{self.url}{META_DOWNLOAD_PREFIX}{media_id}",
                "mime_type": self.media_mime,
                "id": media_id,
            },
        )

    def _answer(self, record: FakeRequest, reply: Reply) -> Response:
        with self._lock:
            record.status = reply.status
            record.reply = reply.text if reply.text is not None else reply.body
        if reply.text is not None:
            return Response(reply.text, status_code=reply.status, headers=dict(reply.headers))
        return JSONResponse(reply.body, status_code=reply.status, headers=dict(reply.headers))


async def _record(request: Request) -> FakeRequest:
    body = await request.body()
    path = request.url.path
    provider: Provider | None = (
        "gupshup"
        if path in (GUPSHUP_PATH, GUPSHUP_TEMPLATE_PATH)
        else "meta"
        if META_PATH.match(path)
        else None
    )
    record = FakeRequest(provider, request.method, path, dict(request.headers), body)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        return replace(record, form=dict(parse_qsl(body.decode(), keep_blank_values=True)))
    if content_type.startswith("application/json"):
        try:
            return replace(record, json=json.loads(body))
        except ValueError:
            return record
    return record


def _success(record: FakeRequest) -> Reply:
    if record.provider == "gupshup":
        return Reply(202, {"status": "submitted", "messageId": str(uuid.uuid4())})
    to = (record.json or {}).get("to", "")
    return Reply(
        200,
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": f"wamid.{uuid.uuid4().hex}"}],
        },
    )


def _error(provider: Provider | None, status: int) -> Reply:
    """What each provider sends with that status, near enough."""
    if provider == "gupshup":
        return Reply(status, {"status": "error", "message": f"fake Gupshup error {status}"})
    code = {400: 100, 401: 190, 429: 130429}.get(status, 1)
    error = {
        "message": f"fake Meta error {status}",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": uuid.uuid4().hex[:20],
    }
    return Reply(status, {"error": error})

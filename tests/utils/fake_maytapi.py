"""A fake Maytapi for tests: the same real HTTP server on loopback as FakeProvider (whose
recording, scripting and threading it reuses), answering Maytapi's API:

- `POST /api/{product_id}/{phone_id}/sendMessage` -> `{"success": true, "data": {"msgId":
  <new id>}}` (or the next scripted step: "timeout", a status code, a `Reply`);
- `GET /api/{product_id}/listPhones` -> `phones` (a JSON array, as Maytapi answers);
- `GET /api/{product_id}/{phone_id}/getGroups` -> `{"success": true, "data":
  groups[phone_id]}`.

A request without the right `x-maytapi-key` gets 401 `{"success": false, ...}`.

    with FakeMaytapi() as fake:
        fake.phones = [{"id": 1150, "number": "917834811114", "status": "active"}]
        fake.script([500])
        ...
        assert fake.sent("prod-1")[0].json["to_number"] == "1203...@g.us"
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tests.utils.fake_provider import FakeProvider, FakeRequest, Reply, _record

TOKEN = "maytapi-test-token"
SEND_PATH = re.compile(r"^/api/(?P<product>[^/]+)/(?P<phone>\d+)/sendMessage$")
PHONES_PATH = re.compile(r"^/api/(?P<product>[^/]+)/listPhones$")
GROUPS_PATH = re.compile(r"^/api/(?P<product>[^/]+)/(?P<phone>\d+)/getGroups$")


class FakeMaytapi(FakeProvider):
    def __init__(self, *, token: str = TOKEN, timeout_sleep: float = 2.0) -> None:
        super().__init__(timeout_sleep=timeout_sleep)
        self.token = token
        self.phones: list[dict[str, Any]] = []
        self.groups: dict[int, list[dict[str, Any]]] = {}

    def __enter__(self) -> FakeMaytapi:
        self.start()
        return self

    def sent(self, product_id: str) -> list[FakeRequest]:
        """The sendMessage requests made for that product, in order."""
        return [
            r
            for r in self.requests
            if (m := SEND_PATH.match(r.path)) is not None and m["product"] == product_id
        ]

    async def _handle(self, request: Request) -> Response:
        record = await _record(request)
        with self._lock:
            self._requests.append(record)
        if request.headers.get("x-maytapi-key") != self.token:
            return self._answer(record, Reply(401, {"success": False, "message": "Invalid key"}))
        path = request.url.path
        if request.method == "GET" and PHONES_PATH.match(path):
            return self._answer(record, Reply(200, self.phones))
        if request.method == "GET" and (found := GROUPS_PATH.match(path)):
            data = self.groups.get(int(found["phone"]), [])
            return self._answer(record, Reply(200, {"success": True, "data": data}))
        if request.method != "POST" or not SEND_PATH.match(path):
            return self._answer(record, Reply(404, {"success": False, "message": "no route"}))
        with self._lock:
            step = self._script.popleft() if self._script else None
        if self.on_request is not None:
            self.on_request(record)
        if step == "timeout":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.timeout_sleep)
            return Response(status_code=503)
        if step is None:
            msg_id = f"{uuid.uuid4().hex}"
            return self._answer(record, Reply(200, {"success": True, "data": {"msgId": msg_id}}))
        if isinstance(step, int):
            reply = Reply(step, {"success": False, "message": f"fake Maytapi error {step}"})
            return self._answer(record, reply)
        return self._answer(record, step)

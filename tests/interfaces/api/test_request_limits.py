"""Bodies are bounded before any work: a request without a valid key is answered 401 from its
headers (the server reads none of its body), a JSON body over 1 MB and an upload over the limit
are 413 problems, and a body without a declared length is cut off as soon as it passes the cap."""

from __future__ import annotations

import httpx
import pytest

from proactive_sms.interfaces.api.app import create_app

MB = 1024 * 1024


class CountedBody:
    """A request body of `total` bytes, counting how much of it the server pulled."""

    def __init__(self, total: int, chunk: bytes = b" " * (64 * 1024),
                 prefix: bytes = b"") -> None:
        self.total = total
        self.chunk = chunk
        self.prefix = prefix
        self.pulled = 0

    async def __aiter__(self):
        if self.prefix:
            self.pulled += len(self.prefix)
            yield self.prefix
        while self.pulled < self.total:
            self.pulled += len(self.chunk)
            yield self.chunk


async def _post(app, path: str, body: CountedBody, headers: dict[str, str],
                length: bool = True) -> httpx.Response:
    if length:
        headers = {**headers, "Content-Length": str(body.total)}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        return await client.post(path, content=body, headers=headers)


@pytest.mark.parametrize("declared_length", [True, False])
async def test_a_large_body_without_a_key_is_refused_unread(engine, clock, declared_length):
    body = CountedBody(50 * MB, prefix=b'{"name": "x", "pad": "')
    response = await _post(create_app(engine, clock), "/v1/campaigns", body,
                           {"Content-Type": "application/json"}, declared_length)
    assert body.pulled < MB, f"the server read {body.pulled} bytes before refusing"
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_json_body_over_the_cap_is_a_413_problem_unread(engine, clock, key_a):
    body = CountedBody(50 * MB, prefix=b'{"name": "x", "pad": "')
    response = await _post(create_app(engine, clock), "/v1/campaigns", body,
                           {**key_a, "Content-Type": "application/json"})
    assert body.pulled < MB, f"the server read {body.pulled} bytes before refusing"
    assert response.status_code == 413
    problem = response.json()
    assert problem["errors"][0]["field"] == "body"
    assert "larger than the limit of 1 MB" in problem["detail"]


async def test_a_chunked_json_body_is_cut_off_at_the_cap(engine, clock, key_a):
    body = CountedBody(50 * MB, prefix=b'{"name": "x", "pad": "')
    response = await _post(create_app(engine, clock), "/v1/campaigns", body,
                           {**key_a, "Content-Type": "application/json"}, length=False)
    assert response.status_code == 413
    assert body.pulled < 2 * MB


async def test_an_upload_over_the_limit_is_a_413_problem(engine, clock, key_a):
    app = create_app(engine, clock, max_upload_bytes=1 * MB)
    boundary = "psmsboundary"
    prefix = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
              f"filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\n"
              "ExternalId,PhoneNumber\r\n").encode()
    body = CountedBody(3 * MB, chunk=b"C1,2125550123\r\n" * 4000, prefix=prefix)
    response = await _post(app, "/v1/calling-lists/big/imports", body,
                           {**key_a, "Content-Type": f"multipart/form-data; boundary={boundary}"},
                           length=False)
    assert response.status_code == 413, response.text
    assert "upload is larger than the limit of 1 MB" in response.json()["detail"]
    assert body.pulled < 2 * MB


def test_the_upload_limit_comes_from_the_setting(engine, clock, monkeypatch):
    monkeypatch.setenv("PSMS_MAX_UPLOAD_MB", "lots")
    with pytest.raises(ValueError, match="PSMS_MAX_UPLOAD_MB must be a number"):
        create_app(engine, clock)

"""The Action API of a remote MediaWiki (api.php), trusting nothing it says.

Every request asks for ``format=json&formatversion=2`` and sends ``maxlag``;
an answer that says the wiki lags (MediaWiki's ``maxlag`` error, or HTTP 429
or 503 with Retry-After) is waited out a bounded number of times, then given
up with a clear error. Requests are spaced to a configurable rate. An answer
is streamed and cut at a byte bound and a deadline, so an endless or 10 GB
answer is refused without being held. MediaWiki's ``error`` shape, HTML where
JSON was asked for, and cut-off JSON all become one exception class,
:class:`MediaWikiError`, whose message names the wiki and the problem (never
a request's parameters: a password may be among them).

The session keeps its cookies, so ``post()`` and ``token()`` serve logging in
and editing (mediawiki/push). ``query_all()`` follows ``continue`` and
refuses a continuation that repeats itself.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from wikipeer import __version__
from wikipeer.net.client import PeerError, allowed, tls_context

MAX_ANSWER = 256 * 1024 * 1024
"""Bytes of one answer: 50 revisions with content at MediaWiki's 2 MiB text limit fit, 10 GB does not."""
ANSWER_DEADLINE = 300.0
"""Seconds for one whole answer, however slowly it trickles."""
DEFAULT_RATE = 10.0
"""Requests per second by default: MediaWiki's etiquette asks for serial requests at a modest pace."""
DEFAULT_MAXLAG = 5
MAX_RETRIES = 5
MAX_WAIT = 60.0
"""Longest single wait a Retry-After may impose; a wiki asking for more is waited for this long."""
CONTACT_ENV = "WIKIPEER_CONTACT"
"""A URL or e-mail address where the node's operator can be reached, put in the User-Agent
(Wikimedia's User-Agent policy asks for one); none by default."""


class MediaWikiError(PeerError):
    """A MediaWiki answered with an error or could not be used; the message names the wiki and the problem.

    ``code`` and ``info`` are MediaWiki's own when it answered with its error shape
    (``maxlag``, ``editconflict``, ``protectedpage``...), else ``code`` names our finding
    (``http``, ``html``, ``badjson``, ``toolarge``, ``unreachable``, ``loop``).
    """

    def __init__(self, url: str, problem: str, code: str = "", info: str = "") -> None:
        super().__init__(f"MediaWiki at {url}: {problem}")
        self.url, self.problem, self.code, self.info = url, problem, code, info


@dataclass(slots=True)
class QueryBatch:
    """One answer of a continued query: its ``query`` part and the continuation that resumes after it."""

    query: dict[str, Any]
    next: dict[str, str] | None
    answer: dict[str, Any]


def user_agent(node_key: str = "", contact: str | None = None) -> str:
    """``wikipeer/VERSION (node KEYPREFIX; CONTACT)``: who asks, as MediaWiki's User-Agent policy wants.

    ``contact`` defaults to $WIKIPEER_CONTACT; left out when there is none.
    """
    contact = contact if contact is not None else os.environ.get(CONTACT_ENV, "").strip()
    parts = [p for p in (f"node {node_key[:16]}" if node_key else "", contact) if p]
    return f"wikipeer/{__version__}" + (f" ({'; '.join(parts)})" if parts else "")


class RemoteWiki:
    """The api.php at ``url``: GET and POST with bounds, waits and one error class; keeps cookies."""

    def __init__(self, url: str, *, node_key: str = "", contact: str | None = None, rate: float = DEFAULT_RATE,
                 maxlag: int | None = DEFAULT_MAXLAG, max_retries: int = MAX_RETRIES, max_wait: float = MAX_WAIT,
                 max_answer: int = MAX_ANSWER, deadline: float = ANSWER_DEADLINE, timeout: float = 30.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise MediaWikiError(url, "its address must start with http:// or https:// (the api.php URL)", "url")
        if not allowed(url):
            raise MediaWikiError(url, "not an allowed address (WIKIPEER_ALLOW_HOSTS)", "url")
        self.url = url
        self.rate, self.maxlag, self.max_retries, self.max_wait = rate, maxlag, max_retries, max_wait
        self.max_answer, self.deadline = max_answer, deadline
        self.http = httpx.Client(timeout=timeout, follow_redirects=False, verify=tls_context(),
                                 headers={"user-agent": user_agent(node_key, contact)})
        self.requests = 0
        self.bytes_in = 0
        self._last = 0.0
        self._tokens: dict[str, str] = {}
        # One request at a time, whichever thread asks (a pull fetches ahead in a thread): MediaWiki's
        # etiquette asks for serial requests, and the rate is kept across threads.
        self._serial = threading.Lock()

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RemoteWiki:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ----------------------------------------------------------------------------

    def get(self, **params: Any) -> dict[str, Any]:
        """GET api.php with ``params``; the decoded answer, or MediaWikiError."""
        return self._call("GET", params)

    def post(self, files: dict[str, tuple[str, bytes, str]] | None = None, **params: Any) -> dict[str, Any]:
        """POST api.php with ``params`` as a form (edits, logins); the decoded answer, or MediaWikiError.

        ``files`` (field -> (file name, bytes, MIME type)) sends a multipart form, as ``action=upload`` needs.
        """
        return self._call("POST", params, files)

    def token(self, kind: str = "csrf") -> str:
        """A token of this session (``csrf``, ``login``...), asked once and kept until ``forget_tokens``."""
        if kind not in self._tokens:
            answer = self.get(action="query", meta="tokens", type=kind)
            value = answer.get("query", {}).get("tokens", {}).get(f"{kind}token")
            if not isinstance(value, str):
                raise MediaWikiError(self.url, f"gave no {kind} token", "notoken")
            self._tokens[kind] = value
        return self._tokens[kind]

    def forget_tokens(self) -> None:
        """Drop the kept tokens (after logging in or out, or a ``badtoken`` error)."""
        self._tokens.clear()

    def query_all(self, resume: dict[str, str] | None = None, **params: Any) -> Iterator[QueryBatch]:
        """``action=query`` with ``params``, following ``continue`` from ``resume``; one QueryBatch per answer.

        A continuation seen before would loop for ever: it is refused.
        """
        seen: set[str] = set()
        cont = dict(resume) if resume else None
        while True:
            answer = self.get(action="query", **params, **(cont or {}))
            nxt = answer.get("continue")
            if nxt is not None and (not isinstance(nxt, dict)
                                    or not all(isinstance(v, (str, int)) for v in nxt.values())):
                raise MediaWikiError(self.url, "answered a malformed continuation", "badjson")
            nxt = {str(k): str(v) for k, v in nxt.items()} if nxt else None
            query = answer.get("query", {})
            if not isinstance(query, dict):
                raise MediaWikiError(self.url, "answered a query without its 'query' object", "badjson")
            if nxt is not None:
                key = json.dumps(nxt, sort_keys=True)
                if key in seen or nxt == cont:
                    raise MediaWikiError(self.url, f"repeats the continuation {key} it gave before "
                                         "(following it would never end)", "loop")
                seen.add(key)
            yield QueryBatch(query, nxt, answer)
            if nxt is None:
                return
            cont = nxt

    def download(self, url: str, max_bytes: int) -> bytes:
        """The bytes at ``url`` (a file's imageinfo url), paced like every request, at most ``max_bytes``.

        Only http(s) addresses this node may reach (WIKIPEER_ALLOW_HOSTS) are
        fetched; an answer other than 200, a larger body or one slower than the
        deadline is a MediaWikiError naming the URL.
        """
        if not url.startswith(("http://", "https://")) or not allowed(url):
            raise MediaWikiError(self.url, f"gave the file address {url!r}, which this node does not fetch", "url")
        with self._serial:
            self._pace()
            self.requests += 1
            end = time.monotonic() + self.deadline
            try:
                with self.http.stream("GET", url) as response:
                    if response.status_code != 200:
                        raise MediaWikiError(self.url, f"answered HTTP {response.status_code} for the file {url}",
                                             "http")
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        self.bytes_in += len(chunk)
                        if len(body) > max_bytes:
                            raise MediaWikiError(self.url, f"sent more than {max_bytes} bytes for the file {url}",
                                                 "toolarge")
                        if time.monotonic() > end:
                            raise MediaWikiError(self.url, f"took longer than {self.deadline:.0f} s to send the "
                                                 f"file {url}", "toolarge")
                    return bytes(body)
            except httpx.HTTPError as exc:
                raise MediaWikiError(self.url, f"broke off sending the file {url} ({type(exc).__name__})",
                                     "unreachable") from None

    # -- plumbing ----------------------------------------------------------------------------

    def _call(self, method: str, params: dict[str, Any],
              files: dict[str, tuple[str, bytes, str]] | None = None) -> dict[str, Any]:
        fields = {k: _value(v) for k, v in params.items() if v is not None and v is not False}
        fields.update(format="json", formatversion="2")
        if self.maxlag is not None:
            fields["maxlag"] = str(self.maxlag)
        action = fields.get("action", "?")
        for attempt in range(self.max_retries + 1):
            with self._serial:
                self._pace()
                status, headers, body = self._send(method, fields, action, files)
            wait = _retry_after(headers)
            answer = self._decode(status, headers, body, action) if status == 200 else None
            lagging = answer is not None and _error_code(answer) == "maxlag"
            if lagging or (status in (429, 503) and wait is not None):
                if attempt == self.max_retries:
                    why = _error_info(answer) if lagging else f"HTTP {status}"
                    raise MediaWikiError(self.url, f"still busy after {self.max_retries} retries ({why}); "
                                         "try again later", "maxlag" if lagging else "busy")
                time.sleep(min(wait if wait is not None else 5.0, self.max_wait))
                continue
            if answer is None:
                raise MediaWikiError(self.url, f"answered {action} with HTTP {status}: {_snippet(body)}", "http")
            if "error" in answer:
                error = answer["error"] if isinstance(answer["error"], dict) else {}
                code, info = str(error.get("code", "unknown")), str(error.get("info", ""))
                raise MediaWikiError(self.url, f"refused {action}: {code}: {info}", code, info)
            return answer
        raise AssertionError("unreachable")

    def _pace(self) -> None:
        """Space requests to ``rate`` per second (0 or less: no spacing)."""
        if self.rate > 0:
            delay = self._last + 1.0 / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self._last = time.monotonic()

    def _send(self, method: str, fields: dict[str, str], action: str,
              files: dict[str, tuple[str, bytes, str]] | None = None) -> tuple[int, httpx.Headers, bytes]:
        """One request; the status, headers and body read up to the bound and the deadline."""
        self.requests += 1
        kwargs: dict[str, Any] = {"params": fields} if method == "GET" else {"data": fields}
        if files:
            kwargs["files"] = files
        end = time.monotonic() + self.deadline
        try:
            with self.http.stream(method, self.url, **kwargs) as response:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_answer:
                    raise MediaWikiError(self.url, f"announces an answer of {declared} bytes to {action}, more than "
                                         f"the {self.max_answer} this node reads", "toolarge")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    self.bytes_in += len(chunk)
                    if len(body) > self.max_answer:
                        raise MediaWikiError(self.url, f"sent more than {self.max_answer} bytes in answer to "
                                             f"{action}; the answer was refused", "toolarge")
                    if time.monotonic() > end:
                        raise MediaWikiError(self.url, f"took longer than {self.deadline:.0f} s to answer "
                                             f"{action}; the answer was refused", "toolarge")
                return response.status_code, response.headers, bytes(body)
        except httpx.TimeoutException:
            raise MediaWikiError(self.url, f"did not answer {action} in time (or stopped in the middle)",
                                 "unreachable") from None
        except httpx.HTTPError as exc:
            raise MediaWikiError(self.url, f"cannot be reached or broke off ({type(exc).__name__}: {exc})",
                                 "unreachable") from None

    def _decode(self, status: int, headers: httpx.Headers, body: bytes, action: str) -> dict[str, Any]:
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise MediaWikiError(self.url, f"answered {action} with {kind or 'no content type'} instead of JSON "
                                 f"(is this api.php?): {_snippet(body)}", "html")
        try:
            answer = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise MediaWikiError(self.url, f"answered {action} with cut-off or malformed JSON ({len(body)} bytes: "
                                 f"{exc})", "badjson") from None
        if not isinstance(answer, dict):
            raise MediaWikiError(self.url, f"answered {action} with JSON that is not an object", "badjson")
        return answer


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, (list, tuple, set)):
        return "|".join(str(v) for v in value)
    return str(value)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _error_code(answer: dict[str, Any]) -> str | None:
    error = answer.get("error")
    return str(error.get("code")) if isinstance(error, dict) else None


def _error_info(answer: dict[str, Any] | None) -> str:
    error = (answer or {}).get("error")
    return str(error.get("info", "")) if isinstance(error, dict) else ""


def _snippet(body: bytes) -> str:
    text = body[:200].decode("utf-8", "replace").replace("\n", " ").strip()
    return repr(text) if text else "an empty body"

"""The peer client's HTTP (net/transport.py, the standard library's http.client) over https.

A real `wikipeer serve` sits behind a TLS front on 127.0.0.1 whose certificate
is made here with openssl: a sync through it works when the certificate is
trusted (SSL_CERT_FILE, which the default TLS context reads) and fails with a
message naming the peer and the TLS problem when it is not.
"""

from __future__ import annotations

import random
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from conftest import start_server, stop_server

from wikipeer.authoring import edit
from wikipeer.net import client as peer_client
from wikipeer.net.client import PeerClient, PeerError
from wikipeer.net.sync import sync
from wikipeer.node import Node
from wikipeer.store.peers import PeerBook


class Front(BaseHTTPRequestHandler):
    """Relays each request to the plain-http node at ``upstream``, streaming nothing: enough for a pull."""

    protocol_version = "HTTP/1.1"
    upstream = ""

    def log_message(self, *args) -> None:
        pass

    def _relay(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        sent = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "x-wikipeer-node")}
        answer = httpx.request(self.command, self.upstream + self.path, content=body or None, headers=sent, timeout=30)
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(name, value)
        self.send_header("content-length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = _relay


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1: (certificate file, key file)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def https_node(tmp_path, certificate):
    """A node with a page, served by `wikipeer serve` behind a TLS front: (node, https URL)."""
    node = Node.init(tmp_path / "source")
    node.user_key()
    node.wiki("w")
    edit(node, "w", "Page", "".join(f"line {i} of {random.Random(i).random()}\n" for i in range(200)), "first")
    proc, plain = start_server(tmp_path / "source")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (Front,), {"upstream": str(plain.base_url).rstrip("/")}))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield node, f"https://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        stop_server(proc, plain)
        node.close()


@pytest.fixture
def trusting(monkeypatch, certificate):
    """This process's TLS context trusts the test certificate (and only it)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    peer_client.tls_context.cache_clear()
    yield
    peer_client.tls_context.cache_clear()


def test_a_sync_over_https_with_a_trusted_certificate(tmp_path, https_node, trusting):
    source, url = https_node
    node = Node.init(tmp_path / "clone")
    node.user_key()
    PeerBook(node.store).add(url)
    first = sync(node, url, do_push=False)
    assert first.pulled.accepted == 4 and first.pulled.rejected == 0, first.pulled.reasons
    head = source.store.heads(source.store.page("w", 0, "Page").id)[0]
    edit(source, "w", "Page", source.store.revision_text(head).replace("line 7 ", "line seven "), "second")
    second = sync(node, url, do_push=False)
    assert second.pulled.accepted == 3 and second.deltas == 1, second
    assert PeerBook(node.store).get(url).last_error is None


def test_an_untrusted_certificate_is_refused_with_a_clear_message(tmp_path, https_node, monkeypatch):
    _source, url = https_node
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))  # trusts nothing
    peer_client.tls_context.cache_clear()
    try:
        with PeerClient(url) as client, pytest.raises(PeerError) as failure:
            client.descriptor()
    finally:
        peer_client.tls_context.cache_clear()
    message = str(failure.value)
    assert message.startswith(f"cannot reach {url}: TLS failed") and "CERTIFICATE_VERIFY_FAILED" in message, message


class Refusing(BaseHTTPRequestHandler):
    """Answers every request with HTTP 503 and a reason in the body."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        body = b"busy with a clone: try again in a minute"
        self.send_response(503)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_an_error_answer_is_reported_with_its_status_and_body():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        with PeerClient(url) as client, pytest.raises(PeerError) as failure:
            client.descriptor()
    finally:
        server.shutdown()
        server.server_close()
    assert str(failure.value) == f"{url}/api/v1/node answered HTTP 503: busy with a clone: try again in a minute"

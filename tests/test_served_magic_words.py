"""Magic words that read the node and the revision, through a served node (issue 13, item 2).

``{{SERVER}}`` and ``{{SERVERNAME}}`` name the node as the reader reached it;
``REVISION*`` describe the revision shown. A real ``wikipeer serve`` process,
real HTTP on loopback.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import httpx

from conftest import run_cli, start_server, stop_server

PAGE = ("server=«{{SERVER}}» name=«{{SERVERNAME}}» id=«{{REVISIONID}}» user=«{{REVISIONUSER}}» "
        "ts=«{{REVISIONTIMESTAMP}}» day=«{{REVISIONDAY2}}» year=«{{REVISIONYEAR}}» size=«{{REVISIONSIZE}}»")


def _field(html: str, name: str) -> str:
    found = re.search(re.escape(name) + r"=«([^»]*)»", html)
    assert found is not None, f"{name} not on the page"
    return re.sub(r"<[^>]*>", "", found.group(1))  # a URL shows as a link: its text


def test_server_and_revision_words_on_a_served_page(node_dir):
    assert run_cli(node_dir, "edit", "wikipeer", "Magic page", "-m", "words", input=PAGE).code == 0
    proc, client = start_server(node_dir)
    try:
        html = client.get("/wiki/wikipeer/Magic_page").text
        port = client.base_url.port
        assert _field(html, "server") == f"http://127.0.0.1:{port}"
        assert _field(html, "name") == "127.0.0.1"

        history = client.get("/wiki/wikipeer/Magic_page?action=history").text
        oldids = set(re.findall(r"oldid=([0-9a-z]+)", history))
        assert _field(html, "id") in oldids and _field(html, "id")
        assert _field(html, "user")  # who saved it: the author's key, never empty
        stamp = _field(html, "ts")
        assert re.fullmatch(r"\d{14}", stamp)
        saved = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
        assert abs((datetime.now(timezone.utc) - saved).total_seconds()) < 3600  # the save time, not 1970
        assert _field(html, "day") == stamp[6:8] and _field(html, "year") == stamp[:4]
        assert _field(html, "size") == str(len(PAGE.encode()))

        # The same page reached by another name of the node names that one (the cached page is not reused)
        with httpx.Client(base_url=f"http://localhost:{port}", timeout=30) as other:
            again = other.get("/wiki/wikipeer/Magic_page").text
        assert _field(again, "server") == f"http://localhost:{port}"
        assert _field(again, "name") == "localhost"
        assert _field(client.get("/wiki/wikipeer/Magic_page").text, "server") == f"http://127.0.0.1:{port}"

        # api.php's action=parse renders through the same reader
        answer = client.get("/w/wikipeer/api.php", params={
            "action": "parse", "text": "server=«{{SERVER}}»", "title": "X", "format": "json", "formatversion": "2"})
        assert _field(answer.json()["parse"]["text"], "server") == f"http://127.0.0.1:{port}"
    finally:
        stop_server(proc, client)


"""The inter-node JSON-RPC API: the envelope (wikipeer.net.rpc) on a small method
table, then the five methods over HTTP on a real served sample node, and the
node's signed descriptor."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from conftest import Author, copy_node, free_port, start_server, stop_server
from fastapi import FastAPI

from wikipeer.errors import InvalidObject
from wikipeer.model.block import Block
from wikipeer.model.cid import cid_from_str, cid_to_str
from wikipeer.model.objects import Page, build_page
from wikipeer.net import rpc
from wikipeer.net.descriptor import check_descriptor
from wikipeer.net.server import router
from wikipeer.net.wire import NODE_HEADER
from wikipeer.node import Node
from wikipeer.store.peers import PeerBook

SAMPLE = "wikipeer"
ELSEWHERE = "http://127.0.0.1:9"  # a peer this node knows; nothing answers there


# -- the envelope ------------------------------------------------------------------

def echo(call: rpc.Call):
    (value,) = rpc.params(call, "value")
    return value


def fail(call: rpc.Call):
    raise rpc.RpcError(rpc.APP_ERROR, "it failed", {"why": "asked to"})


def redirecting(call: rpc.Call):
    call.redirect = [{"address": "http://127.0.0.1:1"}]


TABLE = {"echo": echo, "fail": fail, "redirecting": redirecting}


def handle(body) -> object:
    return rpc.handle(TABLE, body if isinstance(body, bytes) else json.dumps(body).encode())


def call(method: str, params=None, id_=1) -> dict:
    c = {"jsonrpc": "2.0", "method": method, "id": id_}
    if params is not None:
        c["params"] = params
    return c


def test_a_call_by_position_and_by_name():
    assert handle(call("echo", ["hi"])) == {"jsonrpc": "2.0", "result": "hi", "id": 1}
    assert handle(call("echo", {"value": 7}, "x")) == {"jsonrpc": "2.0", "result": 7, "id": "x"}


@pytest.mark.parametrize("body, code, fragment", [
    (b"{not json", rpc.PARSE_ERROR, "not JSON"),
    (b"\xff\xfe", rpc.PARSE_ERROR, "not JSON"),
    ({"method": "echo", "id": 1}, rpc.INVALID_REQUEST, "jsonrpc '2.0'"),
    ({"jsonrpc": "1.0", "method": "echo", "id": 1}, rpc.INVALID_REQUEST, "jsonrpc '2.0'"),
    ({"jsonrpc": "2.0", "method": 5, "id": 1}, rpc.INVALID_REQUEST, "method name"),
    ({"jsonrpc": "2.0", "method": "echo", "id": [1]}, rpc.INVALID_REQUEST, "id must be"),
    ({"jsonrpc": "2.0", "method": "echo", "id": True}, rpc.INVALID_REQUEST, "id must be"),
    ("a string", rpc.INVALID_REQUEST, "not a JSON-RPC 2.0 request"),
    ([], rpc.INVALID_REQUEST, "empty batch"),
])
def test_malformed_requests(body, code, fragment):
    answer = handle(body)
    assert answer["jsonrpc"] == "2.0" and answer["id"] is None
    assert answer["error"]["code"] == code and fragment in answer["error"]["message"]


def test_unknown_method_lists_the_methods():
    answer = handle(call("nope", []))
    assert answer["error"]["code"] == rpc.METHOD_NOT_FOUND and answer["id"] == 1
    assert "no method 'nope'" in answer["error"]["message"]
    assert "echo, fail, redirecting" in answer["error"]["message"]


@pytest.mark.parametrize("params, fragment", [
    ([1, 2], "at most 1 parameters"),
    ({"value": 1, "other": 2}, "no parameter 'other'"),
    ({}, "needs the parameter 'value'"),
    ("value", "params must be a list or an object"),
])
def test_invalid_params(params, fragment):
    answer = handle(call("echo", params))
    assert answer["error"]["code"] == rpc.INVALID_PARAMS and fragment in answer["error"]["message"]


def test_method_errors_and_redirects():
    assert handle(call("fail", [])) == {"jsonrpc": "2.0", "id": 1, "error": {
        "code": rpc.APP_ERROR, "message": "it failed", "data": {"why": "asked to"}}}
    assert handle(call("redirecting", [])) == {"jsonrpc": "2.0", "result": None, "id": 1,
                                               "redirect": [{"address": "http://127.0.0.1:1"}]}


def test_batches():
    answers = handle([call("echo", ["a"], 1), call("echo", ["b"], 2), call("nope", [], 3),
                      {"jsonrpc": "2.0", "method": "echo", "params": ["quiet"]}])
    assert [a.get("result") for a in answers] == ["a", "b", None]
    assert [a["id"] for a in answers] == [1, 2, 3] and answers[2]["error"]["code"] == rpc.METHOD_NOT_FOUND
    # Only notifications: nothing is owed.
    assert handle([{"jsonrpc": "2.0", "method": "echo", "params": [1]}]) is None
    assert handle({"jsonrpc": "2.0", "method": "echo", "params": [1]}) is None
    assert handle({"jsonrpc": "2.0", "method": "nope"}) is None  # even an unknown one
    # An invalid member gets its own error, the others their answers.
    mixed = handle([call("echo", [1], 1), 5])
    assert mixed[0]["result"] == 1 and mixed[1]["error"]["code"] == rpc.INVALID_REQUEST


def test_batch_limits():
    full = handle([call("echo", [i], i) for i in range(rpc.MAX_BATCH)])
    assert [a["result"] for a in full] == list(range(rpc.MAX_BATCH))
    over = handle([call("echo", [i], i) for i in range(rpc.MAX_BATCH + 1)])
    assert over["error"]["code"] == rpc.INVALID_REQUEST and f"at most {rpc.MAX_BATCH}" in over["error"]["message"]
    twice = handle([call("echo", [1], 7), call("echo", [2], 7)])
    assert twice["error"]["code"] == rpc.INVALID_REQUEST and "share an id" in twice["error"]["message"]
    assert handle([call("echo", [1], 1), call("echo", [2], "1")])[1]["id"] == "1"  # 1 and "1" differ


# -- the five methods on a served node -------------------------------------------------

@pytest.fixture(scope="module")
def served(_sample_template, tmp_path_factory):
    """A copy of the sample node that knows one (unreachable) peer, served by a real process."""
    target = tmp_path_factory.mktemp("rpc") / "node"
    copy_node(_sample_template, target)
    node = Node.open(target)
    PeerBook(node.store).add(ELSEWHERE)
    proc, client = start_server(target)
    try:
        yield node, client
    finally:
        stop_server(proc, client)
        node.close()


def rpc_call(client: httpx.Client, method: str, *params) -> dict:
    response = client.post("/rpc", json={"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    return response.json()


def result(client: httpx.Client, method: str, *params):
    answer = rpc_call(client, method, *params)
    assert "error" not in answer, answer
    return answer["result"]


def page_cid(title: str) -> str:
    return cid_to_str(build_page(Page(SAMPLE, 0, title)).cid)


def history(node: Node, title: str) -> list:
    page = node.store.page(SAMPLE, 0, title)
    return sorted(node.store.history(page.id), key=lambda r: (r.ts, r.id))


def test_lookup_a_page_and_its_head(served):
    node, client = served
    assert result(client, "lookup", f"{SAMPLE}/Main Page", "page") == page_cid("Main Page")
    assert result(client, "lookup", f"{SAMPLE}/Main Page") == page_cid("Main Page")  # type defaults to page
    assert result(client, "lookup", f"{SAMPLE}/main_Page", "page") == page_cid("Main Page")  # the wiki's own rules
    shown = node.view().choose(node.store.heads(node.store.page(SAMPLE, 0, "Main Page").id))
    assert result(client, "lookup", f"{SAMPLE}/Main Page", "head") == shown.cid_str


@pytest.mark.parametrize("name", [f"{SAMPLE}/Main Pag", f"{SAMPLE}/Main page", f"{SAMPLE}/Main Page s",
                                  "otherwiki/Main Page"])
def test_lookup_is_an_exact_match_and_redirects_when_missing(served, name):
    _, client = served
    answer = rpc_call(client, "lookup", name, "page")
    assert answer["result"] is None and answer["redirect"] == [{"address": ELSEWHERE, "key": None}]


@pytest.mark.parametrize("params, fragment", [
    (["no slash"], "lookup takes a name"),
    ([f"{SAMPLE}/Main Page", "revision"], "type: expected one of"),
    ([f"{SAMPLE}/Bad[title]"], "title"),
    ([], "needs the parameter 'name'"),
])
def test_lookup_refuses_bad_names(served, params, fragment):
    _, client = served
    answer = rpc_call(client, "lookup", *params)
    assert answer["error"]["code"] == rpc.INVALID_PARAMS and fragment in answer["error"]["message"], answer


def test_changes_by_count_time_and_position(served):
    node, client = served
    revs = history(node, "Main Page")
    assert len(revs) == 4
    everything = result(client, "changes", page_cid("Main Page"))
    assert everything == [[r.cid_str, [cid_to_str(p) for p in r.parents]] for r in revs]
    assert everything[0][1] == [] and everything[1][1] == [revs[0].cid_str]
    assert result(client, "changes", page_cid("Main Page"), {"count": 1}) == everything[-1:]
    assert result(client, "changes", page_cid("Main Page"), {"count": 0}) == []
    assert result(client, "changes", page_cid("Main Page"), {"since": revs[1].ts}) == everything[1:]
    assert result(client, "changes", page_cid("Main Page"), {"since": revs[1].ts, "until": revs[2].ts}) == everything[1:3]
    assert result(client, "changes", page_cid("Main Page"), {"after": revs[1].cid_str}) == everything[2:]
    assert result(client, "changes", page_cid("Main Page"), {"after": revs[1].cid_str, "count": 1}) == everything[3:]


def test_changes_of_unknown_and_wrong_objects(served):
    node, client = served
    unknown = rpc_call(client, "changes", page_cid("No such page"))
    assert unknown["result"] == [] and unknown["redirect"][0]["address"] == ELSEWHERE
    rev = history(node, "Main Page")[0].cid_str
    assert "is not a page" in rpc_call(client, "changes", rev)["error"]["message"]
    assert "count: -1 is out of range" in rpc_call(client, "changes", page_cid("Main Page"), {"count": -1})["error"]["message"]
    assert rpc_call(client, "changes", "not a cid")["error"]["code"] == rpc.INVALID_PARAMS


def test_query_properties_and_data(served):
    node, client = served
    rev = history(node, "Main Page")[-1]
    text = node.store.revision_text(rev)
    missing = page_cid("Nobody has this")
    answer = rpc_call(client, "query", [rev.cid_str, cid_to_str(rev.text), page_cid("Main Page"), missing])
    described = {d["id"]: d for d in answer["result"]}
    assert set(described) == {rev.cid_str, cid_to_str(rev.text), page_cid("Main Page")}  # the unknown one skipped
    assert answer["redirect"] == [{"address": ELSEWHERE, "key": None}]
    r = described[rev.cid_str]
    assert r["type"] == "rev" and r["page"] == page_cid("Main Page") and r["text"] == cid_to_str(rev.text)
    assert r["ts"] == rev.ts and r["size"] == rev.size and r["author"] == rev.author
    assert r["signatures"][0]["key"] == rev.author and r["signatures"][0]["role"] == "author"
    p = described[page_cid("Main Page")]
    assert p["type"] == "page" and p["title"] == "Main Page" and p["ns"] == 0 and p["heads"] == [rev.cid_str]
    assert described[cid_to_str(rev.text)] == {"id": cid_to_str(rev.text), "type": "text", "size": len(text.encode())}
    # Chosen properties only; "data" gives a text's text.
    only = result(client, "query", [rev.cid_str], ["ts", "author"])
    assert only == [{"id": rev.cid_str, "type": "rev", "ts": rev.ts, "author": rev.author}]
    data = result(client, "query", [cid_to_str(rev.text)], ["data"])
    assert data[0]["data"] == text
    raw = result(client, "query", [rev.cid_str], ["block"])
    assert base64.b64decode(raw[0]["block"]) == node.store.get_block(rev.cid).data
    assert "guids: expected a list" in rpc_call(client, "query", "x")["error"]["message"]
    # Everything known: no redirect.
    assert "redirect" not in rpc_call(client, "query", [rev.cid_str])


def shown_text(node: Node, page) -> str:
    return node.store.revision_text(node.view().choose(node.store.heads(page.id)))


def test_search_criteria(served):
    node, client = served
    pages = node.store.pages(SAMPLE)
    by_title = {p.title: cid_to_str(p.cid) for p in pages}

    def search(criteria, limit=100) -> set[str]:
        return set(result(client, "search", criteria, limit))

    assert search(["page", "wiki", "=", SAMPLE]) == set(by_title.values())
    assert search(["page", "title", "=", "Main_Page"]) == {by_title["Main Page"]}
    # The exact title goes through the same normaliser as every title: marks and spacing do not hide a page.
    assert search(["page", "title", "=", "\u200eMain__Page "]) == {by_title["Main Page"]}
    assert search(["page", "title", "~", "AND"]) == {by_title[t] for t in by_title if "and" in t.lower()}
    word = "signature"
    with_word = {by_title[p.title] for p in pages if word in shown_text(node, p).lower()}
    assert 1 < len(with_word) < len(pages)
    assert search(["page", "text", "~", word]) == with_word
    assert search(["page", "text", "~", "ignatur"]) == with_word  # trigrams: any part of a word
    assert search(["NOT", ["page", "text", "~", word]]) == set(by_title.values()) - with_word
    heads_t = {by_title[t] for t in by_title if "head" in t.lower()}
    assert search(["AND", ["page", "text", "~", word], ["page", "title", "~", "head"]]) == with_word & heads_t
    assert search(["OR", ["page", "title", "=", "Main Page"], ["page", "title", "=", "Wikipeer"]]) == {
        by_title["Main Page"], by_title["Wikipeer"]}
    demo = history(node, "Main Page")[0].author
    assert search(["rev", "author", "=", demo]) == set(by_title.values())
    assert search(["rev", "author", "=", "ed25519:nobody"]) == set()
    assert len(search(["page", "wiki", "=", SAMPLE], limit=3)) == 3


@pytest.mark.parametrize("criteria, fragment", [
    (["page", "colour", "=", "red"], "unknown criterion"),
    ("title", "a criterion is a list"),
    (["XOR", ["page", "ns", "=", 0]], "a criterion is"),
    (["OR"] + [["page", "ns", "=", 0]] * 17, "more than 16 criteria"),
    (["NOT"] * 1 + [["NOT", ["NOT", ["NOT", ["NOT", ["NOT", ["NOT", ["NOT", ["NOT", ["page", "ns", "=", 0]]]]]]]]]],
     "nested deeper"),
])
def test_search_refuses_bad_criteria(served, criteria, fragment):
    _, client = served
    answer = rpc_call(client, "search", criteria)
    assert answer["error"]["code"] == rpc.INVALID_PARAMS and fragment in answer["error"]["message"], answer


def test_submit_signed_blocks(served, tmp_path):
    _, client = served
    writer = Node.init(tmp_path / "writer")
    try:
        blocks = Author(writer).edit("Submitted page", "Sent by submit.\n", wiki=SAMPLE)
    finally:
        writer.close()
    wire = [{"cid": cid_to_str(b.cid), "data": base64.b64encode(b.data).decode()} for b in blocks]
    assert result(client, "submit", wire) == [0, 0, 0, 0]
    assert result(client, "submit", wire) == [0, 0, 0, 0]  # duplicates are fine too
    assert result(client, "lookup", f"{SAMPLE}/Submitted page", "head") == cid_to_str(blocks[2].cid)
    # A block whose bytes were changed, and entries that are not blocks at all.
    text = Block(blocks[1].cid, blocks[1].data)
    tampered = {"cid": cid_to_str(text.cid), "data": base64.b64encode(text.data.replace(b"Sent", b"Sant")).decode()}
    answers = result(client, "submit", [tampered, {"cid": "nonsense", "data": ""}, {"data": "AA=="}])
    assert isinstance(answers[0], str) and "do not hash to this CID" in answers[0]
    assert "object 1 is not" in answers[1] and "object 2 is not" in answers[2]
    assert "objects: expected a list" in rpc_call(client, "submit", "nope")["error"]["message"]


def test_over_http_batches_notifications_and_parse_errors(served):
    _, client = served
    batch = client.post("/rpc", json=[
        {"jsonrpc": "2.0", "method": "lookup", "params": [f"{SAMPLE}/Main Page"], "id": "a"},
        {"jsonrpc": "2.0", "method": "nope", "id": "b"}])
    assert batch.status_code == 200
    assert [a["id"] for a in batch.json()] == ["a", "b"] and batch.json()[0]["result"] == page_cid("Main Page")
    assert "lookup, query, search, submit" in batch.json()[1]["error"]["message"].replace("changes, ", "")
    note = client.post("/rpc", json={"jsonrpc": "2.0", "method": "lookup", "params": [f"{SAMPLE}/Main Page"]})
    assert note.status_code == 204 and note.content == b""
    broken = client.post("/rpc", content=b"{", headers={"content-type": "application/json"})
    assert broken.json()["error"]["code"] == rpc.PARSE_ERROR


def test_the_node_descriptor_verifies_and_any_change_breaks_it(served):
    node, client = served
    answer = client.get("/api/v1/node").json()
    d = check_descriptor(answer)
    assert d.key == node.keyring.get("node").public
    assert SAMPLE in d.wikis and d.address == str(client.base_url).rstrip("/")
    for field, value in [("key", Author(node).public), ("address", "http://127.0.0.1:1"), ("ts", d.ts + 1),
                         ("software", "other 1.0"), ("wikis", {})]:
        changed = json.loads(json.dumps(answer))
        changed["descriptor"][field] = value
        with pytest.raises(InvalidObject):
            check_descriptor(changed)
    with pytest.raises(InvalidObject, match="not a node descriptor"):
        check_descriptor({"descriptor": {"key": d.key}})


def test_a_busy_node_answers_503_with_redirects(tmp_path):
    """The API's own router with room for no call at all, on a real uvicorn server."""
    node = Node.init(tmp_path / "busy")
    PeerBook(node.store).add(ELSEWHERE)
    app = FastAPI()
    app.include_router(router(node, max_inflight=0))
    try:
        with uvicorn_in_a_thread(app, log_level="warning") as port:
            answer = httpx.post(f"http://127.0.0.1:{port}/rpc",
                                json={"jsonrpc": "2.0", "method": "lookup", "params": ["w/X"], "id": 1})
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == rpc.BUSY
        assert answer.json()["redirect"] == [{"address": ELSEWHERE, "key": None}]
    finally:
        node.close()


@contextmanager
def uvicorn_in_a_thread(app, log_level: str) -> Iterator[int]:
    """A real uvicorn server for ``app`` on a free loopback port, in a thread; yields the port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_guids_are_cids(served):
    _, client = served
    guid = result(client, "lookup", f"{SAMPLE}/Main Page")
    assert cid_from_str(guid) == build_page(Page(SAMPLE, 0, "Main Page")).cid


# -- bad input is a client error, and costs no other request ---------------------------

@pytest.mark.parametrize("body, depth", [
    (b"[]", 1), (b"1", 1), (b'{"a": [[1], {"b": 2}]}', 3), (b'["[[[[", "\\"[["]', 1),
    (b"[" * 100_000, 100_000), (b"[" * 50 + b"]" * 50, 50),
])
def test_json_depth_is_found_without_parsing(body, depth):
    assert rpc.json_depth(body) == depth


def test_deep_json_is_a_parse_error_not_a_recursion_error():
    answer = handle(b"[" * 100_000)
    assert answer["error"]["code"] == rpc.PARSE_ERROR and f"at most {rpc.MAX_JSON_DEPTH}" in answer["error"]["message"]
    deepest = handle(b"[" * rpc.MAX_JSON_DEPTH + b"]" * rpc.MAX_JSON_DEPTH)  # parsed: a batch of one non-call
    assert deepest[0]["error"]["code"] == rpc.INVALID_REQUEST


def bad_calls(page: str) -> list[tuple[str, list]]:
    """Each of these was answered with a 500 (issue 11, defect 7)."""
    return [
        ("changes", [page, {"since": "yesterday"}]), ("changes", [page, {"since": None}]),
        ("changes", [page, {"since": []}]), ("changes", [page, {"until": 2**64}]),
        ("search", [["page", "wiki", "=", [SAMPLE]]]), ("search", [["page", "ns", "=", {"n": 0}]]),
        ("search", [["page", "ns", "=", 2**63]]), ("search", [[["page"], "wiki", "=", SAMPLE]]),
        ("lookup", [f"{SAMPLE}/Lone \ud800 surrogate"]),
    ]


def test_bad_params_are_invalid_params_on_one_kept_connection(served):
    _, client = served
    page = page_cid("Main Page")
    for method, params in bad_calls(page):
        body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params, "id": 1}).encode()
        answer = client.post("/rpc", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 200, (method, params, answer.text)
        assert answer.json()["error"]["code"] == rpc.INVALID_PARAMS, (method, params, answer.text)
    # Non-ASCII where base64 belongs is one refused object, not a failed call.
    answers = result(client, "submit", [{"cid": page, "data": "é"}])
    assert answers == ["object 0 is not {cid, data (base64)}: data is not base64"]
    assert result(client, "lookup", f"{SAMPLE}/Main Page") == page  # the same connection still answers


@pytest.mark.parametrize("path, params", [
    ("/api/v1/log", {"since": str(2**63)}), ("/api/v1/log", {"since": str(-2**64)}),
    ("/api/v1/log", {"ns": f"{SAMPLE}:{2**63}"}), ("/api/v1/log", {"skip": f"1-{2**70}"}),
    ("/api/v1/log", {"skip": "5"}),  # found later by hand: a range without its dash was a 500
])
def test_integers_past_64_bits_and_misshapen_ranges_in_a_log_request_are_400(served, path, params):
    _, client = served
    assert client.get(path, params=params).status_code == 400
    assert client.get(path, params={"since": str(2**63 - 1)}).status_code == 200


@pytest.mark.parametrize("path", ["/rpc", "/api/v1/blocks"])
def test_deeply_nested_bodies_are_refused_as_bad_json(served, path):
    _, client = served
    answer = client.post(path, content=b"[" * 100_000)
    assert answer.status_code in (200, 400), answer.text
    assert "nested 100000 deep" in answer.text
    assert client.get("/api/v1/node").status_code == 200


def test_an_unexpected_exception_is_a_500_on_a_connection_that_stays_open(capfd):
    """LastResort around an app whose handler fails, on a real uvicorn server, over one connection."""
    from wikipeer.web.last_resort import LastResort

    app = FastAPI()

    @app.get("/fails")
    def fails() -> None:
        raise RuntimeError("a bug")

    @app.get("/works")
    def works() -> dict:
        return {"ok": True}

    with uvicorn_in_a_thread(LastResort(app), log_level="critical") as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/fails")
        failed = conn.getresponse()
        assert failed.status == 500 and failed.read() and failed.getheader("connection") != "close"
        sock = conn.sock
        conn.request("GET", "/works")
        worked = conn.getresponse()
        assert worked.status == 200 and json.loads(worked.read()) == {"ok": True}
        assert conn.sock is sock  # the same connection answered
        conn.close()
    assert "RuntimeError: a bug" in capfd.readouterr().err  # the traceback was logged


@pytest.mark.parametrize("path, limit", [("/api/v1/car", str((1 << 30) + (64 << 20))), ("/rpc", "8388608"),
                                         ("/api/v1/blocks", "8388608")])
def test_a_body_announced_too_long_is_refused_before_it_is_read(served, path, limit):
    _, client = served
    with socket.create_connection((client.base_url.host, client.base_url.port), timeout=10) as sock:
        # Two GB announced, none sent: the answer comes at once, without waiting for (or spooling) a byte of it.
        sock.sendall(f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {2**31}\r\n\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    text = answer.decode("latin-1")
    assert text.startswith("HTTP/1.1 413") and limit in text, text


def _length(answer: bytes) -> int:
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    return next(int(line.split(":", 1)[1]) for line in head.splitlines() if line.startswith("content-length:"))


@pytest.mark.parametrize("body, fragment", [
    (b'{"cids": "bafy"}', "a list 'cids'"), (b'{"cids": {"a": 1}}', "a list 'cids'"), (b"[1]", "a list 'cids'"),
    (b'{"cids": [7]}', "a GUID is a CID string, not an integer"), (b"\xff", "expected"),
])
def test_a_blocks_request_that_is_not_a_list_of_cids_is_400(served, body, fragment):
    _, client = served
    answer = client.post("/api/v1/blocks", content=body)
    assert answer.status_code == 400 and fragment in answer.json()["error"], answer.text


def test_names_a_caller_invents_are_not_written_down(served):
    """x-wikipeer-node is the caller's choice: by default (no leech ratio) no row is kept per name."""
    node, client = served
    for i in range(20):
        assert client.get("/api/v1/log", params={"since": 10**9}, headers={NODE_HEADER: f"name-{i}" * 100}).status_code == 200
    assert node.store.conn.execute("SELECT count(*) FROM takers").fetchone()[0] == 0

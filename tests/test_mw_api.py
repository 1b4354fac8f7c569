"""The Action API on a node (issue 12, item 3): real mwclient and pywikibot read a served node;
MediaWiki's error codes for bad requests; format versions 1 and 2; paraminfo from the module table;
index.php; and a comparison with a real MediaWiki 1.39 holding the same wiki (tests/mw_api_compare.py)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import mwclient
import nacl.signing
import pytest

from conftest import cli_env, run_cli, start_server, stop_server
from mediawiki_instance import MediaWikiInstance, MediaWikiUnavailable, check_available
from mw_api_compare import differences
from test_mediawiki import write_dump

from wikipeer.authoring import edit_blocks
from wikipeer.mediawiki.api import ApiCall, handle
from wikipeer.mediawiki.api.params import Param
from wikipeer.mediawiki.api.registry import Module, _MODULES, register
from wikipeer.model.cid import cid_from_str
from wikipeer.model.keys import key_to_str, verify
from wikipeer.model.objects import Page, parse
from wikipeer.node import Node
from wikipeer.store.store import Store

WIKI = "apiwiki"
SECTIONED = "Intro text.\n== One ==\nfirst part\n=== One a ===\ninner\n== Two ==\nsecond part\n"
MANY = 30  # revisions of the page "Many": more than one batch of rvlimit=10
# (title, ns, page id, redirect, [(rev id, parent id, timestamp, contributor, minor, comment, text)])
PAGES = [
    ("Main Page", 0, 1, None, [
        (11, None, "2024-01-01T00:00:00Z", ("user", "Alice", 1), False, "first", "Welcome."),
        (12, 11, "2024-01-02T00:00:00Z", ("ip", "192.0.2.1"), True, "typo", "Welcome!"),
        (13, 12, "2024-01-03T00:00:00Z", ("user", "Bob", 2), False, "categorise",
         "Welcome! A banana page.\n[[Category:Things]]"),
    ]),
    ("Talk:Main Page", 1, 2, None, [(21, None, "2024-01-04T00:00:00Z", ("user", "Bob", 2), False, "hi", "Talk.")]),
    ("User:Alice", 2, 3, None, [(31, None, "2024-01-05T00:00:00Z", ("user", "Alice", 1), False, "me", "I am Alice.")]),
    ("Wikipedia:About", 4, 4, None, [
        (41, None, "2024-01-06T00:00:00Z", ("user", "Alice", 1), False, "about", "About v1"),
        (42, 41, "2024-01-07T00:00:00Z", ("user", "Carol", 3), False, "about more", "About v2"),
    ]),
    ("Template:Box", 10, 5, None, [(51, None, "2024-01-08T00:00:00Z", ("user", "Bob", 2), False, "tpl", "{{{1}}}")]),
    ("Category:Things", 14, 6, None, [(61, None, "2024-01-09T00:00:00Z", ("user", "Bob", 2), False, "cat", "Things.")]),
    ("Apple", 0, 7, None, [
        (71, None, "2024-01-10T00:00:00Z", ("user", "Carol", 3), False, "new", "An apple."),
        (72, 71, "2024-01-11T00:00:00Z", ("user", "Carol", 3), False, "sections", SECTIONED + "[[category: things]]"),
    ]),
    ("Old name", 0, 8, "Apple", [
        (81, None, "2024-01-12T00:00:00Z", ("user", "Alice", 1), False, "move", "#REDIRECT [[Apple]]"),
    ]),
    ("Many", 0, 9, None, [
        (900 + n, (900 + n - 1) if n else None, f"2024-02-{n // 24 + 1:02d}T{n % 24:02d}:00:00Z",
         ("user", "Carol", 3), n % 2 == 1, f"edit {n}", f"Many text number {n}") for n in range(MANY)
    ]),
]


def all_revisions() -> list[tuple]:
    return [rev for page in PAGES for rev in page[4]]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A node holding the wiki of PAGES (imported from a dump), served; yields (client, api URL)."""
    tmp = tmp_path_factory.mktemp("mw-api")
    dump = tmp / "dump.xml"
    write_dump(dump, WIKI, PAGES)
    node = tmp / "node"
    for args in (("init",), ("import", "--quiet", str(dump))):
        result = run_cli(node, *args, timeout=120)
        assert result.code == 0, str(result)
    proc, client = start_server(node)
    yield client, f"{client.base_url}/w/{WIKI}/api.php"
    stop_server(proc, client)


def get(client: httpx.Client, **params) -> dict:
    params.setdefault("format", "json")
    return client.get(f"/w/{WIKI}/api.php", params=params).json()


def site(client: httpx.Client) -> mwclient.Site:
    return mwclient.Site(client.base_url.netloc.decode(), path=f"/w/{WIKI}/", scheme="http")


# -- mwclient, unchanged -----------------------------------------------------------------------------------


def test_mwclient_reads_pages_and_history(served) -> None:
    client, _ = served
    wiki = site(client)
    assert wiki.version[:2] == (1, 39)
    page = wiki.pages["Main Page"]
    assert page.exists and page.text() == "Welcome! A banana page.\n[[Category:Things]]"
    history = list(page.revisions(prop="ids|timestamp|user|comment|size|sha1|flags"))
    assert [(r["user"], r["comment"]) for r in history] == [("Bob", "categorise"), ("192.0.2.1", "typo"),
                                                           ("Alice", "first")]
    texts = ["Welcome! A banana page.\n[[Category:Things]]", "Welcome!", "Welcome."]
    assert [r["sha1"] for r in history] == [hashlib.sha1(t.encode()).hexdigest() for t in texts]
    assert [r["size"] for r in history] == [len(t.encode()) for t in texts]
    assert history[0]["parentid"] == history[1]["revid"] and history[2]["parentid"] == 0
    assert "anon" in history[1] and "minor" in history[1] and "minor" not in history[0]
    assert not wiki.pages["No such page"].exists


def test_mwclient_follows_history_continuation(served) -> None:
    client, _ = served
    revs = list(site(client).pages["Many"].revisions(dir="newer", prop="ids|comment", api_chunk_size=7))
    assert [r["comment"] for r in revs] == [f"edit {n}" for n in range(MANY)]


def test_mwclient_lists(served) -> None:
    client, _ = served
    wiki = site(client)
    assert [p.name for p in wiki.allpages()] == ["Apple", "Main Page", "Many", "Old name"]
    assert [p.name for p in wiki.allpages(namespace=4)] == ["Wikipedia:About"]
    assert [p.name for p in wiki.allpages(filterredir="redirects")] == ["Old name"]
    changes = list(wiki.recentchanges(prop="title|timestamp|ids|user|comment|sizes|flags", api_chunk_size=5))
    assert len(changes) == len(all_revisions())
    stamps = [c["timestamp"] for c in changes]
    assert stamps == sorted(stamps, reverse=True)
    assert changes[0]["title"] == "Many" and changes[0]["comment"] == f"edit {MANY - 1}"
    assert [p.name for p in wiki.categories["Things"]] == ["Apple", "Main Page"]
    assert [r["title"] for r in wiki.search("banana")] == ["Main Page"]
    contribs = list(wiki.usercontributions("Alice"))
    assert sorted(c["title"] for c in contribs) == ["Main Page", "Old name", "User:Alice", "Wikipedia:About"]


def test_generators_give_pages_with_their_properties(served) -> None:
    client, _ = served
    answer = get(client, action="query", generator="allpages", gaplimit=2, prop="info", formatversion=2)
    assert [p["title"] for p in answer["query"]["pages"]] == ["Apple", "Main Page"]
    assert answer["continue"]["gapcontinue"] == "Many"
    assert all("lastrevid" in p for p in answer["query"]["pages"])
    nxt = get(client, action="query", generator="allpages", gaplimit=2, prop="info", formatversion=2,
              **answer["continue"])
    assert [p["title"] for p in nxt["query"]["pages"]] == ["Many", "Old name"] and "continue" not in nxt
    members = get(client, action="query", generator="categorymembers", gcmtitle="Category:Things", formatversion=2)
    assert sorted(p["title"] for p in members["query"]["pages"]) == ["Apple", "Main Page"]


def test_redirects_normalized_missing_and_invalid_titles(served) -> None:
    client, _ = served
    answer = get(client, action="query", titles="old_name|main_Page|Nowhere|Bad[title", redirects=1,
                 formatversion=2)
    query = answer["query"]
    assert query["normalized"] == [{"fromencoded": False, "from": "old_name", "to": "Old name"},
                                   {"fromencoded": False, "from": "main_Page", "to": "Main Page"}]
    assert query["redirects"] == [{"from": "Old name", "to": "Apple"}]
    pages = {p["title"]: p for p in query["pages"]}
    assert pages["Nowhere"]["missing"] is True and "pageid" not in pages["Nowhere"]
    assert pages["Bad[title"]["invalid"] is True and "invalidreason" in pages["Bad[title"]
    assert pages["Apple"]["pageid"] > 0 and pages["Main Page"]["ns"] == 0


def test_revision_ranges_and_sections(served) -> None:
    client, _ = served
    newest = get(client, action="query", prop="revisions", titles="Many", rvlimit=3, formatversion=2)
    revs = newest["query"]["pages"][0]["revisions"]
    assert [r["comment"] for r in revs] == [f"edit {n}" for n in (MANY - 1, MANY - 2, MANY - 3)]
    assert "rvcontinue" in newest["continue"]
    ranged = get(client, action="query", prop="revisions", titles="Many", rvdir="newer", rvlimit=50,
                 rvstartid=revs[2]["revid"], rvendid=revs[0]["revid"], formatversion=2)
    assert [r["revid"] for r in ranged["query"]["pages"][0]["revisions"]] == [r["revid"] for r in reversed(revs)]
    timed = get(client, action="query", prop="revisions", titles="Many", rvlimit=50, rvstart="2024-02-01T05:00:00Z",
                rvend="2024-02-01T03:00:00Z", formatversion=2)
    assert [r["comment"] for r in timed["query"]["pages"][0]["revisions"]] == ["edit 5", "edit 4", "edit 3"]
    section = get(client, action="query", prop="revisions", titles="Apple", rvprop="content", rvslots="main",
                  rvsection=1, formatversion=2)
    assert section["query"]["pages"][0]["revisions"][0]["slots"]["main"]["content"] == \
        "== One ==\nfirst part\n=== One a ===\ninner"
    mixed = get(client, action="query", prop="revisions", titles="Many|Apple", rvlimit=2)
    assert mixed["error"]["code"] == "invalidparammix"


def test_revids_and_rvprop_wikipeer(served) -> None:
    client, _ = served
    history = get(client, action="query", prop="revisions", titles="Apple", rvlimit=5, formatversion=2)
    old = history["query"]["pages"][0]["revisions"][-1]["revid"]
    answer = get(client, action="query", revids=f"{old}|999999", rvprop="ids|content|wikipeer", prop="revisions",
                 rvslots="main", formatversion=2)
    rev = answer["query"]["pages"][0]["revisions"][0]
    assert rev["slots"]["main"]["content"] == "An apple."
    proof = rev["wikipeer"]
    assert proof["cid"].startswith("b") and proof["origin"]["rev_id"] == 71
    assert [s["role"] for s in proof["signatures"]] == ["node"]
    assert answer["query"]["badrevids"] == {"999999": {"revid": 999999, "missing": True}}


# -- pywikibot, unchanged (its configuration in a temporary directory) ----------------------------------

PYWIKIBOT_SCRIPT = textwrap.dedent("""
    import json, sys
    import pywikibot
    from pywikibot.family import AutoFamily
    site = pywikibot.Site("wikipeer", AutoFamily("wikipeer", sys.argv[1]))
    page = pywikibot.Page(site, "Main Page")
    print(json.dumps({
        "version": str(site.mw_version),
        "text": page.text,
        "history": [[r.user, r.comment, r.sha1] for r in page.revisions()],
        "allpages": [p.title() for p in site.allpages(namespace=0)],
        "recent": [c["title"] for c in site.recentchanges(total=4)],
        "search": [p.title() for p in site.search("banana", namespaces=[0])],
        "members": sorted(p.title() for p in pywikibot.Category(site, "Category:Things").members()),
        "contribs": sorted(c["title"] for c in site.usercontribs(user="Carol")),
    }))
""")


def test_pywikibot_reads_the_node(served, tmp_path) -> None:
    client, api_url = served
    (tmp_path / "bot.py").write_text(PYWIKIBOT_SCRIPT)
    env = cli_env({"PYWIKIBOT_DIR": str(tmp_path), "PYWIKIBOT_NO_USER_CONFIG": "2"})
    proc = subprocess.run([sys.executable, "bot.py", api_url], cwd=tmp_path, env=env, capture_output=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    seen = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    assert seen["version"].startswith("1.39")
    assert seen["text"] == "Welcome! A banana page.\n[[Category:Things]]"
    assert [h[:2] for h in seen["history"]] == [["Bob", "categorise"], ["192.0.2.1", "typo"], ["Alice", "first"]]
    assert seen["history"][2][2] == hashlib.sha1(b"Welcome.").hexdigest()
    assert seen["allpages"] == ["Apple", "Main Page", "Many", "Old name"]
    assert seen["recent"] == ["Many"] * 4
    assert seen["search"] == ["Main Page"]
    assert seen["members"] == ["Apple", "Main Page"]
    assert seen["contribs"] == sorted(["Apple", "Apple", "Wikipedia:About"] + ["Many"] * MANY)


# -- bad requests: MediaWiki's codes -----------------------------------------------------------------------


def test_unknown_action_and_values(served) -> None:
    client, _ = served
    answer = client.get(f"/w/{WIKI}/api.php", params={"action": "nosuch", "format": "json"})
    assert answer.status_code == 200 and answer.headers["MediaWiki-API-Error"] == "badvalue"
    assert answer.json()["error"]["code"] == "badvalue"
    assert 'parameter "action": nosuch' in answer.json()["error"]["info"]
    bad_dir = get(client, action="query", list="allpages", apdir="sideways")
    assert bad_dir["error"]["code"] == "badvalue"
    unknown_list = get(client, action="query", list="allpages|nosuchlist", formatversion=2)
    assert "nosuchlist" in unknown_list["warnings"]["query"]["warnings"]
    assert unknown_list["query"]["allpages"]


def test_unknown_parameters_are_a_warning(served) -> None:
    client, _ = served
    answer = get(client, action="query", list="allpages", bogus="1", other="2")
    assert answer["warnings"]["main"]["*"] == "Unrecognized parameters: bogus, other."
    assert answer["query"]["allpages"]


def test_limits_over_the_maximum_are_clamped_with_a_warning(served) -> None:
    client, _ = served
    answer = get(client, action="query", list="allpages", aplimit=999999, formatversion=2)
    assert answer["warnings"]["allpages"]["warnings"] == \
        'The value "999999" for parameter "aplimit" must be between 1 and 500.'
    assert len(answer["query"]["allpages"]) == 4
    content = get(client, action="query", prop="revisions", titles="Many", rvprop="content", rvslots="main",
                  rvlimit=400, formatversion=2)
    assert len(content["query"]["pages"][0]["revisions"]) == MANY
    assert 'parameter "rvlimit" must be between 1 and 50.' in content["warnings"]["revisions"]["warnings"]
    assert get(client, action="query", list="allpages", aplimit="lots")["error"]["code"] == "badinteger"
    too_many = get(client, action="query", titles="|".join(f"T{n}" for n in range(51)))
    assert too_many["error"]["code"] == "toomanyvalues"
    assert get(client, action="query", list="search")["error"]["code"] == "missingparam"
    assert get(client, action="query", list="allrevisions", arvcontinue="garbage")["error"]["code"] == "badcontinue"


def test_failed_asserts_and_maxlag(served) -> None:
    client, _ = served
    assert get(client, action="query", meta="siteinfo", **{"assert": "user"})["error"]["code"] == "assertuserfailed"
    assert get(client, action="query", meta="siteinfo", **{"assert": "bot"})["error"]["code"] == "assertbotfailed"
    assert "error" not in get(client, action="query", meta="siteinfo", **{"assert": "anon"})
    lagged = client.get(f"/w/{WIKI}/api.php", params={"action": "query", "format": "json", "maxlag": "-1"})
    assert lagged.json()["error"]["code"] == "maxlag" and lagged.headers["Retry-After"]
    assert "error" not in get(client, action="query", meta="siteinfo", maxlag=5)


def test_view_parameter(served) -> None:
    client, _ = served
    assert get(client, action="query", titles="Apple", view="nosuch")["error"]["code"] == "badvalue"


@pytest.fixture
def guarded_module():
    """A POST-only module that needs a csrf token, in the real table for one test (the write modules are
    another branch's); removed afterwards so paraminfo and routing are as before."""
    module = register(Module("guardedtest", "action", "", (Param("value", required=True),),
                             lambda call, params: {"guardedtest": {"value": params["value"]}},
                             post_only=True, token="csrf"))
    yield module
    del _MODULES[("action", module.name)]


def _call(node: Node, method: str = "POST", check=None, **params) -> dict:
    answer = handle(ApiCall(node=node, wiki=node.wiki("w"), params={"format": "json", **params}, method=method,
                            check_token=check))
    return json.loads(answer.body)


def test_post_only_and_tokens(node, guarded_module) -> None:
    assert _call(node, "GET", action="guardedtest", value="x")["error"]["code"] == "mustbeposted"
    missing = _call(node, action="guardedtest", value="x")["error"]
    assert missing == {"code": "missingparam", "info": 'The "token" parameter must be set.', "*": missing["*"]}
    assert _call(node, action="guardedtest", value="x", token="nope")["error"]["code"] == "badtoken"
    good = _call(node, check=lambda kind, token: (kind, token) == ("csrf", "right+\\"), action="guardedtest",
                 value="x", token="right+\\")
    assert good == {"guardedtest": {"value": "x"}}
    assert _call(node, check=lambda *_: True, action="guardedtest", token="t")["error"]["code"] == "missingparam"


# -- format versions, paraminfo, index.php --------------------------------------------------------------


def test_formatversion_1_and_2_shapes(served) -> None:
    client, _ = served
    params = dict(action="query", titles="Main Page|Nowhere", prop="revisions|info", rvprop="content|flags",
                  rvslots="main")
    one, two = get(client, **params), get(client, formatversion=2, **params)
    assert one["batchcomplete"] == "" and two["batchcomplete"] is True
    pages_one, pages_two = one["query"]["pages"], two["query"]["pages"]
    assert isinstance(pages_one, dict) and isinstance(pages_two, list)
    main_id = next(key for key in pages_one if not key.startswith("-"))
    assert pages_one["-1"] == {"ns": 0, "title": "Nowhere", "missing": "", "contentmodel": "wikitext",
                               "pagelanguage": "en", "pagelanguagehtmlcode": "en", "pagelanguagedir": "ltr"}
    assert next(p for p in pages_two if p["title"] == "Nowhere")["missing"] is True
    slot_one = pages_one[main_id]["revisions"][0]["slots"]["main"]
    slot_two = next(p for p in pages_two if p["title"] == "Main Page")["revisions"][0]["slots"]["main"]
    assert slot_one["*"] == slot_two["content"] == "Welcome! A banana page.\n[[Category:Things]]"
    assert "content" not in slot_one and "*" not in slot_two
    assert "minor" not in pages_one[main_id]["revisions"][0]
    assert next(p for p in pages_two if p["title"] == "Main Page")["revisions"][0]["minor"] is False
    legacy = get(client, action="query", titles="Main Page", prop="revisions", rvprop="content")
    assert "*" in next(iter(legacy["query"]["pages"].values()))["revisions"][0]
    assert "rvslots" in legacy["warnings"]["revisions"]["*"]


def test_utf8_and_envelope_fields(served) -> None:
    client, _ = served
    escaped = client.get(f"/w/{WIKI}/api.php", params={"action": "query", "titles": "Ü", "format": "json"}).text
    assert "\\u00dc" in escaped and "Ü" not in escaped
    raw = client.get(f"/w/{WIKI}/api.php", params={"action": "query", "titles": "Ü", "format": "json",
                                                     "utf8": "1"}).text
    assert "Ü" in raw
    answer = get(client, action="query", meta="siteinfo", requestid="r-1", servedby=1, curtimestamp=1)
    assert answer["requestid"] == "r-1" and answer["servedby"] and answer["curtimestamp"].endswith("Z")
    general = answer["query"]["general"]
    assert general["generator"].startswith("MediaWiki 1.39") and general["wikipeer"]["software"] == "wikipeer"
    plain = get(client, action="nosuch", errorformat="plaintext", formatversion=2)
    assert plain["errors"][0]["code"] == "badvalue" and "text" in plain["errors"][0]
    page = client.get(f"/w/{WIKI}/api.php", params={"action": "query", "meta": "siteinfo"})
    assert page.headers["content-type"].startswith("text/html") and "&quot;generator&quot;" in page.text


def test_paraminfo_describes_every_routed_module(served) -> None:
    client, _ = served
    main = get(client, action="paraminfo", modules="main|query", formatversion=2)["paraminfo"]["modules"]
    actions = next(p for p in main[0]["parameters"] if p["name"] == "action")
    assert set(actions["submodules"]) == set(actions["type"]) >= {"query", "paraminfo"}
    query = {p["name"]: p for p in main[1]["parameters"]}
    paths = [path for kind in ("prop", "list", "meta") for path in query[kind]["submodules"].values()]
    assert set(query["list"]["type"]) >= {"allpages", "allrevisions", "recentchanges", "search", "usercontribs",
                                          "categorymembers"}
    described = get(client, action="paraminfo", modules="|".join(list(actions["type"]) + paths),
                    formatversion=2)["paraminfo"]["modules"]
    assert [m["path"] for m in described] == list(actions["type"]) + paths
    assert not [m for m in described if m.get("missing")]
    for info in described:  # what paraminfo says is what routing takes: every parameter is accepted
        for param in info["parameters"]:
            if param["name"] == "token" or info["path"] in ("query", "paraminfo") or param.get("required"):
                continue
            kind = "action" if "+" not in info["path"] else "query"
            request = {"action": info["name"]} if kind == "action" else {"action": "query", info["group"]: info["name"]}
            answer = get(client, **request, **{info["prefix"] + param["name"]: param.get("default", "")})
            assert "Unrecognized parameter" not in json.dumps(answer.get("warnings", {})), (info["path"], param)
    revisions = next(m for m in described if m["path"] == "query+revisions")
    limit = next(p for p in revisions["parameters"] if p["name"] == "limit")
    assert (limit["type"], limit["max"], limit["highmax"]) == ("limit", 500, 5000)
    assert get(client, action="paraminfo", modules="nosuch", formatversion=2)["paraminfo"]["modules"][0]["missing"]


def test_index_php_raw_and_history(served) -> None:
    client, _ = served
    raw = client.get(f"/w/{WIKI}/index.php", params={"title": "Main_Page", "action": "raw"})
    assert raw.status_code == 200 and raw.headers["content-type"] == "text/x-wiki; charset=UTF-8"
    assert raw.text == "Welcome! A banana page.\n[[Category:Things]]"
    revs = get(client, action="query", prop="revisions", titles="Main Page", rvlimit=5, formatversion=2)
    oldest = revs["query"]["pages"][0]["revisions"][-1]["revid"]
    assert client.get(f"/w/{WIKI}/index.php", params={"title": "Main Page", "action": "raw",
                                                       "oldid": oldest}).text == "Welcome."
    history = client.get(f"/w/{WIKI}/index.php", params={"title": "Main Page", "action": "history"})
    assert history.status_code == 301 and history.headers["location"] == f"/wiki/{WIKI}/Main_Page?action=history"
    assert client.get(f"/w/{WIKI}/index.php", params={"title": "Nowhere", "action": "raw"}).status_code == 404
    assert client.get(f"/w/{WIKI}/index.php", params={"title": "Bad[x", "action": "raw"}).status_code == 400
    single = client.get("/w/api.php", params={"action": "query", "titles": "Apple", "format": "json"}).json()
    assert single["query"]["pages"]
    unknown = client.get("/w/nosuchwiki/api.php", params={"action": "query", "format": "json"})
    assert unknown.status_code == 404 and f"its wikis: {WIKI} (each at /w/WIKI/api.php)" in unknown.text, unknown.text
    assert client.get("/w/nosuchwiki/index.php", params={"title": "Apple", "action": "raw"}).status_code == 404


# -- the SHA-1 store: filled at ingest, and for older stores by the migration ------------------------------


def test_sha1_filled_for_a_store_from_before_the_table(tmp_path, node, author) -> None:
    node.ingest(author.edit("Alpha", "alpha text"), "test")
    node.ingest(author.edit("Beta", "béta"), "test")
    conn = node.store.conn
    texts = {row[0] for row in conn.execute("SELECT id FROM texts")}
    stored = dict(conn.execute("SELECT text, sha1 FROM text_sha1"))
    assert set(stored) == texts and hashlib.sha1("béta".encode()).digest() in stored.values()
    conn.execute("DELETE FROM text_sha1")
    conn.execute("UPDATE meta SET value = '10' WHERE key = 'schema'")
    path = node.store.path
    node.store.close()
    reopened = Store(path)
    assert dict(reopened.conn.execute("SELECT text, sha1 FROM text_sha1")) == stored
    reopened.close()


# -- against a real MediaWiki 1.39 holding the same wiki ---------------------------------------------------


@pytest.fixture(scope="module")
def mediawiki_and_node(tmp_path_factory):
    """MediaWiki filled with PAGES (importDump.php), its dumpBackup.php --full imported into a served node."""
    try:
        check_available()
    except MediaWikiUnavailable as err:
        pytest.fail(f"MediaWiki is needed for this test and is not usable here: {err}", pytrace=False)
    tmp = tmp_path_factory.mktemp("mw-api-compare")
    dump = tmp / "filled.xml"
    # MediaWiki's installer made a "Main Page" already, newer than any revision of the dump.
    write_dump(dump, WIKI, [("Front page" if p[0] == "Main Page" else p[0], *p[1:]) for p in PAGES])
    mw = MediaWikiInstance(tmp / "mediawiki", sitename="Wikipedia", dbname=WIKI)
    mw.install()
    mw.import_dump(dump)
    backup = tmp / "backup.xml"
    mw.dump_backup(backup)
    node = tmp / "node"
    for args in (("init",), ("import", "--quiet", str(backup))):
        result = run_cli(node, *args, timeout=120)
        assert result.code == 0, str(result)
    mw_url = mw.serve() + "/api.php"
    proc, client = start_server(node)
    yield mw_url, f"{client.base_url}/w/{WIKI}/api.php"
    stop_server(proc, client)
    mw.stop()


def test_node_answers_as_mediawiki_does(mediawiki_and_node) -> None:
    mw_url, node_url = mediawiki_and_node
    found = differences(mw_url, node_url, interwiki=False)  # a dump carries no interwiki map
    assert found == [], "\n".join(found)


BAD_REQUESTS = [
    {"action": "nosuch"},
    {"action": "query", "list": "allpages", "apdir": "sideways"},
    {"action": "query", "list": "allpages", "aplimit": "lots"},
    {"action": "query", "list": "search"},
    {"action": "query", "titles": "|".join(f"T{n}" for n in range(51))},
    {"action": "query", "meta": "siteinfo", "assert": "user"},
    {"action": "query", "meta": "siteinfo", "assert": "bot"},
    {"action": "query", "prop": "revisions", "titles": "Many|Apple", "rvlimit": "2"},
    {"action": "query", "list": "usercontribs", "ucuser": "Admin", "ucshow": "top|!top"},
    {"action": "query", "list": "usercontribs", "uciprange": "10.0.0.0/8"},
    {"action": "query", "list": "usercontribs", "uciprange": "not an address"},
    {"action": "query", "list": "usercontribs", "ucuser": "Carol", "ucuserids": "3"},
    {"action": "query", "list": "usercontribs"},
    {"action": "query", "list": "usercontribs", "ucuser": "Admin", "ucshow": "!patrolled"},
]
WARNED_REQUESTS = [
    {"action": "query", "list": "allpages", "bogus": "1"},
    {"action": "query", "list": "allpages", "aplimit": "600"},
    {"action": "query", "list": "allpages|nosuchlist"},
]


@pytest.mark.parametrize("params", BAD_REQUESTS, ids=lambda p: "&".join(f"{k}={v[:12]}" for k, v in p.items()))
def test_error_codes_match_mediawiki(mediawiki_and_node, params) -> None:
    answers = [httpx.get(url, params={"format": "json", "formatversion": "2", **params}, timeout=30).json()
               for url in mediawiki_and_node]
    assert answers[0]["error"]["code"] == answers[1]["error"]["code"]


@pytest.mark.parametrize("params", WARNED_REQUESTS, ids=lambda p: "&".join(f"{k}={v[:12]}" for k, v in p.items()))
def test_warnings_match_mediawiki(mediawiki_and_node, params) -> None:
    answers = [httpx.get(url, params={"format": "json", "formatversion": "2", **params}, timeout=30).json()
               for url in mediawiki_and_node]
    assert answers[0]["warnings"] == answers[1]["warnings"]


# -- forks, proofs and bodies ----------------------------------------------------------------------------------


def test_api_shows_the_head_the_view_shows_and_proofs_verify(node, author) -> None:
    """A fork: the node's own head (older) and a stranger's (newer); the API's current revision is the one
    the node's view shows, and rvprop=wikipeer gives what verifies it."""
    base = author.edit("Forked", "base", ts=1_000)
    node.ingest(base, "test")
    ours = author.edit("Forked", "ours", parents=(base[2].cid,), ts=2_000)
    stranger = nacl.signing.SigningKey.generate()
    theirs = edit_blocks(Page("w", 0, "Forked"), "theirs", (base[2].cid,), "newer", stranger,
                         key_to_str(bytes(stranger.verify_key)), ts=3_000)
    node.ingest(ours + theirs, "test")
    answer = _call(node, "GET", action="query", titles="Forked", prop="info|revisions", formatversion="2",
                   rvprop="ids|content|wikipeer", rvslots="main")
    page = answer["query"]["pages"][0]
    rev = page["revisions"][0]
    assert rev["slots"]["main"]["content"] == "ours" and page["lastrevid"] == rev["revid"]
    assert page["wikipeerheads"] == 2
    history = _call(node, "GET", action="query", titles="Forked", prop="revisions", rvlimit="10", formatversion="2",
                    rvprop="comment|timestamp")
    assert [r["comment"] for r in history["query"]["pages"][0]["revisions"]] == ["newer", "edit", "edit"]
    proof = rev["wikipeer"]
    assert cid_from_str(proof["cid"]) == ours[2].cid
    signature = parse(node.store.get_block(cid_from_str(proof["signatures"][0]["cid"])), 0)
    assert signature.target == ours[2].cid and verify(signature.key, signature.target, signature.role, signature.sig)


def test_post_form_and_multipart_bodies(served) -> None:
    client, _ = served
    form = client.post(f"/w/{WIKI}/api.php", data={"action": "query", "titles": "Apple", "format": "json"})
    assert form.status_code == 200 and form.json()["query"]["pages"]
    multipart = client.post(f"/w/{WIKI}/api.php", data={"action": "query", "titles": "Apple", "format": "json"},
                            files={"file": ("a.txt", b"x")})
    assert multipart.status_code == 200 and multipart.json()["query"]["pages"]
    assert "Unrecognized parameter" not in json.dumps(multipart.json())
    huge = client.post(f"/w/{WIKI}/api.php", content=b"a=" + b"x" * (40 * 1024 * 1024),
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert huge.status_code == 413
    no_boundary = client.post(f"/w/{WIKI}/api.php", headers={"content-type": "multipart/form-data"},
                              content=b'--b\r\ncontent-disposition: form-data; name="action"\r\n\r\nquery\r\n--b--\r\n')
    assert no_boundary.status_code == 400 and "boundary" in no_boundary.text


# -- action=parse renders as the web page does -----------------------------------------------------------------


HELLO_MODULE = 'local p = {}\nfunction p.hello(frame)\n  return "Hello, " .. frame.args[1] .. "!"\nend\nreturn p\n'
MODULE_DUMP = ('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en"><siteinfo>'
               "<sitename>Wikipedia</sitename><dbname>luawiki</dbname><case>first-letter</case><namespaces>"
               '<namespace key="0" case="first-letter" /><namespace key="6" case="first-letter">File</namespace>'
               '<namespace key="828" case="first-letter">Module</namespace></namespaces></siteinfo>'
               "<page><title>Module:Hello</title><ns>828</ns><id>1</id><revision><id>1</id>"
               "<timestamp>2026-01-01T00:00:00Z</timestamp><contributor><username>Ann</username><id>1</id>"
               "</contributor><comment>a module</comment><model>Scribunto</model><format>text/plain</format>"
               '<text xml:space="preserve">{text}</text></revision></page></mediawiki>')


def test_parse_renders_modules_and_files_as_the_web_page_does(node_dir, tmp_path) -> None:
    """One reader for both (wikipeer.reading): the same HTML body for a page calling a Lua module and showing
    an uploaded file, in ``action=parse`` and in the web page's article."""
    from xml.sax.saxutils import escape

    from mw_populate import tiny_png
    dump, dot = tmp_path / "module.xml", tmp_path / "dot.png"
    dump.write_text(MODULE_DUMP.format(text=escape(HELLO_MODULE)), encoding="utf-8")
    dot.write_bytes(tiny_png())
    for args, text in ((("import", "--quiet", str(dump)), None),
                       (("upload", str(dot), "--title", "File:Dot.png", "--wiki", "luawiki", "-m", "a dot"), None),
                       (("edit", "luawiki", "Greeting", "-m", "a page"),
                        "{{#invoke:Hello|hello|World}}\n\n[[File:Dot.png|thumb|A red dot]] [[Absent page]]")):
        result = run_cli(node_dir, *args, input=text)
        assert result.code == 0, str(result)
    proc, client = start_server(node_dir)
    try:
        web = client.get("/wiki/luawiki/Greeting")
        parsed = client.get("/w/luawiki/api.php", params={"action": "parse", "page": "Greeting", "prop": "text",
                                                          "format": "json", "formatversion": "2"}).json()
    finally:
        stop_server(proc, client)
    assert web.status_code == 200
    body = parsed["parse"]["text"]
    assert body.startswith('<div class="mw-parser-output">') and body.count("mw-parser-output") == 1
    assert "Hello, World!" in body and '<img src="/file/luawiki/Dot.png?v=' in body and 'class="new"' in body
    assert f'dir="ltr">{body}</div>' in web.text


# -- parameters paraminfo advertises do what they say --------------------------------------------------------


def _contribs(client: httpx.Client, **params) -> list[tuple[str, str]]:
    answer = get(client, action="query", list="usercontribs", uclimit="max", formatversion=2, **params)
    assert "error" not in answer, answer
    return sorted((c["title"], c["comment"]) for c in answer["query"]["usercontribs"])


def test_usercontribs_show_ids_and_ip_ranges(served) -> None:
    client, _ = served
    bob = [("Category:Things", "cat"), ("Main Page", "categorise"), ("Talk:Main Page", "hi"), ("Template:Box", "tpl")]
    assert _contribs(client, ucuserids="2") == bob
    assert _contribs(client, ucuserids="2|1") == sorted(bob + [
        ("Main Page", "first"), ("Old name", "move"), ("User:Alice", "me"), ("Wikipedia:About", "about")])
    assert _contribs(client, uciprange="192.0.2.0/24") == [("Main Page", "typo")]
    assert _contribs(client, uciprange="198.51.100.0/24") == []
    assert _contribs(client, ucuser="Carol", ucshow="top") == [
        ("Apple", "sections"), ("Many", f"edit {MANY - 1}"), ("Wikipedia:About", "about more")]
    assert _contribs(client, ucuser="Carol", ucshow="new") == [("Apple", "new"), ("Many", "edit 0")]
    assert _contribs(client, ucuser="Carol", ucshow="minor|!new") == sorted(
        ("Many", f"edit {n}") for n in range(1, MANY, 2))
    not_top = _contribs(client, ucuser="Carol", ucshow="!top|!minor")
    assert ("Apple", "new") in not_top and ("Apple", "sections") not in not_top and len(not_top) == 2 + MANY // 2 - 1
    deprecated = get(client, action="query", list="usercontribs", ucuser="Carol", uctoponly=1, formatversion=2)
    assert len(deprecated["query"]["usercontribs"]) == 3
    assert deprecated["warnings"]["usercontribs"]["warnings"] == 'The parameter "uctoponly" has been deprecated.'
    assert _contribs(client, ucuser="Carol", uctag="some-tag") == []
    for params, code in (({"ucuser": "Carol", "ucshow": "top|!top"}, "show"),
                         ({"uciprange": "10.0.0.0/8"}, "cidrtoobroad"),
                         ({"uciprange": "2001:db8::/16"}, "cidrtoobroad"),
                         ({"uciprange": "not an address"}, "invalidiprange"),
                         ({"ucuser": "Carol", "ucuserids": "3"}, "invalidparammix")):
        answer = get(client, action="query", list="usercontribs", **params)
        assert answer["error"]["code"] == code, params
    assert get(client, action="query", list="usercontribs", ucuser="Carol",
               ucshow="patrolled")["error"]["code"] == "permissiondenied"  # nobody patrols on a node


def _members(client: httpx.Client, **params) -> list[str]:
    answer = get(client, action="query", list="categorymembers", cmtitle="Category:Things", formatversion=2, **params)
    assert "error" not in answer, answer
    return [m["title"] for m in answer["query"]["categorymembers"]]


def test_categorymembers_by_time_added_and_direction(served) -> None:
    client, _ = served
    assert _members(client) == ["Apple", "Main Page"]
    assert _members(client, cmdir="desc") == _members(client, cmdir="older") == ["Main Page", "Apple"]
    # Main Page joined the category on 2024-01-03 (its third revision), Apple on 2024-01-11
    assert _members(client, cmsort="timestamp") == ["Main Page", "Apple"]
    assert _members(client, cmsort="timestamp", cmdir="older") == ["Apple", "Main Page"]
    assert _members(client, cmsort="timestamp", cmstart="2024-01-05T00:00:00Z") == ["Apple"]
    assert _members(client, cmsort="timestamp", cmdir="older", cmstart="2024-01-05T00:00:00Z") == ["Main Page"]
    assert _members(client, cmsort="timestamp", cmend="2024-01-05T00:00:00Z") == ["Main Page"]
    assert _members(client, cmstart="2024-01-05T00:00:00Z") == ["Apple", "Main Page"]  # ignored, as MediaWiki does
    stamped = get(client, action="query", list="categorymembers", cmtitle="Category:Things", cmprop="title|timestamp",
                  cmsort="timestamp", cmlimit=1, formatversion=2)
    assert stamped["query"]["categorymembers"] == [{"ns": 0, "title": "Main Page", "timestamp": "2024-01-03T00:00:00Z"}]
    nxt = get(client, action="query", list="categorymembers", cmtitle="Category:Things", cmprop="title|timestamp",
              cmsort="timestamp", cmlimit=1, formatversion=2, **stamped["continue"])
    assert nxt["query"]["categorymembers"] == [{"ns": 0, "title": "Apple", "timestamp": "2024-01-11T00:00:00Z"}]


def test_siteinfo_interwiki_map_and_aliases_from_the_wiki_configuration(node) -> None:
    """A wiki pulled from a MediaWiki keeps its interwiki map: siteinfo answers it; without one, the built-in
    map. Aliases are MediaWiki's (Image, Image talk, the language's), never the canonical names."""
    def siteinfo() -> dict:
        return _call(node, "GET", action="query", meta="siteinfo", siprop="interwikimap|namespacealiases",
                     formatversion="2")["query"]

    built_in = siteinfo()
    assert {"prefix": "wikt", "url": "https://en.wiktionary.org/wiki/$1", "protorel": False} in built_in["interwikimap"]
    assert built_in["namespacealiases"] == [{"id": 6, "alias": "Image"}, {"id": 7, "alias": "Image talk"}]
    config = node.wiki("w")
    del config.namespaces[7]  # a dump may declare only some namespaces: no alias of one it lacks
    config.interwiki = {"zz": "//zz.example/wiki/$1", "acronym": "https://acronym.example/?q=$1"}
    config.lang = "de"
    node.store.set_wiki_config(config)
    pulled = siteinfo()
    assert pulled["interwikimap"] == [{"prefix": "acronym", "url": "https://acronym.example/?q=$1", "protorel": False},
                                      {"prefix": "zz", "url": "//zz.example/wiki/$1", "protorel": True}]
    assert {"id": 6, "alias": "Bild"} in pulled["namespacealiases"]
    assert [a for a in pulled["namespacealiases"] if a["id"] == 7] == []
    config.namespace_aliases = {"Datei": 6, "Bild": 6}  # what a pull keeps from the wiki's own siteinfo
    node.store.set_wiki_config(config)
    assert siteinfo()["namespacealiases"] == [{"id": 6, "alias": "Bild"}, {"id": 6, "alias": "Datei"}]


# -- views, allrevisions, the generator forms, index.php's view ------------------------------------------------


def test_view_parameter_chooses_another_views_head(node) -> None:
    """A page with three heads: views A and B trust a different one each; view= picks which the API shows."""
    from test_trust import _two_head_page

    heads = _two_head_page(node)
    node.config.views = {"A": [heads["c1"]], "B": [heads["c2"]]}

    def shown(**view) -> tuple[str, int]:
        answer = _call(node, "GET", action="query", titles="P", prop="info|revisions", rvprop="ids|content",
                       rvslots="main", formatversion="2", **view)
        page = answer["query"]["pages"][0]
        assert page["lastrevid"] == page["revisions"][0]["revid"]
        return page["revisions"][0]["slots"]["main"]["content"], page["lastrevid"]

    default, in_a, in_b = shown(), shown(view="A"), shown(view="B")
    assert (default[0], in_a[0], in_b[0]) == ("text C\n", "text A\n", "text B\n")
    assert len({default[1], in_a[1], in_b[1]}) == 3
    top = _call(node, "GET", action="query", list="usercontribs", ucuser=heads["x"].public, ucshow="top",
                formatversion="2", view="B")
    assert [c["revid"] for c in top["query"]["usercontribs"] if c["title"] == "P"] == [in_b[1]]


def test_allrevisions_gives_every_revisions_content_across_continuations(served) -> None:
    client, _ = served
    texts, cont, requests = [], {"continue": ""}, 0
    while True:
        answer = get(client, action="query", list="allrevisions", arvprop="ids|timestamp|content", arvslots="main",
                     arvdir="newer", arvlimit=7, formatversion=2, **cont)
        requests += 1
        texts += [(rev["timestamp"], entry["title"], rev["slots"]["main"]["content"])
                  for entry in answer["query"]["allrevisions"] for rev in entry["revisions"]]
        if "continue" not in answer:
            break
        cont = answer["continue"]
        assert "arvcontinue" in cont
    expected = sorted((ts, title, rev[6]) for title, _, _, _, revs in PAGES for rev in revs for ts in [rev[2]])
    assert texts == expected and requests == -(-len(expected) // 7)
    older = get(client, action="query", list="allrevisions", arvprop="comment", arvlimit=2, formatversion=2)
    assert [e["title"] for e in older["query"]["allrevisions"]] == ["Many"]
    assert [r["comment"] for r in older["query"]["allrevisions"][0]["revisions"]] == [f"edit {MANY - 1}",
                                                                                      f"edit {MANY - 2}"]


def _pages(client: httpx.Client, **params) -> dict[str, dict]:
    answer = get(client, action="query", formatversion=2, **params)
    assert "error" not in answer, answer
    return {p["title"]: p for p in answer["query"]["pages"]}


def test_generator_forms_of_the_lists(served) -> None:
    client, _ = served
    contributed = _pages(client, generator="usercontribs", gucuser="Alice", prop="info")
    assert sorted(contributed) == ["Main Page", "Old name", "User:Alice", "Wikipedia:About"]
    assert all(p["lastrevid"] > 0 for p in contributed.values())
    recent = _pages(client, generator="recentchanges", grcdir="newer", grclimit=4, prop="info")
    assert sorted(recent) == ["Main Page", "Talk:Main Page"]
    revised = _pages(client, generator="allrevisions", garvdir="newer", garvlimit=4, prop="revisions",
                     rvprop="comment")
    assert {t: [r["comment"] for r in p["revisions"]] for t, p in revised.items()} == {
        "Main Page": ["first", "typo", "categorise"], "Talk:Main Page": ["hi"]}
    following = get(client, action="query", generator="allrevisions", garvdir="newer", garvlimit=4, prop="info",
                    formatversion=2)
    assert "garvcontinue" in following["continue"]
    found = _pages(client, generator="search", gsrsearch="banana", prop="revisions", rvprop="content", rvslots="main")
    assert list(found) == ["Main Page"]
    assert found["Main Page"]["revisions"][0]["slots"]["main"]["content"].startswith("Welcome! A banana page.")


def test_index_php_view_sends_to_the_page(served) -> None:
    client, _ = served
    for params in ({"title": "Main_Page"}, {"title": "Main Page", "action": "view"}):
        answer = client.get(f"/w/{WIKI}/index.php", params=params)
        assert answer.status_code == 301 and answer.headers["location"] == f"/wiki/{WIKI}/Main_Page"
        page = client.get(f"/w/{WIKI}/index.php", params=params, follow_redirects=True)
        assert page.status_code == 200 and "A banana page." in page.text


def test_categorymembers_sort_key_ranges(node, author) -> None:
    """Members sort by MediaWiki's "uppercase" sort key, the title without its namespace (User:Ann under A);
    the sort key prefix and hex ranges take their part of that order, in either direction."""
    for ns, title in ((0, "Zebra"), (2, "Ann"), (0, "Bee"), (0, "Cat")):
        node.ingest(edit_blocks(Page("w", ns, title), "[[Category:Animals]]", (), "edit", author.key, author.public,
                                1_000), "test")

    def members(**params) -> list[str]:
        answer = _call(node, "GET", action="query", list="categorymembers", cmtitle="Category:Animals",
                       formatversion="2", **params)
        return [m["title"] for m in answer["query"]["categorymembers"]]

    assert members() == ["User:Ann", "Bee", "Cat", "Zebra"]
    assert members(cmstartsortkeyprefix="b", cmendsortkeyprefix="Cz") == ["Bee", "Cat"]
    assert members(cmdir="desc", cmstartsortkeyprefix="Cz", cmendsortkeyprefix="B") == ["Cat", "Bee"]
    assert members(cmstarthexsortkey=b"CAT".hex()) == ["Cat", "Zebra"]
    keyed = _call(node, "GET", action="query", list="categorymembers", cmtitle="Category:Animals", cmprop="sortkey",
                  cmlimit="1", formatversion="2")
    assert keyed["query"]["categorymembers"] == [{"sortkey": b"ANN".hex()}]
    assert _call(node, "GET", action="query", list="categorymembers", cmtitle="Category:Animals",
                 cmstarthexsortkey="xyz")["error"]["code"] == "badvalue"


def test_redirects_in_the_wikis_language_on_the_web_and_in_api_php(tmp_path) -> None:
    # a Hebrew wiki: `#הפניה` is its redirect word (MediaWiki's language data); `#WEITERLEITUNG` is German's
    dump = tmp_path / "dump.xml"
    write_dump(dump, "hewiki", [
        ("Apple", 0, 1, None, [(1, None, "2024-01-01T00:00:00Z", ("user", "Alice", 1), False, "new", "תפוח.")]),
        ("Old", 0, 2, None, [(2, None, "2024-01-02T00:00:00Z", ("user", "Alice", 1), False, "move",
                               "#הפניה [[Apple]]")]),
        ("German", 0, 3, None, [(3, None, "2024-01-03T00:00:00Z", ("user", "Alice", 1), False, "x",
                                  "#WEITERLEITUNG [[Apple]]")]),
    ])
    dump.write_text(dump.read_text(encoding="utf-8").replace('xml:lang="en"', 'xml:lang="he"'), encoding="utf-8")
    node = tmp_path / "node"
    for args in (("init",), ("import", "--quiet", str(dump))):
        result = run_cli(node, *args, timeout=120)
        assert result.code == 0, str(result)
    proc, client = start_server(node)
    try:
        answer = client.get("/w/hewiki/api.php", params={"action": "query", "titles": "Old|German", "redirects": 1,
                                                          "format": "json", "formatversion": 2}).json()
        assert answer["query"]["redirects"] == [{"from": "Old", "to": "Apple"}]
        page = client.get("/wiki/hewiki/Old", params={"redirect": "no"})
        assert page.status_code == 200 and "הפניה ל:" in page.text
        followed = client.get("/wiki/hewiki/Old")
        assert "תפוח." in followed.text
        assert "תפוח." not in client.get("/wiki/hewiki/German").text
    finally:
        stop_server(proc, client)

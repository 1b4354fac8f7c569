"""Core magic words and parser functions (issue 13, item 2), each on a small text of our own.

MediaWiki's own cases for them run in tests/test_parser_tests.py; these pin
the behaviour a reader relies on, one point per test.
"""

from __future__ import annotations

from test_render import Wiki, tree, visible
from wikipeer.render import Rendered, render
from wikipeer.render.context import Revision

# 2020-09-13 12:26:40 UTC, a Sunday
REVISION = Revision(id="bafyrev", timestamp=1_600_000_000, user="Alice", size=42)


def rendered(text: str, title: str = "Test page", server: str = "http://wiki.example:8080") -> Rendered:
    ctx = Wiki(title=title).context()
    ctx.revision, ctx.server = REVISION, server
    return render(text, ctx)


def shown(text: str, **kw) -> str:
    return visible(rendered(text, **kw).html)


def test_clock_words_read_the_revisions_time_not_the_clock():
    words = "{{CURRENTYEAR}} {{CURRENTMONTH}} {{CURRENTMONTH1}} {{CURRENTDAY}} {{CURRENTDAY2}} {{CURRENTDAYNAME}}"
    assert shown(words) == "2020 09 9 13 13 Sunday"
    assert shown("{{CURRENTTIME}} {{CURRENTHOUR}} {{CURRENTDOW}} {{CURRENTWEEK}} {{CURRENTMONTHABBREV}}") == "12:26 12 0 37 Sep"
    assert shown("{{LOCALTIMESTAMP}} {{CURRENTTIMESTAMP}} {{LOCALMONTHNAME}}") == "20200913122640 20200913122640 September"


def test_revision_words_describe_the_rendered_revision():
    assert shown("{{REVISIONID}} {{REVISIONUSER}} {{REVISIONSIZE}}") == "bafyrev Alice 42"
    assert shown("{{REVISIONYEAR}} {{REVISIONMONTH}} {{REVISIONMONTH1}} {{REVISIONDAY}} {{REVISIONDAY2}}") == "2020 09 9 13 13"
    assert shown("{{REVISIONTIMESTAMP}}") == "20200913122640"
    # of another page the renderer knows no revision: empty, as MediaWiki gives for a missing page
    assert shown("[{{REVISIONID:Other page}}] [{{REVISIONID:Test page}}]") == "[] [bafyrev]"


def test_namespace_words_for_talk_and_subject():
    assert shown("{{TALKSPACE}}|{{SUBJECTSPACE}}|{{TALKSPACEE}}", title="User:Foo bar") == "User talk|User|User_talk"
    assert shown("{{TALKSPACE}}|{{SUBJECTSPACE}}|{{SUBJECTSPACEE}}", title="User talk:Foo") == "User talk|User|User"
    assert shown("{{TALKSPACE}}|{{SUBJECTSPACE}}.", title="Foo") == "Talk|."
    assert shown("{{TALKSPACE:Help:X}}") == "Help talk"


def test_server_words_name_the_node():
    assert shown("{{SERVER}}") == "http://wiki.example:8080"
    assert shown("{{SERVERNAME}} {{servername}}") == "wiki.example wiki.example"


def test_page_names_are_escaped_so_a_title_makes_no_markup():
    out = rendered("{{PAGENAME}}", title="*RFC 1234 http://example.com/").html
    assert not tree(out).xpath("//li|//a"), out
    assert visible(out) == "*RFC 1234 http://example.com/"
    out = rendered("''{{PAGENAME}}''", title="'foo & bar = baz'").html
    assert visible(out) == "'foo & bar = baz'" and tree(out).xpath("//i")
    assert shown("{{PAGENAMEE}}", title="*RFC 1234 http://example.com/") == "*RFC_1234_http://example.com/"


def test_case_and_url_functions_keep_the_strip_marker_out_of_the_page():
    assert shown("{{lc:X<nowiki/>Y}} {{uc:x<nowiki>&lt;b&gt;</nowiki>y}}") == "xy X<b>Y"
    assert shown("{{urlencode:x<nowiki/>y z}} {{urlencode:a b&c|WIKI}} {{urlencode:a b|PATH}}") == "xy+z a_b%26c a%20b"
    assert shown("{{padleft:7|3|x<nowiki/>}}") == "xx7"

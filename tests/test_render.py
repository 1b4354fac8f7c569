"""The wikitext renderer: each feature on a small text of our own, hostile
inputs, limits, and a property test that no input raises or yields script."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from wikipeer.model.title import DEFAULT_NAMESPACES, WikiConfig
from wikipeer.render import Limits, RenderContext, Rendered, language_data, render


class Wiki:
    """An in-memory wiki: templates by full title, the titles that exist, the exists calls."""

    def __init__(self, templates: dict[str, str] | None = None, existing: Iterable[str] = (),
                 config: WikiConfig | None = None, title: str = "Test page", limits: Limits | None = None):
        self.templates = templates or {}
        self.existing = set(existing)
        self.exists_calls: list[list[str]] = []
        self.config = config or WikiConfig("testwiki", sitename="Test Wiki")
        self.title = title
        self.limits = limits or Limits()

    def exists(self, titles: Iterable[str]) -> set[str]:
        titles = list(titles)
        self.exists_calls.append(titles)
        return {t for t in titles if t in self.existing}

    def context(self) -> RenderContext:
        return RenderContext(
            config=self.config, title=self.title, href=lambda t: "/wiki/" + t.replace(" ", "_"),
            exists=self.exists, template=self.templates.get, limits=self.limits)

    def render(self, text: str) -> Rendered:
        return render(text, self.context())


def html_of(text: str, **kw) -> str:
    return Wiki(**kw).render(text).html


def visible(fragment: str) -> str:
    """The text a reader sees, whitespace collapsed."""
    return " ".join(lxml_html.fromstring(f"<div>{fragment}</div>").text_content().split())


def tree(fragment: str):
    """The parsed page; xpaths starting with ./ look at its top-level blocks."""
    return lxml_html.fromstring(f"<div>{fragment}</div>")[0]


_FORBIDDEN = {"script", "style", "iframe", "object", "embed", "form", "input", "img", "link", "meta", "base"}


def assert_safe(fragment: str) -> None:
    """No active content: forbidden tags, event handlers, script URLs, loading CSS."""
    for element in lxml_html.fromstring(f"<div>{fragment}</div>").iter():
        assert element.tag not in _FORBIDDEN, element.tag
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), name
            if name in ("href", "src", "action", "formaction"):
                assert re.match(r"(https?:|mailto:|/|#)", value) or ":" not in value.split("/")[0], value
            if name == "style":
                assert not re.search(r"url\(|expression|@import|\\", value, re.I), value


# -- paragraphs, headings, TOC --------------------------------------------------


def test_paragraphs_split_on_blank_lines():
    doc = tree(html_of("First line\nsame paragraph\n\nSecond paragraph"))
    paragraphs = [" ".join(p.text_content().split()) for p in doc.iter("p")]
    assert paragraphs == ["First line same paragraph", "Second paragraph"]


def test_headings_get_anchors_and_no_toc_below_four():
    out = html_of("== Alpha beta ==\ntext\n=== Gamma ===\nmore\n== Alpha beta ==\n")
    doc = tree(out)
    assert [h.tag for h in doc.xpath("//h2|//h3")] == ["h2", "h3", "h2"]
    assert [s.get("id") for s in doc.xpath("//span[@class='mw-headline']")] == ["Alpha_beta", "Gamma", "Alpha_beta_2"]
    assert 'id="toc"' not in out


def test_toc_from_four_headings_numbered_and_placed_before_first_heading():
    out = html_of("Intro\n== A ==\n=== A1 ===\n== B ==\n== C ==\n")
    doc = tree(out)
    toc = doc.xpath("//div[@id='toc']")[0]
    assert [n.text for n in toc.xpath(".//span[@class='tocnumber']")] == ["1", "1.1", "2", "3"]
    assert [a.get("href") for a in toc.xpath(".//a")] == ["#A", "#A1", "#B", "#C"]
    assert out.index('id="toc"') < out.index('id="A"') and out.index("Intro") < out.index('id="toc"')


def test_toc_switches():
    four = "== A ==\n== B ==\n== C ==\n== D ==\n"
    assert 'id="toc"' not in html_of("__NOTOC__\n" + four)
    assert 'id="toc"' in html_of("__FORCETOC__\n== A ==\n")
    out = html_of("== A ==\ntext\n__TOC__\n== B ==\n")
    assert 'id="toc"' in out and out.index('id="A"') < out.index('id="toc"') < out.index('id="B"')
    assert "__" not in visible(html_of("__NOTOC__ __NOEDITSECTION__ words"))


def test_horizontal_rule_and_comments():
    out = html_of("above\n----\nbelow <!-- hidden --> end\n<!-- own line -->\nnext")
    assert "<hr>" in out
    assert "hidden" not in out and "own line" not in out
    assert "below end" in visible(out)


# -- bold and italic -------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("''it'' '''bo''' '''''both'''''", "<i>it</i> <b>bo</b> <i><b>both</b></i>"),
    ("''unclosed italic", "<i>unclosed italic</i>"),
    ("l'''amour'' x", "l'<i>amour</i> x"),
    ("''''four''''", "'<b>four'</b>"),
])
def test_quotes_like_mediawiki(text, expected):
    assert expected in html_of(text)


def test_quotes_close_at_end_of_line():
    out = html_of("'''bold\nplain")
    assert "<b>bold</b>" in out and "<b>plain" not in out


# -- internal links ----------------------------------------------------------------


def test_internal_links_labels_trails_and_red_links():
    wiki = Wiki(existing={"Foo"})
    out = wiki.render("[[Foo]] [[Foo|label]] [[Foo]]s [[missing page]] [[Foo#Some part|sec]]").html
    links = tree(out).xpath("//a")
    assert [(a.get("href"), a.text_content(), a.get("class")) for a in links] == [
        ("/wiki/Foo", "Foo", None), ("/wiki/Foo", "label", None), ("/wiki/Foo", "Foos", None),
        ("/wiki/Missing_page", "missing page", "new"), ("/wiki/Foo#Some_part", "sec", None),
    ]


def test_exists_is_asked_once_with_every_title():
    wiki = Wiki(templates={"Template:T": "[[From template]]"})
    wiki.render("[[A]] [[B]] {{T}} text<ref>[[In note]]</ref>")
    assert len(wiki.exists_calls) == 1
    assert set(wiki.exists_calls[0]) == {"A", "B", "From template", "In note"}


def test_section_link_and_self_link():
    out = html_of("[[#Local part]] [[Test page]]")
    links = tree(out).xpath("//a")
    assert links[0].get("href") == "#Local_part" and links[0].text_content() == "#Local part"
    assert links[1].get("href") is None and "selflink" in links[1].get("class")


def test_invalid_link_targets_stay_text():
    out = html_of("[[a<b]] [[Foo|]] [[unclosed")
    assert "<a" not in out
    assert visible(out) == "[[a<b]] [[Foo|]] [[unclosed"
    # As in MediaWiki, a URL in double brackets is a numbered external link in brackets.
    assert visible(html_of("[[http://example.com]]")) == "[[1]]"


def test_interwiki_and_language_links():
    result = Wiki().render("See [[wikt:word]] and [[commons:Cat]].\n[[fr:Paris]]\n[[:de:Berlin|Berlin]]")
    hrefs = [a.get("href") for a in tree(result.html).xpath("//a")]
    assert hrefs == ["https://en.wiktionary.org/wiki/word", "https://commons.wikimedia.org/wiki/Cat",
                     "https://de.wikipedia.org/wiki/Berlin"]
    assert result.language_links == ["fr:Paris"]
    assert "Paris" not in visible(result.html)


def test_a_wikis_own_interwiki_map_local_prefixes_and_talk_pages():
    own = {"local": "http://wiki.example/wiki/$1", "meatball": "http://www.usemod.com/cgi-bin/mb.pl?$1",
           "es": "http://es.wikipedia.org/wiki/$1"}
    config = WikiConfig("testwiki", base="http://wiki.example/wiki/Main_Page", interwiki=own)
    result = Wiki(config=config, existing={"Foo"}).render(
        "[[MeatBall:Soft Security#top]] [[meatball:a]]b [[wikt:word]] [[local:Foo]] [[local:es:Hola]]\n[[es:Hola]]")
    links = [(a.get("href"), a.get("title"), a.text_content()) for a in tree(result.html).xpath("//a")]
    assert links == [
        ("http://www.usemod.com/cgi-bin/mb.pl?Soft_Security#top", "meatball:Soft Security", "MeatBall:Soft Security#top"),
        ("http://www.usemod.com/cgi-bin/mb.pl?a", "meatball:a", "meatball:ab"),  # the trail joins the link
        ("/wiki/Wikt:word", "Wikt:word", "wikt:word"),  # the wiki's own map has no wikt: a page of this wiki
        ("/wiki/Foo", "Foo", "local:Foo"),
        ("http://es.wikipedia.org/wiki/Hola", "es:Hola", "local:es:Hola"),  # a local prefix keeps it inline
    ]
    assert result.language_links == ["es:Hola"]
    # on a talk page a language prefix makes an ordinary link (MediaWiki's rule)
    talk = Wiki(config=config, title="Talk:X").render("[[es:Hola]]")
    assert talk.language_links == [] and "http://es.wikipedia.org/wiki/Hola" in talk.html


def test_a_local_prefix_alone_leads_to_the_main_page_in_the_wikis_language():
    own = {"local": "http://wiki.example/wiki/$1"}
    german = WikiConfig("dewiki", lang="de", base="http://wiki.example/wiki/Hauptseite", interwiki=own)
    assert tree(Wiki(config=german).render("[[local:]]").html).xpath("//a/@href") == ["/wiki/Hauptseite"]
    english = WikiConfig("testwiki", base="http://wiki.example/wiki/Main_Page", interwiki=own)
    assert tree(Wiki(config=english).render("[[local:]]").html).xpath("//a/@href") == ["/wiki/Main_Page"]


def test_categories_leave_the_body():
    result = Wiki().render("Text.\n[[Category:Birds]]\n[[category:small birds|sort key]]")
    assert result.categories == ["Birds", "Small birds"]
    assert visible(result.html) == "Text."


def test_localised_category_namespace():
    namespaces = dict(DEFAULT_NAMESPACES) | {14: "Thể loại", 10: "Bản mẫu", 6: "Tập tin"}
    config = WikiConfig("viwiki", lang="vi", namespaces=namespaces)
    result = Wiki(config=config, templates={"Bản mẫu:Chào": "xin chào"}).render(
        "[[Thể loại:Chim]] [[Category:Cá]] {{Chào}} {{Template:Chào}}")
    assert result.categories == ["Chim", "Cá"]
    assert visible(result.html) == "xin chào xin chào"


def test_missing_files_are_red_links_to_upload_them():
    out = html_of("[[File:Bird.jpg|thumb|left|200px|A [[Bird|bird]] flying]] and [[Image:Icon.png|20px]]")
    doc = tree(out)
    assert "<img" not in out
    figure = doc.xpath("//figure")[0]
    assert figure.get("typeof") == "mw:Error mw:File/Thumb"
    assert figure.xpath("./figcaption")[0].text_content() == "A bird flying"
    assert figure.xpath(".//a")[0].get("href") == "/upload?wpDestFile=Bird.jpg"
    assert figure.xpath(".//a")[0].get("class") == "new"
    assert doc.xpath("//figcaption/a")[0].get("href") == "/wiki/Bird"
    assert "File:Icon.png" in visible(out)


# -- external links ------------------------------------------------------------------


def test_external_links():
    out = html_of("[http://example.com/a Example] [https://example.org] see https://example.net/x.")
    links = tree(out).xpath("//a")
    assert [(a.get("href"), a.text_content()) for a in links] == [
        ("http://example.com/a", "Example"), ("https://example.org", "[1]"), ("https://example.net/x", "https://example.net/x")]
    assert all("external" in a.get("class") and a.get("rel") == "nofollow noopener" for a in links)
    assert visible(out).endswith("https://example.net/x.")


# -- lists -------------------------------------------------------------------------------


def test_nested_and_mixed_lists():
    doc = tree(html_of("* one\n** one.a\n*# one.b\n* two\n# first\n# second"))
    assert [li.text.strip() for li in doc.xpath("./ul/li")] == ["one", "two"]
    assert doc.xpath("./ul/li[1]/ul/li")[0].text.strip() == "one.a"
    assert doc.xpath("./ul/li[1]/ol/li")[0].text.strip() == "one.b"
    assert [li.text.strip() for li in doc.xpath("./ol/li")] == ["first", "second"]


def test_definition_lists():
    doc = tree(html_of("; Term : Definition\n; Other\n: its meaning\n: indented"))
    assert [dt.text.strip() for dt in doc.xpath("//dt")] == ["Term", "Other"]
    assert [dd.text.strip() for dd in doc.xpath("//dd")] == ["Definition", "its meaning", "indented"]


# -- tables --------------------------------------------------------------------------------


def test_tables_with_attributes_captions_headers_inline_cells_and_nesting():
    text = ('{| class="wikitable" onclick="x()"\n|+ Caption\n! H1 !! H2\n|-\n| a || b\n|-\n'
            '| style="color:red" | c\n|\n{|\n| inner\n|}\n|}')
    doc = tree(html_of(text))
    table = doc.xpath("./table")[0]
    assert table.get("class") == "wikitable" and table.get("onclick") is None
    assert table.xpath("./caption")[0].text_content().strip() == "Caption"
    assert [th.text_content().strip() for th in table.xpath(".//th")] == ["H1", "H2"]
    cells = table.xpath("./tbody/tr/td|./tr/td")
    assert [c.text_content().strip() for c in cells[:3]] == ["a", "b", "c"]
    assert cells[2].get("style") == "color:red"
    assert cells[3].xpath(".//table//td")[0].text_content().strip() == "inner"


# -- refs -------------------------------------------------------------------------------------


def test_refs_named_reuse_and_references_list():
    out = html_of("A<ref>First note</ref> B<ref name=n>Named</ref> C<ref name=n/>\n== Notes ==\n<references/>\nafter")
    doc = tree(out)
    assert [s.text_content() for s in doc.xpath("//sup[@class='reference']")] == ["[1]", "[2]", "[2]"]
    items = doc.xpath("//ol[@class='references']/li")
    assert [i.xpath(".//span[@class='reference-text']")[0].text_content() for i in items] == ["First note", "Named"]
    assert out.index("references") < out.index("after")


def test_refs_without_references_tag_are_listed_at_the_end():
    out = html_of("Text<ref>Note with '''bold''' and [[Link]]</ref> more.")
    assert out.rindex("reference-text") > out.index("more.")
    assert "<b>bold</b>" in out and 'href="/wiki/Link"' in out


def test_ref_groups():
    doc = tree(html_of('A<ref group="n">x</ref> B<ref>y</ref>\n<references group="n"/>\n<references/>'))
    assert [s.text_content() for s in doc.xpath("//sup[@class='reference']")] == ["[n 1]", "[1]"]
    assert len(doc.xpath("//ol[@class='references']")) == 2


# -- tags ------------------------------------------------------------------------------------------


def test_nowiki_pre_and_leading_space():
    out = html_of("<nowiki>[[not a link]] ''x''</nowiki>\n<pre>{{not}} <b>raw</b></pre>\n pre ''line''\n")
    assert "<a" not in out and "[[not a link]] ''x''" in visible(out)
    assert "{{not}} &lt;b&gt;raw&lt;/b&gt;" in out
    assert "<pre><i>" not in out and "pre <i>line</i>" in out


def test_inline_html_tags_kept():
    out = html_of("a<br>b <small>s</small> <sup>2</sup> <sub>x</sub> <code>c</code>\n<blockquote>q</blockquote>"
                  '<div class="box" id="d1">d</div><span title="t" class="c">s</span>')
    for fragment in ("<br>", "<small>s</small>", "<sup>2</sup>", "<sub>x</sub>", "<code>c</code>", "<blockquote>",
                     '<div class="box" id="d1">d</div>', '<span title="t" class="c">s</span>'):
        assert fragment in out


# -- templates --------------------------------------------------------------------------------------


def test_template_parameters_named_numbered_and_defaults():
    wiki = Wiki(templates={"Template:Box": "[{{{1}}}|{{{name}}}|{{{2|two}}}|{{{x|}}}]"})
    assert visible(wiki.render("{{Box|one|name = N }}").html) == "[one|N|two|]"
    assert visible(wiki.render("{{box| one |2= b }}").html) == "[ one |{{{name}}}|b|]"


def test_transclusion_of_other_namespaces_and_main():
    wiki = Wiki(templates={"Main": "main text", "User:X/y": "user text", "Template:Main": "wrong"})
    assert visible(wiki.render("{{:Main}} {{User:X/y}}").html) == "main text user text"


def test_noinclude_includeonly_onlyinclude():
    templates = {"Template:A": "shown<noinclude>doc</noinclude><includeonly> only</includeonly>",
                 "Template:B": "x<onlyinclude>kept</onlyinclude>y"}
    wiki = Wiki(templates=templates)
    assert visible(wiki.render("{{A}}{{B}}").html) == "shown onlykept"
    assert visible(wiki.render("a<includeonly>hidden</includeonly><noinclude>b</noinclude>").html) == "ab"


def test_self_closed_noinclude_inside_a_template_call_vanishes_when_transcluded():
    """enwiki's Para, Harvid, Resize... write ``{{SAFESUBST:<noinclude />#if:...}}`` so that substitution is safe;
    transcluded, the empty ``<noinclude />`` is nothing and the call runs (it came out as source text)."""
    templates = {"Template:P": "<code>|{{SAFESUBST:<noinclude />#if:{{{1|}}}|{{{1}}}=}}{{{2|}}}</code>",
                 "Template:Q": "{{safesubst<noinclude />:#if:{{{1|}}}|yes|no}}<noinclude />!",
                 "Template:R": "a<noinclude/>b<noinclude >c</noinclude>d"}
    wiki = Wiki(templates=templates)
    assert visible(wiki.render("{{P|title|An example}} {{Q|x}} {{R}}").html) == "|title=An example yes! abd"
    # On the template's own page the tags go, their content stays.
    assert visible(wiki.render("{{SAFESUBST:<noinclude />#if:x|on|off}}<noinclude/>").html) == "on"


def test_templates_are_recorded_present_or_absent():
    wiki = Wiki(templates={"Template:Here": "{{Nested}}"})
    result = wiki.render("{{Here}} {{Absent}} {{#if: x | {{Branch}} | {{Not taken}} }}")
    assert result.templates == ["Template:Here", "Template:Nested", "Template:Absent", "Template:Branch"]


def test_missing_template_placeholder_and_infobox():
    result = Wiki().render("{{Citation needed}} {{Infobox bird|name=Robin|colour=[[Red]]|size=}}")
    doc = tree(result.html)
    missing = doc.xpath("//span[@class='tpl-missing']")[0]
    assert missing.get("title") == "Template:Citation needed" and missing.text_content() == ""
    box = doc.xpath("//table[contains(@class, 'infobox')]")[0]
    assert box.xpath("./caption")[0].text_content().strip() == "Infobox bird"
    rows = [(th.text_content().strip(), th.getnext().text_content().strip()) for th in box.xpath(".//th")]
    assert rows == [("name", "Robin"), ("colour", "Red")]
    assert box.xpath(".//a")[0].get("href") == "/wiki/Red"


def test_three_named_parameters_make_an_infobox():
    assert "infobox" in html_of("{{Person|a=1|b=2|c=3}}")
    assert "infobox" not in html_of("{{Person|a=1|b=2}}")


def test_block_template_starts_a_line():
    wiki = Wiki(templates={"Template:L": "* item"})
    assert "<li>" in wiki.render("text {{L}}").html.replace("<li> ", "<li>")


# -- parser functions and magic words ---------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("{{#if: x | yes | no }}", "yes"), ("{{#if: | yes | no }}", "no"), ("{{#if:  | yes }}", ""),
    ("{{#ifeq: a | a | same | diff }}", "same"), ("{{#ifeq: 01 | 1 | num | str }}", "num"),
    ("{{#switch: b | a = A | b = B | #default = D }}", "B"),
    ("{{#switch: z | a = A | #default = D }}", "D"),
    ("{{#switch: b | a | b | c = ABC | d = D }}", "ABC"),
    ("{{#switch: q | a = A | last }}", "last"),
    ("{{lc:ABC}} {{uc:abc}} {{ucfirst:abc}} {{lcfirst:ABC}}", "abc ABC Abc aBC"),
    ("{{urlencode:a b&c}}", "a+b%26c"),
    ("{{#expr: (2 + 3) * 4 }}", "20"),
    ("{{#tag:span|inner|class=x}}", "inner"),
    ("{{PAGENAME}} / {{FULLPAGENAME}} / {{NAMESPACE}} / {{SITENAME}}", "Page / Talk:Page / Talk / Test Wiki"),
])
def test_parser_functions_and_magic_words(text, expected):
    assert visible(html_of(text, title="Talk:Page")) == expected


def test_ifexist_uses_exists():
    wiki = Wiki(existing={"Real"})
    assert visible(wiki.render("{{#ifexist: Real | y | n }} {{#ifexist: Fake | y | n }}").html) == "y n"


def test_tag_ref_is_a_footnote():
    out = html_of("x{{#tag:ref|Made by tag}}")
    assert "Made by tag" in out and "[1]" in visible(out)


def test_ref_marks_have_cites_ids_and_bracket_wrappers():
    doc = tree(html_of("A<ref name=aaa>x</ref> B<ref name=aaa/> C<ref>y</ref>"))
    marks = doc.xpath("//sup[@class='reference']")
    assert [m.get("id") for m in marks] == ["cite_ref-aaa_1-0", "cite_ref-aaa_1-1", "cite_ref-2"]
    assert [m.xpath("./a")[0].get("href") for m in marks] == ["#cite_note-aaa-1", "#cite_note-aaa-1", "#cite_note-2"]
    brackets = marks[0].xpath(".//span[@class='cite-bracket']")
    assert [b.text for b in brackets] == ["[", "]"]
    backlinks = doc.xpath("//span[@class='mw-cite-backlink']//a/@href")
    assert backlinks[:2] == ["#cite_ref-aaa_1-0", "#cite_ref-aaa_1-1"]


def test_arguments_expand_lazily():
    # The branch not taken would loop; it must not be expanded at all.
    wiki = Wiki(templates={"Template:Loop": "{{Loop}}", "Template:Pick": "{{#if:{{{1|}}}|{{{2}}}|{{{3}}}}}"})
    result = wiki.render("{{Pick|x|chosen|{{Loop}}}}")
    assert visible(result.html) == "chosen" and result.errors == []


# -- redirects ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang,text", [
    ("en", "#REDIRECT [[target page#Part]]"), ("en", "#redirect[[Target page]]\n[[Category:X]]"),
    ("uk", "#перенаправлення [[Target page]]"), ("vi", "#đổi [[Target page]]"), ("ja", "#転送 [[Target page]]"),
    ("de", "  #Weiterleitung: [[Target page]] more text"), ("he", "#הפניה [[Target page]]"),
    ("ar", "#تحويل [[Target page]]"), ("bn", "#পুনর্নির্দেশ [[Target page]]"), ("bn", "#REDIRECT [[Target page]]"),
    ("hy", "#վերահղում [[Target page]]"),
])
def test_redirects(lang, text):
    result = Wiki(config=WikiConfig(f"{lang}wiki", lang=lang)).render(text)
    assert result.redirect == "Target page"
    assert result.categories == []
    assert tree(result.html).xpath("//a")[0].get("href").startswith("/wiki/Target_page")


def test_redirect_notice_in_the_wikis_language():
    result = Wiki(config=WikiConfig("hewiki", lang="he")).render("#הפניה [[Target page]]")
    assert tree(result.html).xpath("//p")[0].text == "הפניה ל:"
    assert "Redirect to:" in Wiki().render("#REDIRECT [[Target page]]").html


def test_not_a_redirect():
    assert Wiki().render("#list item [[x]]").redirect is None
    # another language's word is no redirect, as in MediaWiki
    assert Wiki().render("#הפניה [[Target page]]").redirect is None
    assert Wiki(config=WikiConfig("dewiki", lang="de")).render("#перенаправлення [[x]]").redirect is None


# -- safety -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script>",
    "[javascript:alert(1) click]",
    "[[javascript:alert(1)]]",
    '<span onclick="alert(1)" onmouseover=alert(2)>x</span>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<div style="width: expression(alert(1))">x</div>',
    '<div style="background-image: u&#114;l(x)">x</div>',
    "<iframe src=http://evil></iframe><object data=x></object><form><input></form><style>*{}</style>",
    '{| onclick="x()" style="behavior:url(x)"\n| onmouseover="y()" | cell\n|}',
    "{{#tag:script|alert(1)}} {{#tag:span|x|onclick=alert(1)}}",
    '<a href="javascript:alert(1)">x</a>',
    "[//example.com x] <span title='\" onclick=\"x'>y</span>",
])
def test_hostile_markup_is_neutralised(text):
    out = html_of(text)
    assert "<script" not in out.lower()
    assert_safe(out)


def test_style_keeps_harmless_properties_only():
    out = html_of('<span style="color:red; position:fixed; font-weight:bold">x</span>')
    assert 'style="color:red;font-weight:bold"' in out


# -- limits -------------------------------------------------------------------------------------------------


def test_self_recursive_template():
    result = Wiki(templates={"Template:Self": "a{{Self}}"}).render("{{Self}}")
    assert "Template loop detected: Template:Self" in visible(result.html)
    assert any("loop" in e for e in result.errors)


def test_two_template_cycle():
    wiki = Wiki(templates={"Template:Ping": "ping {{Pong}}", "Template:Pong": "pong {{Ping}}"})
    result = wiki.render("{{Ping}}")
    assert visible(result.html).startswith("ping pong Template loop detected: Template:Ping")
    assert 'class="error"' in result.html


def test_depth_limit():
    templates = {f"Template:D{i}": f"{{{{D{i + 1}}}}}" for i in range(100)}
    result = Wiki(templates=templates, limits=Limits(max_depth=10)).render("{{D0}}")
    assert "Template recursion depth limit exceeded (10): Template:D" in visible(result.html)
    assert any("depth" in e for e in result.errors)


def test_expansion_size_and_call_limits():
    # Ten calls per level, eight levels: 10^8 leaves unless something stops it.
    templates = {f"Template:L{i}": f"{{{{L{i + 1}|x}}}}" * 10 for i in range(8)}
    templates["Template:L8"] = "xxxxxxxxxx"
    result = Wiki(templates=templates, limits=Limits(max_expansion=100_000, max_calls=5_000)).render("{{L0|x}}")
    assert result.errors and result.errors[0].startswith(("Page exceeded the node count: Template:L",
                                                          "Warning: Template include size is too large."))
    assert len(result.html) < 2_000_000


def test_the_renderers_errors_in_the_wikis_language():
    german = WikiConfig("dewiki", lang="de")
    result = Wiki(templates={"Template:Self": "a{{Self}}"}, config=german).render("{{Self}}")
    assert "Vorlagenschleife entdeckt: Template:Self" in visible(result.html)
    assert result.errors == ["Vorlagenschleife entdeckt: Template:Self"]
    templates = {f"Template:D{i}": f"{{{{D{i + 1}}}}}" for i in range(100)}
    result = Wiki(templates=templates, limits=Limits(max_depth=10), config=german).render("{{D0}}")
    expected = language_data.language("de").message("parser-template-recursion-depth-warning").replace("$1", "10")
    assert expected in visible(result.html) and expected != "Template recursion depth limit exceeded (10)"
    templates = {"Template:Big": "x" * 500, "Template:Many": "".join(f"{{{{Big|{i}}}}}" for i in range(50))}
    result = Wiki(templates=templates, limits=Limits(max_expansion=1_000), config=german).render("{{Many}}")
    assert result.errors and result.errors[0].startswith("Warnung: Die Größe eingebundener Vorlagen ist zu groß")


def test_mediawiki_messages_in_the_wikis_language():
    # {{MediaWiki:Edit}} without a page of that name: MediaWiki's message in the wiki's language
    assert visible(html_of("{{MediaWiki:Edit}}", config=WikiConfig("dewiki", lang="de"))) == "Bearbeiten"
    assert visible(html_of("{{MediaWiki:Edit}}")) == "Edit"


def test_large_page_completes_with_sane_output():
    prose = "Words of an ordinary sentence that goes on for a while, as article text does. " * 6
    block = ("== Section ==\n" + prose + "Some '''bold''' text with [[Link]] and {{T|x}} and a note<ref>n</ref>.\n"
             "* item [http://example.com e] " + prose + "\n{| class=t\n| a || b\n|}\n\n")
    text = block * (2_000_000 // len(block))
    result = Wiki(templates={"Template:T": "<span>{{{1}}}</span>"}).render(text)
    assert result.errors == []
    assert result.html.count("<h2>") == text.count("== Section ==")
    assert result.html.count('href="/wiki/Link"') == text.count("[[Link]]")


@pytest.mark.parametrize("unit", ["{{a|", "[[a|", "<!--", "{|\n|a\n", "'''''a", "<ref>", "[[File:a.jpg|thumb|",
                                  "[http://a ", "<span>", "*#:;", "<", "{{a|[[b|<i>{{{c|"])
def test_unclosed_constructs_stay_linear(unit):
    # mwparserfromhell needs seconds for 5,000 characters of some of these.
    text = unit * (100_000 // len(unit))
    result = Wiki().render(text)
    assert result.html.startswith('<div class="mw-parser-output">')


# -- never raises ---------------------------------------------------------------------------------------------

_PIECES = st.sampled_from([
    "{{", "}}", "{{{", "}}}", "[[", "]]", "[", "]", "|", "||", "!!", "=", "==", "\n", " ", "'''", "''", "<", ">",
    "&", "&amp;", "&#x3C;", "{|", "|}", "|-", "|+", "*", "#", ":", ";", "----", "<ref>", "</ref>", "<ref name=a/>",
    "<references/>", "<nowiki>", "</nowiki>", "<pre>", "</pre>", "<!--", "-->", "<span", "<div", "</div>",
    " onclick=", "javascript:", "<script>", "style=", "url(", "http://x.y/", "Template:", "File:", "Category:",
    "#if:", "#switch:", "#expr:", "#tag:", "{{{1}}}", "__TOC__", "#REDIRECT", "\x7f", "\x00", "a", "b", "é", "中",
])


@given(st.lists(_PIECES, max_size=40).map("".join))
@settings(max_examples=150)
def test_random_wikitext_never_raises_nor_yields_script(text):
    wiki = Wiki(templates={"Template:A": "{{{1|x}}}{{A}}", "Template:B": text[:50]})
    result = wiki.render(text + "{{A|" + text[:20] + "}}{{B}}")
    assert "<script" not in result.html.lower()
    assert_safe(result.html)
    assert not any("renderer failed" in e for e in result.errors), result.errors


@given(st.text(max_size=200))
@settings(max_examples=100)
def test_random_text_never_raises(text):
    result = Wiki().render(text)
    assert not any("renderer failed" in e for e in result.errors), result.errors


# -- details MediaWiki readers notice ------------------------------------------------------------------------


def test_template_redirect_is_followed():
    wiki = Wiki(templates={"Template:Old": "#REDIRECT [[Template:New]]", "Template:New": "new {{{1}}}",
                           "Template:Dead": "#redirect [[Template:Nowhere]]"})
    result = wiki.render("{{Old|x}} {{Dead}}")
    assert visible(result.html) == "new x"
    assert result.templates == ["Template:Old", "Template:New", "Template:Dead", "Template:Nowhere"]


def test_reused_note_back_links_are_numbered_like_cite():
    doc = tree(html_of("a<ref name=n>N</ref> b<ref name=n/>"))
    assert [a.text for a in doc.xpath("//span[@class='mw-cite-backlink']//a")] == ["1.0", "1.1"]
    namespaces = dict(DEFAULT_NAMESPACES)
    marathi = WikiConfig("mrwiki", lang="mr", namespaces=namespaces)
    assert "[१]" in visible(Wiki(config=marathi).render("a<ref>x</ref>").html)


def test_named_group_without_list_and_note_without_text_are_errors():
    out = html_of("a<ref group=g>x</ref> b<ref name=empty/>")
    errors = [e.text_content() for e in tree(out).xpath("//*[contains(@class, 'error')]")]
    assert any('group named "g"' in e for e in errors)
    assert any('no text was provided for refs named "empty".' in e for e in errors)


def test_strip_markers_in_attributes_are_read_as_their_text():
    # MediaWiki unstrips a tag's attributes before sanitizing them: nowiki text there counts, unsafe CSS not
    assert '<div style="background:blue">' in html_of('<div style="<nowiki>background:blue</nowiki>">x</div>')
    out = html_of("<div style=\"<nowiki>border-left:expression(alert('boo'));</nowiki>\">x</div>")
    assert "expression" not in out and "<div>" in out


def test_attribute_values_hide_wikitext_from_later_passes():
    out = html_of('<span title="[[Link]] http://x.y \'\'i\'\'">t</span>')
    span = tree(out).xpath("//span")[0]
    assert span.get("title") == "[[Link]] http://x.y ''i''"
    assert "<a" not in out and "<i>" not in out


def test_gallery_of_missing_files_shows_their_names_and_captions():
    doc = tree(html_of("<gallery>\nFile:One.jpg|First [[Link]]\nTwo.png\n</gallery>"))
    # as MediaWiki: a missing file with a caption shows the caption's text in its place, else its name
    assert [d.text_content() for d in doc.xpath("//div[@class='thumb']")] == ["First Link", "File:Two.png"]
    assert doc.xpath("//div[@class='gallerytext']//a")[0].get("href") == "/wiki/Link"
    assert not doc.xpath("//img")


def test_a_heading_id_never_holds_the_html_of_what_was_set_aside():
    # A missing template's placeholder (and a ref) are set aside while the page is built; their
    # HTML once came back inside the heading's id attribute, breaking it.
    from wikipeer.model.title import WikiConfig
    from wikipeer.render import RenderContext, render

    ctx = RenderContext(config=WikiConfig("w"), title="T", href=lambda t: "/wiki/w/" + t,
                        exists=lambda titles: set(), template=lambda title: None)
    out = render("== A{{Missing}}B ==\ntext\n== C<ref>x</ref> ==\n", ctx).html
    assert 'id="AB"' in out and 'id="C"' in out
    assert "&lt;span" not in out and '"&gt;' not in out


# ---- Remex's p-wrapping (render/remex.py) ----

def _body(text: str, **kw) -> str:
    """The page's HTML inside the mw-parser-output wrapper, blanks next to tags dropped."""
    fragment = html_of(text, **kw)
    inner = re.sub(r'\A<div class="mw-parser-output">(.*)</div>\Z', r"\1", fragment, flags=re.S)
    return re.sub(r"\s*(<[^>]*>)\s*", r"\1", inner).strip()


def test_text_beside_a_block_tag_on_one_line_is_a_paragraph():
    assert _body("a <div>foo</div>\n\nb") == "<p>a</p><div>foo</div><p>b</p>"


def test_loose_text_in_a_blockquote_is_a_paragraph():
    assert _body("<blockquote>Line one\n\nLine two</blockquote>") == \
        "<blockquote><p>Line one\nLine two</p></blockquote>"


def test_formatting_element_round_a_block_is_split_round_it():
    assert _body("<b>x<div>y</div>z</b>") == "<p><b>x</b></p><b><div>y</div></b><p><b>z</b></p>"


def test_span_round_a_block_gives_up_the_paragraph():
    assert _body("<span><div>x</div></span>") == "<span><div>x</div></span>"


def test_text_fostered_out_of_a_table_is_not_wrapped():
    assert _body("<table>hi</table>") == "hi<table></table>"
    assert _body("{|\n|-\na\n|}") == "a<table></table>"


def test_legacy_fragment_mode_escapes_anchors_as_mediawiki_legacy_ids():
    from dataclasses import replace
    wiki = Wiki()
    ctx = replace(wiki.context(), fragment_mode="legacy")
    out = render("__TOC__\n== a=b é ==\n[[#a=b é]]", ctx).html
    assert 'id="a.3Db_.C3.A9"' in out and 'href="#a.3Db_.C3.A9"' in out
    assert out.count('href="#a.3Db_.C3.A9"') == 2  # the TOC's line and the link
    assert 'id="a=b_é"' in html_of("== a=b é ==")  # html5, the default: as written


def test_a_definition_term_splits_at_a_colon_outside_links_and_elements():
    assert _body(";[[Help:FAQ]]:The page") == \
        '<dl><dt><a href="/wiki/Help:FAQ" title="Help:FAQ" class="new">Help:FAQ</a></dt><dd>The page</dd></dl>'
    assert _body(";one <b>two : x</b>:def") == "<dl><dt>one<b>two&#160;: x</b></dt><dd>def</dd></dl>"


def test_french_spaces_are_no_break_spaces_in_text_but_not_in_attributes():
    assert _body("Hello : this ; is « that »") == "<p>Hello&#160;: this&#160;; is «&#160;that&#160;»</p>"
    assert _body('<span title="a : b">x !</span>') == '<p><span title="a : b">x&#160;!</span></p>'
    assert _body("Croatian »quotes« and »čć«") == "<p>Croatian »quotes« and »čć«</p>"
    # a text node may start with the blank: "[[X]] :" armours the blank after the link
    assert '</a>&#160;: x' in _body("[[X]] : x")


def test_extension_tags_of_the_context_replace_their_tag_with_their_html():
    from dataclasses import replace
    seen: list[tuple[str | None, dict[str, str]]] = []

    def shout(body: str | None, attrs: dict[str, str]) -> str:
        seen.append((body, attrs))
        return f"<div>{(body or '').upper()}</div>"

    ctx = replace(Wiki().context(), extension_tags={"shout": shout})
    out = render("<Shout loud x=1>''hi'' [[no]]</Shout> and <shout/>", ctx).html
    assert "<div>''HI'' [[NO]]</div>" in out and "<div></div>" in out
    assert seen == [("''hi'' [[no]]", {"loud": "", "x": "1"}), (None, {})]
    assert "&lt;shout" in html_of("<shout>x</shout>")  # no such tag without the context's


def test_a_line_of_several_comments_is_taken_out_whole_and_keeps_a_list_together():
    assert _body("*a\n <!--x--> <!---->\t<!--y-->\n*b") == "<ul><li>a</li><li>b</li></ul>"
    assert _body("a\n<!--x--><!--y-->\nb") == "<p>a\nb</p>"


def test_an_attribute_quote_left_open_runs_to_the_end_of_the_tag():
    assert _body('<span title="Hello world>Foo</span>') == '<p><span title="Hello world">Foo</span></p>'
    assert 'td title="Hello world"' in _body('{|\n| title="Hello world|Foo\n|}')
    assert _body('{|\n|!style="color:red"|bar\n|}') == "<table><tbody><tr><td>bar</td></tr></tbody></table>"


def test_data_attributes_are_kept_but_mediawikis_own_and_namespaced_ones():
    out = _body('<div data-mw="a" data-parsoid="b" data-mw-x="c" data-ok="d" data-ooui="e" data-bad:ns="f" '
                'data-sort-value="3" onclick="x()">d</div>')
    assert out == '<div data-ok="d" data-sort-value="3">d</div>'


def test_pre_gives_the_text_of_nowiki_pairs_and_shows_an_unpaired_nowiki():
    assert _body("<pre>\n<nowiki>\n</pre>") == "<pre>&lt;nowiki&gt;</pre>"
    assert _body("<pre><nowiki><nowiki></nowiki>Foo<nowiki></nowiki></nowiki></pre>") == \
        "<pre>&lt;nowiki&gt;Foo&lt;/nowiki&gt;</pre>"


def test_an_extension_tags_attributes_run_past_a_less_than_sign_to_the_first_greater_than():
    assert _body("<pre <pre>123</pre>") == "<pre>123</pre>"


def test_many_unfinished_extension_tags_are_read_in_linear_time():
    from wikipeer.render.preprocess import preprocess
    # each "<ref " once scanned ahead to the page's only ">": quadratic in the number of tags
    nodes = preprocess("<ref a " * 20_000 + ">")
    assert "".join(n for n in nodes if isinstance(n, str)).startswith("<ref a <ref a ")


def test_toc_numbers_out_of_order_heading_levels_as_mediawiki_does():
    out = html_of("==2==\n======6======\n===3===\n=1=\n=====5=====\n==2==")
    numbers = re.findall(r'class="toclevel-(\d)"><a href="#[^"]*"><span class="tocnumber">([\d.]+)', out)
    assert numbers == [("1", "1"), ("2", "1.1"), ("2", "1.2"), ("1", "2"), ("2", "2.1"), ("2", "2.2")]


def test_headings_written_in_html_are_marked_anchored_and_in_the_toc():
    out = _body('<h2>One</h2>\n<h3 id="own">Two</h3>\n<h2 class="c">Three\n</h2>\n==Four==')
    assert '<h2 class="mw-html-heading"><span class="mw-headline" id="One">One</span></h2>' in out
    assert '<h3 id="own" class="mw-html-heading">Two</h3>' in out
    assert 'class="mw-html-heading c"' in out
    assert '<h2><span class="mw-headline" id="Four">Four</span></h2>' in out
    assert re.findall(r'<a href="#([^"]*)"><span class="tocnumber">', out) == ["One", "own", "Three", "Four"]


def test_a_text_that_is_only_an_unclosed_empty_table_gives_nothing():
    assert _body("{||}") == ""
    assert _body("{|\n|}") == "<table><tbody><tr><td></td></tr></tbody></table>"


def test_a_caption_may_run_over_several_lines_without_paragraphs():
    assert _body("{|\n|+line 1\nline 2\n|data\n|}").startswith("<table><caption>line 1\nline 2</caption>")


def test_a_tag_name_followed_by_another_character_is_text():
    assert _body("<s.foo>x</s.foo> <b→>y</b→> <blockquote|>z") == \
        "<p>&lt;s.foo&gt;x&lt;/s.foo&gt; &lt;b→&gt;y&lt;/b→&gt; &lt;blockquote|&gt;z</p>"


def test_line_breaks_in_an_attribute_are_blanks_and_never_split_the_tag():
    assert _body('<div style="background:\n#00FF00">-</div>') == '<div style="background:#00FF00">-</div>'
    out = _body('<div style="background: &#10;#00FF00" title="a&#10;b">-</div>')
    assert out.startswith("<div ") and out.endswith(">-</div>") and "<p>" not in out
    assert 'title="a\nb"' in out


def test_a_stray_closing_div_cannot_close_the_pages_wrapper():
    out = html_of("a</div>\n\nb")
    assert out.startswith('<div class="mw-parser-output">') and out.endswith("</div>")
    assert out.count("</div>") == 1 and "<p>b" in out


def test_an_empty_paragraph_left_by_stray_tags_is_marked_as_mediawiki_marks_it():
    assert _body("</s>") == '<p class="mw-empty-elt"></p>'
    assert _body("<p><pre>foo</pre></p>") == '<p class="mw-empty-elt"></p><pre>foo</pre><p class="mw-empty-elt"></p>'


def test_blank_lines_between_html_list_items_make_no_paragraphs():
    out = _body("<ul>\n<li>hi</li>\n\n\n<li>ho</li>\n</ul>\n<dl>\n<dd>ho<div>1</div>\n</dd>\n\n</dl>")
    assert out == "<ul><li>hi</li><li>ho</li></ul><dl><dd>ho<div>1</div></dd></dl>"


def test_cell_separators_inside_a_tag_do_not_split_the_cell():
    assert _body('{|\n!hi <div class="!!">ha</div> ho\n|}') == \
        '<table><tbody><tr><th>hi<div class="!!">ha</div>ho</th></tr></tbody></table>'
    assert _body('{|\n|<span title="a||b">x</span>||y\n|}') == \
        '<table><tbody><tr><td><span title="a||b">x</span></td><td>y</td></tr></tbody></table>'


def test_an_attribute_is_trimmed_before_its_references_are_decoded():
    assert _body('<pre dir="&#10;"></pre>') == '<pre dir="\n"></pre>'


def test_toc_lines_keep_a_spans_direction_wherever_it_stands_and_drop_empty_anchor_spans():
    out = html_of('__TOC__\n==<span style="color:red" dir="rtl" title="t">A</span>==\n==<span id="old"></span>B==')
    texts = re.findall(r'<span class="toctext">(.*?)</span></a>', out)
    assert texts == ['<span dir="rtl">A</span>', "B"]


def test_max_toc_level_leaves_deeper_headings_out_of_the_toc():
    from dataclasses import replace
    ctx = replace(Wiki().context(), max_toc_level=3)
    out = render("==a==\n===b===\n====c====\n==d==", ctx).html
    assert re.findall(r'<span class="toctext">(.*?)</span>', out) == ["a", "b", "d"]
    assert 'id="c"' in out  # the heading itself stays


def test_the_last_line_of_an_open_paragraph_keeps_its_line_break_as_in_mediawiki():
    # MediaWiki ends the line when a paragraph is open, so an unclosed <b> holds the break too
    assert html_of("<s>foo") == '<div class="mw-parser-output"><p><s>foo\n</s></p></div>'


def test_a_term_after_a_definition_at_the_same_depth_opens_a_new_list():
    assert _body(":;*foo\n::*bar\n:;baz") == \
        "<dl><dd><dl><dt><ul><li>foo</li><li>bar</li></ul></dt></dl><dl><dt>baz</dt></dl></dd></dl>"


def test_tabindex_is_kept_only_as_zero():
    assert _body('<div tabindex="0">A</div><div tabindex="-1">B</div><div tabindex="3">C</div>') == \
        '<div tabindex="0">A</div><div>B</div><div>C</div>'


def test_pre_in_wikitext_format_renders_its_wikitext_inside_the_box():
    out = _body("{{#tag:pre|'''b''' [[L]]|format=\"wikitext\"}}\n\n<pre>'''b'''</pre>")
    assert out.startswith('<pre><b>b</b><a href="/wiki/L"')  # (_body drops blanks next to tags)
    assert "<pre>'''b'''</pre>" in out


def test_allow_toc_false_leaves_the_toc_out_and_the_headings_in():
    from dataclasses import replace
    ctx = replace(Wiki().context(), allow_toc=False)
    out = render("__FORCETOC__\n==a==\n==b==\n==c==\n==d==", ctx).html
    assert 'id="toc"' not in out and out.count("mw-headline") == 4
    assert 'id="toc"' in html_of("==a==\n==b==\n==c==\n==d==")

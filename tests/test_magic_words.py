"""Core magic words and parser functions (issue 13, item 2), each on a small text of our own.

MediaWiki's own cases for them run in tests/test_parser_tests.py; these pin
the behaviour a reader relies on, one point per test.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from test_render import Wiki, tree, visible
from wikipeer.formats.dump_convert import wiki_config
from wikipeer.mediawiki.convert import site_info
from wikipeer.model.title import WikiConfig
from wikipeer.render import Rendered, render
from wikipeer.render.context import Revision
from wikipeer.render.lua.language import format_date

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


def test_time_formats_dates_with_mediawikis_codes_and_the_revisions_time_as_now():
    assert shown("{{#time:Y-m-d H:i|15 January 2001}}") == "2001-01-15 00:00"
    assert shown("{{#time:c|2011-11-12 23:00 Europe/Paris}}") == "2011-11-12T22:00:00+00:00"
    assert shown('{{#time:l, j F Y "at" G\\h|March 5, 2024 14:07}}') == "Tuesday, 5 March 2024 at 14h"
    assert shown("{{#time:D M y N W L t U|@86400}}") == "Fri Jan 70 5 01 0 31 86400"
    assert shown("{{#time:Y-m-d}} {{#timel:H:i}}") == "2020-09-13 12:26"
    out = rendered("{{#time:Y|not a date}}").html
    assert tree(out).xpath("//strong[@class='error']")[0].text == "Error: Invalid time."


def in_wiki(text: str, **config) -> str:
    """``text`` rendered on a wiki configured with ``config`` (lang, timezone), at REVISION's time."""
    ctx = Wiki(config=WikiConfig("testwiki", sitename="Test Wiki", **config)).context()
    ctx.revision = REVISION
    return visible(render(text, ctx).html)


def test_time_x_codes_write_roman_and_hebrew_numerals_and_a_literal_x():
    assert shown("{{#time:xrY|2020-01-01}}") == "MMXX"
    assert shown("{{#time:xrY Y|2020-01-01}}") == "MMXX 2020"
    assert shown("{{#time:xhY|2020-01-01}} {{#time:xhj|2020-01-15}}") == "ב'ך' ט\"ו"
    assert shown("{{#time:xx Y|2020-01-01}}") == "x 2020"
    # an x code sprintfDate does not know writes its letter; it does not eat or corrupt the next code
    assert shown("{{#time:xzY|2020-01-01}}") == "z2020"
    assert shown("{{#time:xnY xrm|2020-03-01}}") == "2020 III"


def test_time_reads_relative_dates_and_overflowing_days_as_php_does():
    assert shown("{{#time:Y-m-d H:i|+1 day}}") == "2020-09-14 12:26"
    assert shown("{{#time:Y-m-d H:i|tomorrow}}") == "2020-09-14 00:00"
    assert shown("{{#time:Y-m-d|2020-01-01 +1 month}}") == "2020-02-01"
    assert shown("{{#time:Y-m-d|2020-01-31 +1 month}}") == "2020-03-02"
    assert shown("{{#time:Y-m-d|1 January 2020 -2 weeks}}") == "2019-12-18"
    assert shown("{{#time:Y-m-d|2020-02-30}}") == "2020-03-01"
    # four digits are a year to #time (ParserFunctions' correction), on the revision's month and day
    assert shown("{{#time:Y-m-d H:i|1999}}") == "1999-09-13 00:00"
    assert shown("{{#time:Y|2020-13-01}}") == "Error: Invalid time."


def test_lua_format_date_shares_times_reader():
    # PHP's own reading of four digits (no ParserFunctions correction there): 20:20 today
    assert format_date("en", "H:i", "2020") == "20:20"
    assert format_date("en", "Y-m-d", "2020-02-30") == "2020-03-01"
    assert format_date("en", "Y-m-d", "2020-01-31 +1 month") == "2020-03-02"
    assert format_date("en", "xrY", "2020-01-01") == "MMXX"


def test_timel_writes_the_wikis_time_zone_and_time_stays_utc():
    text = "{{#time:H:i T|2001-01-17 00:00}} {{#timel:H:i T|2001-01-17 00:00}} {{#timefl:17 January 2001}}"
    assert in_wiki(text, timezone="Australia/Melbourne") == "00:00 UTC 11:00 AEDT 11:00, 17 January 2001"
    assert in_wiki(text) == "00:00 UTC 00:00 UTC 00:00, 17 January 2001"
    assert WikiConfig.from_dict(WikiConfig("w", timezone="Europe/Paris").to_dict()).timezone == "Europe/Paris"
    assert "timezone" not in WikiConfig("w").to_dict()  # a configuration without one signs as before
    # a wiki followed or imported through MediaWiki's API brings its zone from siteinfo
    info = site_info("http://wiki.example/api.php", {"general": {"sitename": "W", "timezone": "Asia/Tokyo"},
                                                      "namespaces": {}})
    assert wiki_config(info, "w").timezone == "Asia/Tokyo"


def test_timef_uses_the_languages_date_formats():
    assert shown("{{#timef:15 January 2001|both|ja}}") == "2001年1月15日 (月) 00:00"
    assert in_wiki("{{#timef:15 January 2001}}|{{#timef:15 January 2001|pretty}}", lang="ja") == (
        "2001年1月15日 (月) 00:00|2001年1月15日 (月)")


def test_time_and_rel2abs_errors_are_in_the_wikis_language():
    assert in_wiki("{{#time:Y|not a date}}", lang="ja") == "エラー: 日時が無効です。"
    assert in_wiki("{{#rel2abs:../../x|A}}", lang="ja") == "エラー: パス「A/../../x」の階層が無効です (ルート階層からのアクセスをお試しください)。"


def test_formatnum_groups_digits_and_reads_them_back():
    assert shown("{{formatnum:1234567.891}} {{formatnum:-1234}} {{formatnum:12}}") == "1,234,567.891 \u22121,234 12"
    assert shown("{{formatnum:1,234,567|R}} {{formatnum:1234567|NOSEP}} {{formatnum:abc}}") == "1234567 1234567 abc"
    assert shown("{{formatnum:9999999999999999}} {{formatnum:9999999999999999|LOSSLESS}}") == \
        "10,000,000,000,000,000 9999999999999999"


def test_language_functions():
    assert shown("{{#language:ar}} {{#language:DE|en}}") == "العربية German"
    assert shown("{{#dir:fa}} {{#dir: en}} {{#dir:he-x-y}}") == "rtl ltr rtl"
    assert shown("{{#bcp47:sr-ec}} {{#bcp47:zh-yue}} {{#bcp47:en-gb}} {{#bcp47:de-formal}} {{#bcp47:sr-latn-rs}}") == \
        "sr-Cyrl yue en-GB de-x-formal sr-Latn-RS"


def test_int_reads_the_wikis_message_page_then_a_few_built_in_messages():
    wiki = Wiki(templates={"MediaWiki:Greeting": "Hello, $1!"})
    assert visible(wiki.render("{{int:greeting|Ann}}").html) == "Hello, Ann!"
    assert shown("{{int:ok}} {{int:new-messages|mail|1}} {{int:no such message}}") == "OK You have mail (1). ⧼no such message⧽"


def test_formatdate_orders_a_date_and_keeps_what_it_cannot_read():
    out = rendered("{{#formatdate:2009-03-24|mdy}}").html
    span = tree(out).xpath("//span[@class='mw-formatted-date']")[0]
    assert span.get("title") == "2009-03-24" and span.text == "March 24, 2009"
    assert shown("{{#formatdate:March 24, 2009|dmy}} {{#formatdate:24 March|mdy}} {{#formatdate:2019-22-22|dmy}}") == \
        "24 March 2009 March 24 2019-22-22"


def test_rel2abs_and_titleparts():
    assert shown("{{#rel2abs:../c|A/b}} {{#rel2abs:./d}} {{#rel2abs:x/y}} {{#rel2abs:/e|Z}}") == "A/c Test page/d x/y Z/e"
    out = rendered("{{#rel2abs:../../x|A}}").html
    assert "Invalid depth in path" in visible(out) and tree(out).xpath("//*[@class='error']")
    parts = "/".join(["p"] * 24 + ["q", "r"])
    assert shown(f"{{{{#titleparts:{parts}|-1}}}}") == "/".join(["p"] * 24)
    assert shown("{{#titleparts:A/b/c|1|2}}") == "b"


def test_ifeq_and_switch_compare_with_character_references_decoded():
    assert shown("{{#ifeq: a'b | a&#39;b | yes | no}} {{#ifeq: a'b | a&amp;#39;b | yes | no}}") == "yes no"
    assert shown("{{#switch:foo&bar|foo&amp;bar=yes|no}}") == "yes"


def test_magic_links_for_isbn_rfc_and_pmid():
    doc = tree(rendered("See ISBN 978-0-316-09811-3, RFC&nbsp;822 and PMID 1234; notRFC 1 or RFC\n2.").html)
    links = {a.text_content(): (a.get("href"), a.get("class")) for a in doc.xpath("//a")}
    assert links == {
        "ISBN 978-0-316-09811-3": ("/wiki/Special:BookSources/9780316098113", "internal mw-magiclink-isbn"),
        "RFC 822": ("https://datatracker.ietf.org/doc/html/rfc822", "external mw-magiclink-rfc"),
        "PMID 1234": ("//www.ncbi.nlm.nih.gov/pubmed/1234?dopt=Abstract", "external mw-magiclink-pmid"),
    }
    inside_link = tree(rendered("[http://example.com RFC 822] [[Page|ISBN 0123456789]]").html)
    assert not inside_link.xpath("//a[contains(@class, 'magiclink')]")


def test_subpage_links_and_transclusion_where_the_namespace_has_subpages():
    def links(text: str, title: str) -> list[tuple[str, str]]:
        return [(a.get("title"), a.text_content()) for a in tree(rendered(text, title=title).html).xpath("//a")]

    assert links("[[/Child]] [[/Child/]] [[../]] [[../Sib|s]] [[../../x/]]", "Help:A/B/C") == [
        ("Help:A/B/C/Child", "/Child"), ("Help:A/B/C/Child", "Child"), ("Help:A/B", "Help:A/B"),
        ("Help:A/B/Sib", "s"), ("Help:A/x", "x")]
    # the main namespace has no subpages (as on Wikipedia): a slash link is a page named so
    assert links("[[/Child]]", "A/B") == [("/Child", "/Child")]
    assert not links("[[../../../x]]", "Help:A/B")  # above the root page: text
    ctx = Wiki(title="User:Ann", templates={"User:Ann/box": "boxed"}).context()
    assert visible(render("{{/box}}", ctx).html) == "boxed"


def test_cite_lists_name_their_group_and_notes_keep_their_direction():
    doc = tree(rendered('a<ref group="g" dir="rtl">x</ref> b<ref dir="nonsense">y</ref>\n'
                        '<references group="g"/>\n<references/>').html)
    lists = doc.xpath("//ol[@class='references']")
    assert [ol.get("data-mw-group") for ol in lists] == ["g", None]
    assert [li.get("class") for li in doc.xpath("//ol[@class='references']/li")] == ["mw-cite-dir-rtl", None]
    error = tree(rendered("a<ref name=empty/>").html).xpath("//span[contains(@class, 'mw-ext-cite-error')]")[0]
    assert (error.get("lang"), error.get("dir")) == ("en", "ltr")


def test_references_to_control_characters_show_as_text_never_as_the_character():
    out = rendered("a &#8; b &#x7F; c &#00; d &#xD800; e &#x41; &#x1F4A9; &eacute;").html
    assert not any(ch in out for ch in "\x08\x7f\x00")
    assert visible(out) == "a &#8; b &#x7F; c &#00; d &#xD800; e A \U0001F4A9 é"


def test_ftp_irc_and_news_links_and_still_no_script_urls():
    doc = tree(rendered("[ftp://files.example/a x] [irc://irc.example/chan chat] [news:comp.lang y] "
                        "sftp://host/p [javascript:alert(1) no] [data:text/html,x no]").html)
    hrefs = [a.get("href") for a in doc.xpath("//a")]
    assert hrefs == ["ftp://files.example/a", "irc://irc.example/chan", "news:comp.lang", "sftp://host/p"]


def test_empty_list_items_are_marked_as_mediawiki_marks_them():
    doc = tree(rendered("*\n** x\n*\n; t\n:").html)
    assert [li.get("class") for li in doc.xpath("//li")] == [None, None, "mw-empty-elt"]
    assert doc.xpath("//dd")[0].get("class") is None


def test_toc_lines_keep_inline_markup_and_anchors_never_collide():
    doc = tree(rendered("__TOC__\n== ''Lost'' <span dir='ltr' class=x>C++</span> <u>u</u> ==\n== Foo bar ==\n"
                        "== Foo Bar ==\n== Headline 2 ==\n== Headline ==\n== Headline 2 ==\n== Headline ==").html)
    texts = [etree_html(t) for t in doc.xpath("//span[@class='toctext']")]
    assert texts[0] == '<span class="toctext"><i>Lost</i> <span dir="ltr">C++</span> u</span>'
    assert [a.get("href") for a in doc.xpath("//div[@id='toc']//a")][1:] == [
        "#Foo_bar", "#Foo_Bar_2", "#Headline_2", "#Headline", "#Headline_2_2", "#Headline_3"]


def etree_html(element) -> str:
    from lxml import etree
    return etree.tostring(element, encoding="unicode", with_tail=False)


def test_an_empty_id_is_dropped():
    doc = tree(rendered('<span id="">a</span><span id=" x y ">b</span>').html)
    assert [s.get("id") for s in doc.xpath("//span")] == [None, "x_y"]


def test_text_after_a_rule_on_its_line_is_a_paragraph():
    doc = tree(rendered("---- Foo ''bar''\n----\nnext").html)
    assert [(e.tag, e.text_content().strip()) for e in doc.xpath("/html/body/div/*|//div[@class='mw-parser-output']/*")
            if e.tag in ("hr", "p")][:4] == [("hr", ""), ("p", "Foo bar"), ("hr", ""), ("p", "next")]


def test_cite_errors_for_empty_refs_and_conflicting_definitions():
    errors = [e.text_content() for e in tree(rendered("a<ref></ref> b<ref /> c<ref name=n> </ref><ref name=n>Later</ref>").html)
              .xpath("//span[contains(@class, 'mw-ext-cite-error')]")]
    assert errors == ["Cite error: Invalid <ref> tag; refs with no name must have content.",
                      "Cite error: The opening <ref> tag is malformed or has a bad name."]
    doc = tree(rendered("a<ref name=n>first</ref> b<ref name=n>second</ref>").html)
    note = doc.xpath("//span[@class='reference-text']")[0].text_content()
    assert note.startswith("first Cite error:") and 'name "n" defined multiple times with different content' in note
    assert "Later" in visible(rendered("c<ref name=n> </ref><ref name=n>Later</ref>").html)


def test_a_link_to_a_section_of_the_page_itself_stays_on_the_page():
    doc = tree(rendered("[[Test page#Some section]] [[Test page]]").html)
    first, second = doc.xpath("//a")
    assert (first.get("href"), first.get("class")) == ("#Some_section", "mw-selflink-fragment")
    assert second.get("href") is None and "selflink" in second.get("class")


def test_a_numeric_ref_name_is_no_name_and_says_so():
    doc = tree(rendered('a<ref>x</ref> b<ref name="1">y</ref> c<ref name="1">z</ref>').html)
    assert [m.get("id") for m in doc.xpath("//sup[@class='reference']")] == ["cite_ref-1", "cite_ref-2", "cite_ref-3"]
    notes = [n.text_content() for n in doc.xpath("//span[@class='reference-text']")]
    assert notes[0] == "x" and notes[1].startswith("y Cite error:") and "simple integer" in notes[1]


def test_a_repeated_attribute_takes_its_last_value_as_mediawiki():
    doc = tree(rendered('<div id="a" id="b" class="x" class="y">t</div>\n{|\n! class="p" class="q" | h\n|}').html)
    assert (doc.xpath("//div[.='t']")[0].get("id"), doc.xpath("//div[.='t']")[0].get("class")) == ("b", "y")
    assert doc.xpath("//th")[0].get("class") == "q"


def test_mediawiki_messages_transclude_as_the_wikis_page_or_mediawikis_text():
    assert shown("{{MediaWiki:Mainpage}} / {{MediaWiki:History short}}") == "Main Page / History"
    wiki = Wiki(templates={"MediaWiki:Mainpage": "Home"})
    assert visible(wiki.render("{{MediaWiki:Mainpage}}").html) == "Home"


def test_bare_mailto_and_news_links():
    doc = tree(rendered("Write to mailto:someone@example.org, or read news:comp.lang.python. News: none").html)
    assert [(a.get("href"), a.text) for a in doc.xpath("//a")] == [
        ("mailto:someone@example.org", "mailto:someone@example.org"), ("news:comp.lang.python", "news:comp.lang.python")]


def test_character_references_with_leading_zeros():
    assert shown("JavaS&#x0000063;r&#x0000069;&#00000112;&#x0000000074;") == "JavaScript"


def test_string_functions_as_parserfunctions_gives_them():
    assert shown("{{#pos:Žmržlina|žlina}} [{{#pos:FooBar|Foo|32}}] {{#rpos:banana|a}} {{#rpos:banana|z}}") == "3 [] 5 -1"
    assert shown("{{#sub:Icecream|3}} {{#sub:Icecream|-3}} {{#sub:Icecream|3|3}} {{#sub:Icecream|3|-3}}") == \
        "cream eam cre cr"
    assert shown("{{#count:banana|a}} {{#replace:Alpha Beta|a|X}} {{#urldecode:foo%20bar+baz}}") == "3 AlphX BetX foo bar baz"
    assert shown("{{#explode:A B C D| |-2}} {{#explode:A B C D| |1|2}} [{{#explode:Foo*Bar|*|- 1}}]") == "C B C D []"
    assert "String exceeds 1000 character limit" in shown("{{#len:" + "x" * 1001 + "}} {{#pos:" + "x" * 1001 + "|x}}")


def test_timef_gives_the_wikis_date_format():
    assert shown("{{#timef:15 January 2001}}|{{#timef:15 January 2001|date}}|{{#timef:15 January 2001|time}}|"
                 "{{#timef:15 January 2001|pretty}}") == "00:00, 15 January 2001|15 January 2001|00:00|15 January"


def test_interwikilink_and_interlanguagelink_functions():
    result = rendered("{{#interwikilink:wikt|word|the word}}{{#interlanguagelink:fr|Paris}}"
                      "{{#interwikilink:wikt|_bad}}")
    link = tree(result.html).xpath("//a")[0]
    assert (link.get("href"), link.get("class"), link.text_content()) == \
        ("https://en.wiktionary.org/wiki/word", "extiw", "the word")
    assert result.language_links == ["fr:Paris"]
    assert "{{#interwikilink:wikt|_bad}}" in visible(result.html)  # a name no link could have: left as written


def test_msgnw_shows_a_templates_wikitext_as_text():
    ctx = Wiki(templates={"Template:Bold": "'''b''' {{x}}\n* item"}).context()
    html = render("{{msgnw:Bold}} {{msgnw:Missing}}", ctx).html
    assert "<b>" not in html and "<li>" not in html and "<a " not in html
    assert visible(html) == "'''b''' {{x}} * item [[:Template:Missing]]"


def test_a_template_loop_names_the_template_as_a_link():
    result = Wiki(templates={"Template:Self": "{{Self}}"}).render("{{Self}}")
    link = tree(result.html).xpath('//span[@class="error"]/a')[0]
    assert link.get("href") == "/wiki/Template:Self" and link.text_content() == "Template:Self"


def test_special_pages_are_never_red_links_and_red_links_drop_their_section():
    result = Wiki().render("[[Special:Version#anchor]] [[Special:BookSources/123]] [[Special:NoSuchPage]] "
                           "[[Missing#part]]")
    links = [(a.get("href"), a.get("class")) for a in tree(result.html).xpath("//a")]
    assert links == [("/wiki/Special:Version#anchor", None), ("/wiki/Special:BookSources/123", None),
                     ("/wiki/Special:NoSuchPage", "new"), ("/wiki/Missing", "new")]


def test_special_and_contentmodel_functions():
    assert shown("{{#special:RandomPage}} {{#special:booksources}} {{#special:Foobar}}") == \
        "Special:Random Special:BookSources Special:Foobar"
    assert shown("{{#contentmodel}} {{#contentmodel:canonical|MediaWiki:Common.js}} {{#contentmodel:local|Module:X}}") == \
        "wikitext javascript Scribunto module"
    assert shown("{{#contentmodel:canonical}}", title="User:Me/common.css") == "css"


def test_url_functions_take_a_query_and_the_full_forms_the_nodes_url():
    assert shown("{{localurl:Some page|action=edit}}") == "/wiki/Some_page?action=edit"
    assert shown("{{fullurl:Some page}}") == "http://wiki.example:8080/wiki/Some_page"
    assert shown("{{canonicalurl:Some page|a=1&b=2}}") == "http://wiki.example:8080/wiki/Some_page?a=1&b=2"


def test_external_links_as_mediawiki_cleans_and_ends_them():
    def links(text: str) -> list[tuple[str | None, str]]:
        return [(a.get("href"), a.text_content()) for a in tree(rendered(text).html).xpath("//a")]

    assert links("http://[::1]/loopback [http://[FF01::101] multicast]") == \
        [("http://[::1]/loopback", "http://[::1]/loopback"), ("http://[FF01::101]", "multicast")]
    assert links("http://example.com\\ http://example.com/a&amp; http://example.com/b&nbsp;x") == \
        [("http://example.com", "http://example.com"), ("http://example.com/a&", "http://example.com/a&"),
         ("http://example.com/b", "http://example.com/b")]
    # references decoded; what cannot stand in a URL percent-encoded, shown so; an IDN-ignored character dropped
    assert links("http://example.com/index.php?x&#x5B;&#x5D;=1 http://e&zwnj;xample.com/") == \
        [("http://example.com/index.php?x%5B%5D=1", "http://example.com/index.php?x%5B%5D=1"),
         ("http://example.com/", "http://example.com/")]
    # a "[" in a label that opens no link is text of the label
    assert links("[http://example.com/1[2345] [http://test.com [123]") == \
        [("http://example.com/1", "[2345"), ("http://test.com", "[123")]


def test_links_as_mediawiki_writes_and_ends_them():
    result = Wiki(existing={"Main Page", "Foo & bar"}).render(
        "[[Main Page|[bar]]] [[Foo &amp; bar]] [[Foo &amp;amp; bar]] [[Main_Page ]] {{#isbn:0-306-40615-2}}")
    links = [(a.get("href"), a.text_content()) for a in tree(result.html).xpath("//a")]
    assert links == [("/wiki/Main_Page", "[bar]"), ("/wiki/Foo_&_bar", "Foo & bar"), ("/wiki/Main_Page", "Main_Page "),
                     ("/wiki/Special:BookSources/0306406152", "ISBN 0-306-40615-2")]
    assert "[[Foo &amp; bar]]" in visible(result.html)  # a reference left after decoding makes no title


def test_blanks_around_a_category_link_within_a_line_stay():
    result = Wiki().render("* Foo [[Category:A]]Bar\n* Foo[[Category:A]] [[Category:B]]Bar\n* Foo [[Category:A]]\n"
                           "Foo\n[[Category:A]] Bar")
    assert [li.text_content().strip() for li in tree(result.html).xpath("//li")] == ["Foo Bar", "Foo Bar", "Foo"]
    assert tree(result.html).xpath("//p")[0].text_content().split() == ["Foo", "Bar"]


def test_pagesize_bidi_articlepath_and_protection():
    ctx = Wiki(templates={"Sized": "x" * 1234 + "é"}).context()
    assert visible(render("{{PAGESIZE:Sized}} {{PAGESIZE:Sized|R}} {{PAGESIZE:Nothing}}", ctx).html) == "1,236 1236 0"
    assert shown("{{bidi:abc}}|{{bidi:שלום}}|{{bidi:123}}") == "\u202aabc\u202c|\u202bשלום\u202c|123"
    assert shown("{{ARTICLEPATH}}") == "/wiki/$1"
    assert shown("[{{PROTECTIONLEVEL:edit}}] {{PROTECTIONEXPIRY:edit}} [{{PROTECTIONEXPIRY:nonsense}}]") == \
        "[] infinity []"
    assert shown("{{#speciale:Random page}}") == "Special:Random_page"


def test_subpage_links_that_name_no_page_stay_text():
    result = Wiki(title="User:A/L1/L2/L3").render("[[../..]] [[../../////]] [[wikt:../x]] [[wikt:./x]]")
    links = [(a.get("href"), a.text_content()) for a in tree(result.html).xpath("//a")]
    assert links == [("/wiki/User:A/L1", "User:A/L1")]
    assert visible(result.html).startswith("[[../..]] User:A/L1 [[wikt:../x]] [[wikt:./x]]")


def test_formatdate_writes_iso_years_as_numbers_and_bc():
    assert shown("{{#formatdate:-0001-12-31|mdy}}; {{#formatdate:0000-12-31|mdy}}; {{#formatdate:0001-12-31|dmy}}") == \
        "December 31, 2 BC; December 31, 1 BC; 31 December 1"


def test_french_spacing_binds_the_blank_before_a_question_mark_or_colon():
    html = rendered("Quoi ? Voilà : « oui » et »non« <span title=\"a ?\">b !</span> x !important").html
    assert "Quoi&#160;? Voilà&#160;: «&#160;oui&#160;» et »non«" in html
    assert 'title="a ?"' in html and "b&#160;!" in html  # never inside a tag
    assert "x !important" in html  # a mark followed by a word is not punctuation


def test_a_transcluded_special_page_is_a_link_to_it():
    result = Wiki().render("{{Special:Search}} {{Special:NoSuch}}")
    links = [(a.get("href"), a.get("class"), a.text_content()) for a in tree(result.html).xpath("//a")]
    assert links == [("/wiki/Special:Search", None, "Special:Search"), ("/wiki/Special:NoSuch", "new", "Special:NoSuch")]
    assert result.templates == []  # nothing to watch: no page holds a special page


def test_ifexist_of_media_asks_for_the_file():
    from wikipeer.render.context import FileMeta
    ctx = Wiki().context()
    ctx.file = lambda name: FileMeta(10, 10, "image/png", "/f/" + name, "/t/{width}/" + name) if name == "Held.png" else None
    assert visible(render("{{#ifexist:Media:Held.png|yes|no}} {{#ifexist:Media:Other.png|yes|no}}", ctx).html) == "yes no"


def test_an_external_link_in_a_links_label_stays_text():
    result = Wiki(existing={"Main Page"}).render("[[Main Page|[http://example.com/]]] [[Main Page|see [http://x.org y]]]")
    links = [(a.get("href"), a.text_content()) for a in tree(result.html).xpath("//a")]
    assert links == [("/wiki/Main_Page", "[http://example.com/]"), ("/wiki/Main_Page", "see [http://x.org y]")]


def test_cascadingsources_is_a_variable_too():
    # MediaWiki 1.39 has it as a variable as well as a function: no page cascades its protection on a node
    for text in ("a{{CASCADINGSOURCES}}b", "a{{CASCADINGSOURCES:Other page}}b"):
        result = rendered(text)
        assert visible(result.html) == "ab" and "tpl-missing" not in result.html
        assert "Template:CASCADINGSOURCES" not in result.templates


def test_local_words_read_the_wikis_clock_and_current_words_utc():
    text = "{{CURRENTHOUR}} {{LOCALHOUR}} {{LOCALTIMESTAMP}} {{CURRENTTIMESTAMP}}"
    current = in_wiki("{{CURRENTTIMESTAMP}}")
    kolkata = in_wiki(text, timezone="Asia/Kolkata").split()
    assert kolkata[0] == current[8:10] and kolkata[3] == current
    # India is 5 h 30 ahead of UTC all year: the local hour and timestamp are the wiki's own
    local = datetime.strptime(current, "%Y%m%d%H%M%S") + timedelta(hours=5, minutes=30)
    assert kolkata[1] == local.strftime("%H") and kolkata[2] == local.strftime("%Y%m%d%H%M%S")
    assert in_wiki("{{LOCALHOUR}}") == current[8:10]  # no zone configured: UTC

"""MediaWiki's parser tests in ``make test``: a ratchet on the number passing per file.

Every comparable case of every wikitext parser-test file is rendered once and
compared (tests/parser_tests.py; the normalisation is in docs/rendering.md).
``parser_tests_floor.json`` holds, per file, how many cases passed when last
recorded: a file passing fewer fails this test (a regression); passing more is
reported so the floor can be raised, a one-line change in that file.
"""

from __future__ import annotations

import json
from pathlib import Path

import parser_tests
from parser_tests import ParserCase, matches, normalised, parse_options, read_file, run_all, shares

FLOOR_FILE = Path(__file__).with_name("parser_tests_floor.json")


def test_every_file_passes_at_least_its_recorded_floor():
    floors: dict[str, int] = json.loads(FLOOR_FILE.read_text(encoding="utf-8"))
    per_file = shares(run_all(), "file")
    assert set(floors) <= set(per_file), f"files without results: {set(floors) - set(per_file)}"
    dropped = {name: (per_file[name][0], floor) for name, floor in floors.items() if per_file[name][0] < floor}
    assert not dropped, f"passing cases below the recorded floor (passed, floor): {dropped}"
    # every file read has a floor, so a new file cannot slip in unwatched
    assert set(per_file) == set(floors), f"files with no floor: {set(per_file) - set(floors)}"


def test_reader_takes_articles_cases_options_and_hooks(tmp_path):
    path = tmp_path / "sample.txt"
    path.write_text(
        "# a comment outside any case\n"
        "!! functionhooks\ntime\n!! endfunctionhooks\n"
        "!! article\nTemplate:echo\n!! text\n{{{1}}}\n!! endarticle\n"
        "!!article\nFoo_bar\n!!text\nDummy\n!! end\n"
        "!! test\nA case\n!! options\ntitle=[[Talk:X y]] subpage parsoid={\n \"modes\": [\"wt2html\"]\n}\n"
        "!! wikitext\n# a list, not a comment\n!! html/php\n<ol><li>a list</li></ol>\n"
        "!! html/parsoid\n<ol data-parsoid='{}'></ol>\n!! end\n"
        "!! test\nParsoid only\n!! wikitext\nx\n!! html/parsoid\n<p>x</p>\n!! end\n",
        encoding="utf-8")
    parsed = read_file(path)
    assert parsed.functionhooks == ["time"]
    assert parsed.articles == {"Template:Echo": "{{{1}}}", "Foo bar": "Dummy"}
    first, second = parsed.cases
    assert first.name == "A case" and first.wikitext == "# a list, not a comment"
    assert first.expected == "<ol><li>a list</li></ol>\n"
    assert first.options["title"] == "Talk:X y" and "subpage" in first.options
    assert first.options["parsoid"].startswith("{") and first.options["parsoid"].endswith("}")
    assert second.expected is None and parser_tests.skip_reason(second) == "no legacy-parser HTML"


def test_options_we_cannot_model_skip_the_case_with_a_reason():
    case = ParserCase("x", "~~~~", "<p>x</p>", parse_options("pst title=[[A]]"))
    assert parser_tests.skip_reason(case) == "option pst"
    assert parser_tests.skip_reason(ParserCase("y", "y", "<p>y</p>", parse_options("title=[[A]]"))) is None


def test_config_settings_the_renderer_models_run_and_the_others_skip_naming_the_setting():
    html5 = ParserCase("a", "== a=b ==", "<h2>x</h2>", {}, config='wgFragmentMode=[ "html5", "legacy" ]')
    assert parser_tests.skip_reason(html5) is None
    assert parser_tests.fragment_mode(html5) == "html5"
    assert parser_tests.fragment_mode(ParserCase("b", "x", "<p>x</p>", {})) == "legacy"  # the runner's default
    title = ParserCase("c", "x", "<p>x</p>", {}, config="wgAllowDisplayTitle=true\nwgRestrictDisplayTitle=false")
    assert parser_tests.skip_reason(title) is None
    svg = ParserCase("d", "x", "<p>x</p>", {}, config="wgSVGNativeRendering=false\nwgFragmentMode=[ \"html5\" ]")
    assert parser_tests.skip_reason(svg) == "config wgSVGNativeRendering"
    assert "id=\"a=b\"" in parser_tests.CaseWiki({}).render_case(html5)


def test_limit_options_reach_the_renderers_limits():
    case = ParserCase("e", "x", "<p>x</p>", parse_options("maxtemplatedepth=1 maxincludesize=30"))
    assert parser_tests.skip_reason(case) is None
    limits = parser_tests.CaseWiki({}).case_limits(case)
    assert (limits.max_depth, limits.max_expansion) == (1, 30)


def test_normalisation_equates_form_and_keeps_content():
    ours = '<div class="mw-parser-output"><h2><span class="mw-headline" id="A">A</span></h2>\n<p>x&#160;<a title="B" href="/wiki/B" class="new">B</a>\n</p></div>'
    theirs = ('<div class="mw-heading mw-heading2"><h2 id="A">A</h2><span class="mw-editsection">'
              '<span class="mw-editsection-bracket">[</span><a href="/index.php?title=P&amp;action=edit&amp;section=1">edit</a>'
              '<span class="mw-editsection-bracket">]</span></span></div>\n'
              '<p>x&nbsp;<a href="/index.php?title=B&amp;action=edit&amp;redlink=1" class="new" title="B (page does not exist)">B</a></p>')
    assert normalised(ours) == normalised(theirs)
    assert normalised('<p>a<br>b</p><hr><p style="clear:both">c</p>') == \
        normalised('<p>a<br/>b</p>\n<hr />\n<p style="clear: both;">c\n</p>')
    assert matches('<div>a</div>', '<div style="/* insecure input */">a</div>')
    assert not matches('<div>a</div>', '<div style="color:red">a</div>')
    assert not matches("<p>x</p>", "<p>y</p>")
    assert not matches("<p>&lt;b&gt;</p>", "<p><b></b></p>")


def test_the_harness_holds_parser_test_runners_files_at_mediawikis_urls():
    foobar = parser_tests.test_file("foobar.jpg")
    assert (foobar.width, foobar.height, foobar.url) == (1941, 220, "/images/3/3a/Foobar.jpg")
    assert foobar.thumb.format(width=180) == "/images/thumb/3/3a/Foobar.jpg/180px-Foobar.jpg"
    assert parser_tests.test_file("Foobar.svg").thumb.format(width=240) == \
        "/images/thumb/f/ff/Foobar.svg/240px-Foobar.svg.png"
    assert parser_tests.test_file("Nonexistent.jpg") is None
    case = ParserCase("thumb", "[[File:Foobar.jpg|thumb|Cap]]",
                      '<figure class="mw-default-size" typeof="mw:File/Thumb"><a href="/wiki/File:Foobar.jpg" '
                      'class="mw-file-description"><img src="http://example.com/images/thumb/3/3a/Foobar.jpg/180px-Foobar.jpg" '
                      'decoding="async" width="180" height="20" class="mw-file-element" '
                      'srcset="http://example.com/images/thumb/3/3a/Foobar.jpg/360px-Foobar.jpg 2x" /></a>'
                      "<figcaption>Cap</figcaption></figure>")
    assert matches(parser_tests.CaseWiki({}).render_case(case), case.expected)

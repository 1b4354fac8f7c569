"""The wiki's own language (issue 13, item 3): MediaWiki's language data, generated from Debian's mediawiki.

The data file is built by scripts/build_langdata.py (``make test`` runs it
first); these tests read the real file, with real language codes.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html as lxml_html

from wikipeer.model.title import WikiConfig
from wikipeer.render import RenderContext, language_data, render
from wikipeer.render.file_options import parse_options
from wikipeer.render.language_data import LanguageData
from wikipeer.render.lua.language import format_date, format_num, plural_index
from wikipeer.render.messages import message
from wikipeer.render.names import namespace_of
from wikipeer.render.variants import unconvert
from wikipeer.web.site import text_direction

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "scripts" / "build_langdata.py"


@pytest.fixture(scope="module", autouse=True)
def built_data():
    """The generated file exists (make test builds it; building here keeps the file runnable alone)."""
    done = subprocess.run([sys.executable, str(BUILD)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert language_data.current().available, "the loader does not find the generated file"


def html(text: str, lang: str, namespaces: dict[int, str] | None = None) -> str:
    config = WikiConfig(f"{lang}wiki", sitename="Wiki", lang=lang)
    if namespaces:
        config.namespaces = namespaces
    ctx = RenderContext(config=config, title="Test", href=lambda t: "/wiki/" + t.replace(" ", "_"),
                        exists=lambda titles: set(), template=lambda t: None)
    return render(text, ctx).html


def visible(fragment: str) -> str:
    return lxml_html.fromstring(f"<div>{fragment}</div>").text_content()


# -- the data and its loader --

def test_fallback_chain_rtl_digits_and_autonyms_come_from_mediawiki():
    he, bn, hy = (language_data.language(c) for c in ("he", "bn", "hy"))
    assert he.rtl and not bn.rtl and not hy.rtl
    assert language_data.language("zh").chain[:3] == ["zh", "zh-hans", "zh-hant"]
    assert language_data.language("de-at").chain == ["de-at", "de", "en"]
    assert language_data.language("en").chain == ["en"] and language_data.language("en").message("january")
    assert language_data.language("kaa").declared == ["kaa", "kk-latn", "kk-cyrl"]  # as listed, not followed
    assert bn.local_digits("2026") == "২০২৬"
    assert hy.autonym == "հայերեն" and language_data.language("el").autonym == "Ελληνικά"


def test_a_missing_data_file_means_english_only_and_one_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="wikipeer.render"):
        data = LanguageData(tmp_path / "absent.sqlite")
    assert not data.available
    assert sum("language data not built" in r.getMessage() for r in caplog.records) == 1
    hy = data.language("hy")
    assert hy.message("january") is None and hy.magic_words("img_thumbnail") == (False, [])
    assert hy.format_num("1234567.8") == "1,234,567.8" and hy.local_digits("12") == "12"
    assert hy.chain == ["hy", "en"] and not hy.rtl


def test_a_page_renders_in_english_when_the_data_file_is_missing(tmp_path):
    code = ("from wikipeer.render import render, RenderContext\n"
            "from wikipeer.model.title import WikiConfig\n"
            "c = WikiConfig('hywiki', lang='hy')\n"
            "ctx = RenderContext(config=c, title='T', href=lambda t: '/'+t, exists=lambda t: set(),"
            " template=lambda t: None)\n"
            "print(render('{{formatnum:1234567}} [[File:X.jpg|thumb|left]] {{#expr:1/0}}', ctx).html)\n")
    env = {"WIKIPEER_LANGDATA": str(tmp_path / "none.sqlite"), "PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1,234,567" in done.stdout and "division by zero" in done.stdout.lower()
    assert "mw:File/Thumb" in done.stdout and "mw-halign-left" in done.stdout
    assert done.stderr.count("language data not built") == 1


def test_a_data_file_built_after_start_is_taken_up(tmp_path, monkeypatch):
    later = tmp_path / "later.sqlite"
    monkeypatch.setenv("WIKIPEER_LANGDATA", str(later))
    monkeypatch.setattr(language_data, "_CURRENT", None)
    assert not language_data.current().available
    later.write_bytes(language_data.DEFAULT_PATH.read_bytes())
    assert language_data.current().available and language_data.language("bn").local_digits("3") == "৩"


def test_the_build_is_idempotent_and_fast_when_up_to_date(tmp_path):
    out = tmp_path / "data.sqlite"
    first = subprocess.run([sys.executable, str(BUILD), "--out", str(out)], capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 0 and "built" in first.stdout
    stamp = out.stat().st_mtime_ns
    again = subprocess.run([sys.executable, str(BUILD), "--out", str(out)], capture_output=True, text=True,
                           timeout=60)
    assert again.returncode == 0 and "up to date" in again.stdout
    assert out.stat().st_mtime_ns == stamp  # not rewritten
    assert LanguageData(out).language("bn").local_digits("1") == "১"


def test_the_build_says_what_is_missing_without_mediawiki(tmp_path):
    done = subprocess.run([sys.executable, str(BUILD), "--mediawiki", str(tmp_path), "--out", str(tmp_path / "x")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "system-deps.sh langdata" in done.stderr and "Traceback" not in done.stderr


# -- 1. file options and magic words in the wiki's language --

@pytest.mark.parametrize("lang, parts, expected", [
    ("hy", ["մինի", "աջից", "200px"], ("thumb", "right", 200)),
    ("hy", ["մինի", "ձախից", "150փքս"], ("thumb", "left", 150)),
    ("bn", ["থাম্ব", "ডানে", "100পিক্সেল"], ("thumb", "right", 100)),
    ("el", ["μικρογραφία", "αριστερά"], ("thumb", "left", None)),
    ("he", ["ממוזער", "שמאל", "120 פיקסלים"], ("thumb", "left", 120)),
])
def test_image_options_in_the_wiki_language(lang, parts, expected):
    opts = parse_options(parts, lang)
    assert (opts.type, opts.halign, opts.width) == expected and opts.caption == ""


def test_localized_words_are_captions_on_another_language_wiki():
    assert parse_options(["մինի"], "en").caption == "մինի"


@pytest.mark.parametrize("word, option", [("miniatur", "thumb"), ("links", "left"), ("rahmenlos", "frameless"),
                                          ("hochkant", "upright")])
def test_german_words_are_options_on_a_german_wiki_and_captions_on_an_english_one(word, option):
    german = parse_options([word], "de")
    assert option in (german.type, german.halign, "upright" if german.upright else None) and german.caption == ""
    assert parse_options([word], "en").caption == word  # as MediaWiki on an English wiki reads it
    assert parse_options([word, "A photo"], "en").caption == "A photo"  # the last non-option wins, as ever


def test_armenian_file_link_is_a_thumbnail_on_the_right():
    page = html("[[Պատկեր:X.jpg|մինի|աջից|200px|Կապիտան]]", "hy")
    assert "mw:File/Thumb" in page and "mw-halign-right" in page
    assert "աջից" not in visible(page) and "Կապիտան" in visible(page)


def test_localized_parser_functions_variables_and_switches():
    assert visible(html("{{#если:x|yes|no}}", "ru")).strip() == "yes"
    assert visible(html("{{#חשב:2*3}}", "he")).strip() == "6"
    assert visible(html("{{МАЛЕНЬКИМИ_БУКВАМИ:ABC}}", "ru")).strip() == "abc"
    assert visible(html("{{KLEIN:ABC}}", "de")).strip() == "abc"
    assert visible(html("{{НАЗВАНИЕ_СТРАНИЦЫ}}", "ru")).strip() == "Test"
    page = html("__ОБЯЗАТЕЛЬНОЕ_ОГЛАВЛЕНИЕ__\n== A ==\ntext", "ru")
    assert "ОБЯЗАТЕЛЬНОЕ" not in page and 'id="toc"' in page


def test_table_of_contents_title_in_the_wiki_language():
    page = html("== A ==\n== B ==\n== C ==\n== D ==\ntext", "hy")
    assert "Բովանդակություն" in page


# -- 2. namespaces --

def test_namespace_names_and_aliases_of_the_language():
    english = WikiConfig("hywiki", lang="hy")
    assert namespace_of(english, "Պատկեր") == 6 and namespace_of(english, "Կաղապար") == 10
    assert namespace_of(WikiConfig("ruwiki", lang="ru"), "Изображение") == 6
    assert namespace_of(WikiConfig("ruwiki", lang="ru"), "Участница") == 2  # a gender form
    assert namespace_of(WikiConfig("dewiki", lang="de"), "Bild") == 6


def test_the_wiki_configuration_wins_over_the_language_data():
    config = WikiConfig("hywiki", lang="hy", namespace_aliases={"Պատկեր": 14})
    assert namespace_of(config, "Պատկեր") == 14


# -- 3. digits, formatnum, Cite's numbers, dates --

@pytest.mark.parametrize("lang, number, expected", [
    ("bn", "1234567.8", "১২,৩৪,৫৬৭.৮"),
    ("de", "1234567.8", "1.234.567,8"),
    ("ru", "1234567.8", "1\u00a0234\u00a0567,8"),
    ("hy", "1234", "1234"),  # minimumGroupingDigits 2: no separator below five digits
    ("en", "-1234.5", "\u22121,234.5"),
])
def test_formatnum_per_language(lang, number, expected):
    assert visible(html(f"{{{{formatnum:{number}}}}}", lang)).strip() == expected


def test_formatnum_reads_a_localized_number_back():
    assert visible(html("{{formatnum:১২,৩৪,৫৬৭.৮|R}}", "bn")).strip() == "1234567.8"
    assert visible(html("{{formatnum:1.234.567,8|R}}", "de")).strip() == "1234567.8"


def test_cite_numbers_in_the_wiki_digits():
    page = html("A<ref>x</ref> B<ref name=n>y</ref><ref name=n/>\n<references/>", "bn")
    assert "[১]" in visible(page) and "[২]" in visible(page)
    assert "২.০" in visible(page) and "২.১" in visible(page)


def test_time_month_names_and_digits_in_the_wiki_language():
    assert visible(html("{{#time:j F Y|2024-01-15}}", "de")).strip() == "15 Januar 2024"
    assert visible(html("{{#time:j xg Y|2024-01-15}}", "ru")).strip() == "15 января 2024"
    assert visible(html("{{#time:j F Y|2024-03-05}}", "bn")).strip() == "৫ মার্চ ২০২৪"
    assert visible(html("{{#time:xnY|2024-03-05}}", "bn")).strip() == "2024"
    assert visible(html("{{#time:F|2024-03-05|de}}", "en")).strip() == "März"  # the language argument
    assert visible(html("{{#time:F|2024-03-05|nonsense}}", "en")).strip() == "March"


def test_formatdate_reads_and_writes_the_wiki_month_names():
    assert visible(html("{{#formatdate:15 Januar 2024|dmy}}", "de")).strip() == "15 Januar 2024"
    assert visible(html("{{#formatdate:2024-01-15|dmy}}", "de")).strip() == "15 Januar 2024"
    assert visible(html("{{#formatdate:January 15, 2024|ymd}}", "de")).strip() == "2024 Januar 15"


@pytest.mark.parametrize("lang, count, expected", [
    ("ru", "1", "файл"), ("ru", "3", "файла"), ("ru", "5", "файлов"), ("ru", "21", "файл"), ("ru", "12", "файлов"),
    ("pl", "22", "файла"), ("fr", "0", "файл"), ("en", "0", "файла"), ("en", "1", "файл"), ("ja", "1", "файл"),
])
def test_plural_by_the_languages_cldr_rules(lang, count, expected):
    assert visible(html(f"{{{{PLURAL:{count}|файл|файла|файлов}}}}", lang)).strip() == expected


def test_plural_explicit_forms_and_localized_counts():
    assert visible(html("{{PLURAL:12|12=a dozen|one|many}}", "en")).strip() == "a dozen"
    assert visible(html("{{PLURAL:১|এক|অনেক}}", "bn")).strip() == "এক"


def test_mw_language_reads_the_same_data():
    assert format_num("bn", "1234567", False) == "১২,৩৪,৫৬৭"
    assert format_num("de", "1234.5", True) == "1234.5"  # noCommafy: MediaWiki skips the separators entirely
    assert format_num("de", "1234.5", False) == "1.234,5"
    assert format_date("hy", "j xg Y", "2024-01-15") == "15 հունվարի 2024"
    assert format_date("el", "l", "2024-01-15") == "Δευτέρα"
    assert [plural_index("ru", n, 3) for n in (1, 2, 5, 11, 22)] == [1, 2, 3, 3, 2]


# -- 4. messages --

def test_messages_by_key_and_language_with_english_fallback():
    assert message("january", "de") == "Januar"
    assert message("pfunc_expr_division_by_zero", "ru") == "Деление на ноль"
    assert message("pfunc_expr_division_by_zero", "xx-unknown") == "Division by zero."
    assert visible(html("{{int:history_short}}", "el")).strip() == "Ιστορικό"


def test_expr_errors_in_the_wiki_language():
    assert "Деление на ноль" in visible(html("{{#expr:1/0}}", "ru"))
    assert "Division by zero." in visible(html("{{#expr:1/0}}", "en"))
    assert 'Unrecognized punctuation character "$"' in visible(html("{{#expr:1$2}}", "en"))


# -- 5. right to left --

def test_right_to_left_from_the_language_data():
    assert text_direction("he") == "rtl" and text_direction("fa") == "rtl" and text_direction("ar") == "rtl"
    assert text_direction("hy") == "ltr" and text_direction("en") == "ltr"


# -- 6. variants: not converted, the markup never shown --

@pytest.mark.parametrize("lang, text, expected", [
    ("zh", "-{zh-hans:A;zh-hant:B}-", "A"),
    ("zh", "x -{zh-cn:xxx;zh-tw:yyy}- y", "x xxx y"),
    ("zh", "-{H|zh-cn:A;zh-tw:B}-text", "text"),
    ("zh", "-{R|zh:China;zh-tw:Taiwan}-", "zh:China;zh-tw:Taiwan"),
    ("zh", "-{zh;zh-hans;zh-hant|blog}-", "blog"),
    ("sr", "Latinski: -{Ne nuntium necare}-", "Latinski: Ne nuntium necare"),
    ("sr", "-{sr-el:Beograd;sr-ec:Београд}-", "Београд"),
    ("en", "-{x}-", "-{x}-"),  # no variants: MediaWiki leaves the text alone
    ("zh", "unclosed -{ here", "unclosed -{ here"),
])
def test_variant_markup_shown_unconverted(lang, text, expected):
    assert unconvert(text, lang) == expected


def test_variant_markup_on_a_page_never_leaks():
    page = visible(html("中文 -{zh-hans:简体;zh-hant:繁體}- and -{[[Main Page]]}-", "zh"))
    assert "-{" not in page and "}-" not in page and "简体" in page and "Main Page" in page


def test_a_served_right_to_left_wiki_marks_its_page_and_content(tmp_path):
    """Algerian Arabic (arq) is right to left in MediaWiki's data, though in neither built-in list."""
    from conftest import run_cli, start_server, stop_server

    text = "'''الجزاير''' مدينة. {{formatnum:1234}} [[ملف:X.jpg|مصغر|يسار]]"
    dump = tmp_path / "arq.xml"
    dump.write_text(
        '<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="arq">\n'
        "<siteinfo><sitename>ويكي</sitename><dbname>arqwiki</dbname><base>https://arq.example.org/wiki/Main</base>"
        "<generator>MediaWiki 1.39</generator><case>first-letter</case><namespaces>"
        '<namespace key="0" case="first-letter" /><namespace key="6" case="first-letter">ملف</namespace>'
        "</namespaces></siteinfo>\n"
        "<page><title>الجزاير</title><ns>0</ns><id>1</id><revision><id>1</id><timestamp>2021-03-01T10:00:00Z"
        "</timestamp><contributor><username>A</username><id>5</id></contributor><model>wikitext</model>"
        f'<format>text/x-wiki</format><text xml:space="preserve">{text}</text></revision></page>\n'
        "</mediawiki>\n", encoding="utf-8")
    node = tmp_path / "node"
    assert run_cli(node, "init").code == 0
    assert run_cli(node, "import", str(dump)).code == 0
    proc, client = start_server(node)
    try:
        page = client.get("/wiki/arqwiki/الجزاير")
        assert page.status_code == 200
        doc = lxml_html.fromstring(page.text)
        assert doc.get("lang") == "arq" and doc.get("dir") == "rtl"
        content = doc.xpath("//div[@class='content']")[0]
        assert content.get("dir") == "rtl" and content.get("lang") == "arq"
        assert content.xpath(".//figure[contains(@class, 'mw-halign-left')]")  # ar's words, via arq's fallback
    finally:
        stop_server(proc, client)


def test_cite_errors_in_the_wiki_language():
    de = html("A<ref name=x />\n<references/>", "de")
    assert "Referenzfehler:" in visible(de) and 'lang="de"' in de
    bn = html('A<ref group="g">x</ref>', "bn")
    assert "উদ্ধৃতি ত্রুটি:" in visible(bn) and '"g"' in visible(bn)
    en = html("A<ref name=x />\n<references/>", "en")
    assert "Cite error: Invalid" in visible(en) and 'lang="en"' in en


# -- grammar --

@pytest.mark.parametrize("lang, case, word, expected", [
    ("ru", "genitive", "Википедия", "Википедии"),  # a rule of grammarTransformations/ru.json
    ("ru", "prepositional", "Викисловарь", "Викисловаре"),
    ("sv", "genitive", "Wikipedia", "Wikipedias"),
    ("sv", "genitive", "Lars", "Lars"),  # the first rule that matches wins
    ("he", "תחילית", "הוויקי", "וויקי"),
    ("he", "prefixed", "Wikipedia", "־Wikipedia"),  # a case named by another case's name
    ("ru", "no such case", "Википедия", "Википедия"),
    ("en", "genitive", "Wikipedia", "Wikipedia"),  # no rules: the word as it is
])
def test_grammar_by_mediawikis_rules(lang, case, word, expected):
    assert language_data.language(lang).grammar(case, word) == expected
    assert visible(html(f"{{{{GRAMMAR:{case}|{word}}}}}", lang)).strip() == expected


# -- make bench --

def test_make_bench_builds_the_data_and_measures_file_options_with_and_without_it():
    bench_rule = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("bench:"))
    assert "langdata" in bench_rule.split()
    done = subprocess.run([sys.executable, "-m", "bench.run", "langfiles"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    figures = dict(line.strip().rsplit(None, 1) for line in done.stdout.splitlines() if line.startswith("  "))
    for lang in ("hy", "bn"):
        links = int(figures[f"{lang} file links"].replace(",", ""))
        assert int(figures[f"{lang} images, with data"].replace(",", "")) == links
        assert int(figures[f"{lang} words as text, with data"]) == 0
        assert int(figures[f"{lang} images, without data"].replace(",", "")) < links

"""Test pages that call English Wikipedia's real citation and infobox templates (issue 13, item 5).

The pages are made here, from small tables of made-up sources and subjects,
so that both sides of the fidelity benchmark (bench/render_fidelity.py) and
its test (tests/test_scribunto_fidelity.py) parse the same texts against the
templates and modules of ``../shared/data/wikipedia/enwiki-citation-modules.xml.xz``
(Cite web/book/news/journal/..., Citation, Infobox, Navbox, Reflist, Harvnb,
Lang, Hatnote, Mbox...). Each page is prose with footnotes (``<ref>``, named
and reused refs, groups) and ``<references/>`` or ``{{Reflist}}``, some with an
infobox or a navbox; arguments vary (authors, editors, dates in several
formats, access dates, archives, identifiers, languages, quotes, pages) and
some are wrong on purpose, so that CS1's error messages are compared too.

``citation_dump(...)`` writes the modules' dump with these pages added, as one
dump to import.
"""

from __future__ import annotations

import lzma
from pathlib import Path
from xml.sax.saxutils import escape

WEB = [
    "{{cite web|url=https://example.org/report|title=Annual report|website=Example.org|access-date=2024-01-02}}",
    "{{cite web|url=https://news.example.com/a/b?x=1&y=2|title=A story with ''italics''|last=Smith|first=John"
    "|date=5 May 2020|publisher=Example Press|access-date=May 7, 2020}}",
    "{{cite web|url=http://archive.example.net/page|title=Gone page|archive-url=https://web.archive.org/web/2019/"
    "http://archive.example.net/page|archive-date=2019-03-04|url-status=dead|access-date=2018-12-01}}",
    "{{cite web|url=https://example.de/seite|title=Eine Seite|trans-title=A page|language=de|date=2011-07-15}}",
    "{{cite web|title=No URL at all|date=2015}}",
    "{{cite web|url=https://example.org/q|title=Quoted|quote=Everything is quoted here.|author=Jane Roe"
    "|author-link=Jane Roe|work=The Journal of Things}}",
    "{{cite web|url=https://example.org/multi|title=Many authors|last1=Ada|first1=A.|last2=Bede|first2=B."
    "|last3=Cole|first3=C.|last4=Dunn|first4=D.|date=March 2001}}",
    "{{cite web|url=https://example.org/bad|title=Bad date|date=32 Jan 2020|access-date=2020-02-30}}",
]
BOOK = [
    "{{cite book|last=Doe|first=Jane|title=A History of Examples|publisher=Example University Press|location=London"
    "|year=1999|isbn=978-0-306-40615-7|page=42}}",
    "{{cite book|author=Anon.|title=The Second Book|edition=2nd|publisher=Pub|year=2005|pages=10–20|chapter=Intro}}",
    "{{cite book|editor-last=Editor|editor-first=E.|title=Collected Essays|publisher=Press|date=June 1987"
    "|chapter=An Essay|chapter-url=https://example.org/essay|last=Writer|first=W.}}",
    "{{cite book|title=Ünïcode Böök|last=Müller|first=Jürgen|language=de|publisher=Verlag|year=2001"
    "|oclc=12345678}}",
    "{{cite book|title=Old Book|year=1850|publisher=Printer|location=Paris|volume=3|url=https://books.example.org/old"
    "|url-access=registration}}",
    "{{cite book|last=Bad|title=Bad ISBN|isbn=978-0-000-00000-1|year=2010}}",
]
NEWS = [
    "{{cite news|url=https://times.example.com/1|title=City wins prize|work=The Example Times|date=1 January 2021"
    "|last=Reporter|first=R.}}",
    "{{cite news|title=Printed only|newspaper=Daily Paper|date=March 3, 1990|page=A4}}",
    "{{cite news|url=https://example.org/n|title=Agency report|agency=Associated Example|date=2022-11-30"
    "|access-date=2022-12-01}}",
]
OTHER = [
    "{{cite journal|last1=Doe|first1=Jane|last2=Roe|first2=R.|date=March 2010|title=On things|journal=J. Stuff"
    "|volume=3|issue=2|pages=1–10|doi=10.1000/xyz123|pmid=12345}}",
    "{{cite journal|title=Open paper|journal=Open Science|year=2018|doi=10.5555/12345678|doi-access=free"
    "|arxiv=1801.00001}}",
    "{{Citation|last=Harvard|first=H.|title=A Citation Style 2 Work|year=1995|publisher=CS2 Press}}",
    "{{cite magazine|title=Magazine piece|magazine=Example Monthly|date=April 2003|issue=12}}",
    "{{cite encyclopedia|title=Entry|encyclopedia=Encyclopedia Exemplaria|year=2000|volume=5}}",
    "{{cite conference|title=Talk|conference=ExampleConf 2019|year=2019|last=Speaker|first=S.}}",
    "{{cite report|title=Technical report|publisher=Institute|year=2012|id=TR-12-3}}",
    "{{cite thesis|title=A thesis|degree=PhD|publisher=University|year=2008|last=Student|first=S.}}",
]
# Rarer arguments: Vancouver authors, display limits, dmy dates, script titles, formats, more identifiers.
MORE = [
    "{{cite web|url=https://example.org/v|title=Vancouver style|vauthors=Smith J, Doe AB, Roe C|date=2019-06-01"
    "|df=dmy-all|access-date=2019-06-02}}",
    "{{cite web|url=https://example.org/etal|title=Cut short|last1=One|first1=A.|last2=Two|first2=B.|last3=Three"
    "|first3=C.|display-authors=1|format=PDF|via=Example Archive}}",
    "{{cite web|url=https://example.jp/p|script-title=ja:日本語の題名|trans-title=A Japanese title|language=ja"
    "|date=2010年|website=Example.jp}}",
    "{{cite web|url=https://example.org/live|title=Still here|archive-url=https://web.archive.org/web/20200101000000/"
    "https://example.org/live|archive-date=1 January 2020|url-status=live}}",
    "{{cite book|title=Translated Book|translator-last=Trans|translator-first=T.|others=Illustrated by I. Artist"
    "|series=Example Series|orig-year=1900|year=1990|publisher=Pub|lccn=90012345|jstor=123456}}",
    "{{cite journal|title=More ids|journal=Ids|date=Spring 2001|issn=0028-0836|bibcode=2001Natur.409..123S"
    "|hdl=1234/5678|s2cid=1234567|pmc=345678|pmid=123456}}",
    "{{cite news|title=Old news|newspaper=The Gazette|date=c. 1900|location=Boston}}",
    "{{cite news|title=Season story|work=Weekly|date=2001–2002|url=https://example.org/s}}",
    "{{cite episode|title=Pilot|series=Example Show|network=EBC|date=5 May 1999|season=1|number=1}}",
    "{{cite video game|title=Example Quest|developer=Dev Studio|publisher=Games Inc.|year=2004|platform=PC}}",
    "{{cite patent|country=US|number=1234567|title=A device|inventor=Inventor, I.|pubdate=1999-01-01}}",
    "{{cite web|url=https://example.org/m|title=Missing access date url|accessdate=2020-01-01|deadurl=yes}}",
]
SOURCES = WEB + BOOK + NEWS + OTHER + MORE

SUBJECTS = ["Exampleton", "River Sample", "Mount Test", "Lake Fixture", "Baseline Bridge", "Proto Island",
            "Old Mill", "Harbour Light"]
INFOBOXES = [
    "{{Infobox|title={name}|label1=Country|data1=Examplia|label2=Population|data2=12,345|label3=Founded"
    "|data3=1850}}",
    "{{Infobox|above={name}|image=|caption=|header1=Geography|label2=Area|data2=42 km²|label3=Elevation"
    "|data3=100 m|header4=History|label5=Established|data5=[[1850]]|below=Source: survey}}",
    "{{Infobox|title={name}|subheader=A place|label1=Type|data1=Village|label2=Empty|data2=|data3=Just data"
    "|class3=note}}",
    "{{Infobox|title={name}|label1=Mayor|data1=J. Doe<ref>{{cite news|title=Mayor elected|work=Local News"
    "|date=3 March 2021}}</ref>|label2=Website|data2=[https://example.org example.org]|below={{Lang|de|Ortsname}}}}",
]
NAVBOX = ("{{Navbox|name=Places|title=Places of Examplia|group1=Towns|list1=[[Exampleton]] • [[Old Mill]]"
          "|group2=Waters|list2=[[River Sample]] • [[Lake Fixture]]|below=See also [[Examplia]]}}")
EXTRAS = ["{{Hatnote|For other uses, see [[{name} (disambiguation)]].}}", "{{Lang|fr|texte en français}}",
          "{{Harvnb|Smith|2001|p=3}}", "{{Mbox|text=This is a boxed note.}}"]

SAMPLER = [
    "{{Hatnote|A plain hatnote.}}", "{{Hatnote inline|Inline note}}", "{{Lang|fr|texte}}", "{{Lang|ja|日本語}}",
    "{{Lang|de|Ortsname|italic=no}}", "{{Section link|Foo|Bar}}", "{{Section link|Foo|Bar|Baz}}",
    "{{Harvnb|Smith|2001|p=3}}", "{{Harv|Doe|Roe|2010|pp=1–10}}", "{{Harvid|Smith|2001}}", "{{Anchor|here}}Anchored",
    "{{Str left|Example|3}}", "{{Trim|  spaced  }}", "{{Delink|[[Linked text|shown]] and [[plain]]}}",
    "{{Yesno|yes}} {{Yesno|no}} {{Yesno|maybe|¬=unset}}", "{{Para|title|An example}}", "{{Tag|ref}}",
    "{{Tl|Cite web}}", "{{Tlx|Cite web|url=x|title=y}}", "{{Tlg|Foo|bar}}", "{{Nowrap|no wrapping here}}",
    "{{Abbr|WP|Wikipedia}}", "{{Nbsp}}x", "{{Em|emphasis}} {{Strong|strong}} {{Var|x}} {{Code|code()}}",
    "{{Resize|90%|smaller}} {{Smaller|smaller}} {{Sup|up}}", "{{Mbox|text=A boxed note.}}",
    "{{Ombox|text=Other box.}}", "{{Fmbox|text=Footer box.}}", "{{Warning|Careful.}}",
    "{{Crossref|See elsewhere.}}", "{{Ref|a}} {{NotRef|b}}", "{{Paren|inside}}", "{{Date|2020-05-05}}",
    "{{Slink|Foo|Bar}}", "{{Spaces|3}}x", "{{Xt|Good example}} {{!xt|Bad example}}",
    "{{Cl|Examples}}", "{{Category link|Examples}}", "{{Fix|text=fix me}}",
]


def citation_pages() -> dict[str, str]:
    """Title -> wikitext of the test pages (deterministic)."""
    pages: dict[str, str] = {}
    n = len(SOURCES)
    for i in range(48):
        name = SUBJECTS[i % len(SUBJECTS)]
        title = f"{name} citations {i + 1}"
        parts: list[str] = []
        if i % 5 == 0:
            parts.append(EXTRAS[0].replace("{name}", name))
        if i % 3 == 0:
            parts.append(INFOBOXES[(i // 3) % len(INFOBOXES)].replace("{name}", name))
        refs = [SOURCES[(i * 3 + k) % n] for k in range(2 + i % 4)]
        lines = [f"'''{name}''' is a place used in test number {i + 1}."]
        for k, ref in enumerate(refs):
            if k == 0 and i % 2 == 0:
                lines.append(f"It was first described in {1800 + i} by travellers.<ref name=\"first\">{ref}</ref> "
                             f"They came back later.<ref name=\"first\" />")
            elif k == 1 and i % 4 == 1:
                lines.append(f"A note on sources.<ref group=\"note\">See {ref}</ref>")
            else:
                lines.append(f"Fact number {k + 1} about {name}.<ref>{ref}</ref>")
        if i % 7 == 3:
            lines.append(EXTRAS[1 + (i // 7) % 3])
        parts.append("\n\n".join(lines))
        parts.append("== History ==\n" + f"In {1900 + i} the place grew.<ref>{SOURCES[(i * 7 + 5) % n]}</ref>")
        if any("group=\"note\"" in line for line in lines):
            parts.append("== Notes ==\n<references group=\"note\" />")
        parts.append("== References ==\n" + ("{{Reflist}}" if i % 2 else "<references/>"))
        if i % 4 == 2:
            parts.append(NAVBOX)
        pages[title] = "\n\n".join(parts) + "\n"
    # Lists of citations outside footnotes (bibliographies), one per kind.
    pages["Bibliography of Examplia"] = ("== Works ==\n" + "".join(f"* {s}\n" for s in SOURCES) + "\n" + NAVBOX + "\n")
    # Other templates of the dump built on modules (Module:Hatnote, Lang, Message box, Section link, Footnotes,
    # Anchor, String, Delink, Yesno...), each in a list item of its own.
    pages["Other module templates"] = "".join(f"* {call}\n" for call in SAMPLER) + "\n{{Reflist}}\n"
    pages["Infobox variants"] = "\n".join(box.replace("{name}", f"Box {k}") for k, box in enumerate(INFOBOXES)) + "\n"
    return pages


def citation_dump(modules_dump: Path, pages: dict[str, str], path: Path) -> Path:
    """The modules' dump (xz) with PAGES added as main-namespace pages, as one plain dump at PATH.

    One dump, so that one import declares the wiki (siteinfo, namespaces) and holds everything.
    """
    with lzma.open(modules_dump, "rt", encoding="utf-8") as f:
        source = f.read()
    end = source.rindex("</mediawiki>")
    added = []
    for k, (title, text) in enumerate(pages.items()):
        added.append(f"  <page>\n    <title>{escape(title)}</title>\n    <ns>0</ns>\n    <id>{900000 + k}</id>\n"
                     f"    <revision>\n      <id>{900000 + k}</id>\n      <timestamp>2024-01-02T00:00:00Z</timestamp>\n"
                     "      <contributor><username>Fidelity bench</username><id>0</id></contributor>\n"
                     "      <model>wikitext</model>\n      <format>text/x-wiki</format>\n"
                     f"      <text xml:space=\"preserve\">{escape(text)}</text>\n    </revision>\n  </page>\n")
    path.write_text(source[:end] + "".join(added) + source[end:], encoding="utf-8")
    return path

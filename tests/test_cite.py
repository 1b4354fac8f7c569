"""Cite's footnotes as MediaWiki makes them: ids, follow=, list-defined notes, groups, errors, labels."""

from __future__ import annotations

from test_render import Wiki, tree, visible


def page(text: str, **kw):
    return tree(Wiki(**kw).render(text).html)


def marks(doc) -> list[str]:
    return [s.text_content() for s in doc.xpath("//sup[@class='reference']")]


def notes(doc) -> list[str]:
    return [" ".join(s.text_content().split()) for s in doc.xpath("//span[starts-with(@class, 'reference-text')]")]


def errors(doc) -> list[str]:
    return [e.text_content() for e in doc.xpath("//span[contains(@class, 'mw-ext-cite-error')]")]


def test_follow_adds_its_text_to_the_earlier_note_and_makes_no_mark():
    doc = page('a<ref name="p">First</ref> b<ref follow="p">more</ref> c<ref>Second</ref>\n<references/>')
    assert marks(doc) == ["[1]", "[2]"]
    assert notes(doc) == ["First more", "Second"]


def test_follow_without_its_note_is_shown_unnumbered_at_the_head_of_the_list():
    doc = page('a<ref follow="later">Rest</ref> b<ref name="later">Later</ref>\n<references/>')
    assert marks(doc) == ["[1]"]
    (ol,) = doc.xpath("//ol[@class='references']")
    assert [child.tag for child in ol] == ["p", "li"]
    assert ol[0].text_content().strip() == "Rest"
    # the follow took the first page-wide id, so the named note is cite_note-later-2
    assert ol[1].get("id") == "cite_note-later-2"


def test_follow_with_a_name_or_a_number_is_an_error_in_place():
    doc = page('a<ref name="n" follow="m">x</ref> b<ref follow="1">y</ref>')
    assert not doc.xpath("//ol")
    assert [e.split(": ", 1)[1][:30] for e in errors(doc)] == ['A <ref follow="…"> tag that is',
                                                             "Invalid <ref> tag; name cannot"]


def test_list_defined_notes_give_text_and_report_what_is_wrong():
    doc = page('a<ref name="used"/>\n<references>\n<ref name="used">Used</ref>\n<ref name="spare">Spare</ref>\n'
               '<ref>Nameless</ref>\n<ref name="empty"/>\n</references>')
    assert marks(doc) == ["[1]"]
    items = doc.xpath("//ol[@class='references']/li")
    assert [li.get("id") for li in items] == [None, None, "cite_note-used-1"]
    assert notes(doc)[2] == "Used"
    assert 'name "spare" defined in <references> is not used in prior text' in notes(doc)[0]
    assert "has no name attribute" in notes(doc)[1]
    assert any('name "empty" defined in <references> group "" has no content' in e for e in errors(doc))


def test_refs_in_a_list_take_its_group():
    doc = page('a<ref name="x" group="g"/>\n<references group="g">\n<ref name="x">In g</ref>\n</references>\n'
               'b<ref>plain</ref>')
    assert marks(doc) == ["[g 1]", "[1]"]
    assert notes(doc) == ["In g", "plain"]


def test_tag_references_runs_its_refs_again_as_definitions_without_using_numbers():
    doc = page('<ref>one</ref>\n<ref name="a" group="g"/>\n{{#tag:references|\n<ref name="a">A</ref>\n|group=g}}\n'
               '<ref>two</ref>')
    assert marks(doc) == ["[1]", "[g 1]", "[2]"]
    assert notes(doc) == ["A", "one", "two"]
    # the ref taken back keeps its page-wide id: the next note is the fourth
    assert doc.xpath("//sup[@class='reference']")[2].get("id") == "cite_ref-4"


def test_a_list_starts_its_groups_numbers_again():
    doc = page("A<ref>foo</ref>\n<references/>\nB<ref>bar</ref>\n<references/>")
    assert marks(doc) == ["[1]", "[1]"]
    assert [li.get("id") for li in doc.xpath("//li")] == ["cite_note-1", "cite_note-2"]


def test_ids_fold_runs_of_underscores_and_trim_names_and_groups():
    doc = page('<ref name="test__123">x</ref> <ref group=" g " name=" n2 ">y</ref>\n<references group="g"/>')
    assert [s.get("id") for s in doc.xpath("//sup[@class='reference']")] == ["cite_ref-test_123_1-0", "cite_ref-n2_2-0"]
    assert marks(doc) == ["[1]", "[g 1]"]


def test_direction_of_the_full_definition_wins_and_conflicts_are_reported():
    doc = page('<ref name="a" dir="rtl"/> <ref name="a">x</ref> <ref name="b" dir="ltr">y</ref>'
               ' <ref name="b" dir="RTL"/> <ref dir="auto">z</ref> <ref dir="sideways">w</ref>')
    items = doc.xpath("//ol[@class='references']/li")
    assert [li.get("class") for li in items] == [None, "mw-cite-dir-ltr", "mw-cite-dir-auto", None]
    texts = notes(doc)
    assert texts[0] == "x"
    assert 'name "b" does have a conflicting dir attribute' in texts[1]
    assert doc.xpath("//span[@class='reference-text']/@dir") == ["auto"]
    assert 'Invalid dir="sideways", must be "ltr", "rtl" or "auto".' in texts[3]


def test_unknown_parameters_are_errors_that_name_the_supported_ones():
    doc = page('a<ref dummy="1">x</ref> b<ref>y</ref>\n<references name="q"/>\n<references/>')
    assert errors(doc) == [
        'Cite error: Invalid parameter "dummy" in <ref> tag. The supported parameters are: dir, follow, group, name.',
        'Cite error: Invalid parameter "name" in <references> tag. The supported parameters are: group, responsive.']
    assert notes(doc) == ["y"]


def test_a_group_without_its_list_is_an_error_paragraph_at_the_end():
    doc = page('a<ref group="g">x</ref> b<ref group="h">y</ref>')
    (last,) = doc.xpath("./p[last()]")
    assert [e.text_content() for e in last.xpath(".//span")][0].startswith(
        'Cite error: <ref> tags exist for a group named "g"')
    assert len(last.xpath(".//span")) == 2 and not doc.xpath("//ol")


def test_a_group_labels_its_marks_from_the_wikis_message():
    wiki = {"MediaWiki:Cite link label group-lower-alpha": "a b"}
    doc = page('x<ref group="lower-alpha">1</ref> y<ref group="lower-alpha">2</ref> z<ref group="lower-alpha">3</ref>'
               '\n<references group="lower-alpha"/>', templates=wiki)
    assert marks(doc)[:2] == ["[a]", "[b]"]
    assert marks(doc)[2] == '[Cite error: Ran out of custom link labels for group "lower-alpha". Define more in the ' \
                            'MediaWiki:cite_link_label_group-lower-alpha message.]'


def test_backlinks_are_padded_as_cite_pads_them():
    text = "x<ref name=n>N</ref>" + "<ref name=n/>" * 11
    labels = [a.text for a in page(text).xpath("//span[@class='mw-cite-backlink']//a")]
    assert labels[:2] == ["1.00", "1.01"] and labels[-1] == "1.11"


def test_backlinks_take_letters_when_the_wiki_formats_them_so():
    wiki = {"MediaWiki:Cite references link many format": "<sup>[[#$1|$3]]</sup>"}
    labels = [a.text for a in page("x<ref name=n>N</ref><ref name=n/><ref name=n/>", templates=wiki)
              .xpath("//span[@class='mw-cite-backlink']//a")]
    assert labels == ["a", "b", "c"]


def test_long_lists_are_set_in_columns_unless_responsive_is_off():
    refs = "".join(f"<ref>n{k}</ref>" for k in range(11))
    doc = page(f"{refs}\n<references/>\n{refs}\n<references responsive=\"0\"/>")
    assert [d.get("class") for d in doc.xpath("//div[ol]")] == ["mw-references-wrap mw-references-columns",
                                                                "mw-references-wrap"]


def test_an_empty_list_leaves_the_text_around_it_a_paragraph():
    doc = page("x\n\n{{1x|foo<references />}}", templates={"Template:1x": "{{{1}}}"})
    assert [p.text_content().strip() for p in doc.xpath("./p")] == ["x", "foo"]


def test_note_text_keeps_its_leading_blank_and_loses_its_final_newline():
    doc = page("<ref>\nfoo\n</ref>\n<references/>")
    (text,) = doc.xpath("//span[@class='reference-text']")
    assert text.text_content() == "\nfoo"
    assert visible(Wiki().render("a<ref name=v> </ref>").html).endswith('no text was provided for refs named "v".')


def test_a_templates_ref_text_is_not_given_the_templates_arguments():
    # MediaWiki parses a note's text apart from the template: {{{1}}} stays, {{#tag:ref}} passes it in
    wiki = {"Template:Note": "<ref>{{{1}}}</ref>", "Template:Tagged": "{{#tag:ref|{{{1}}}}}"}
    doc = page("a{{Note|x}} b{{Tagged|y}}\n<references/>", templates=wiki)
    assert notes(doc) == ["{{{1}}}", "y"]


def test_a_ref_inside_a_ref_runs_when_the_outer_one_is_listed():
    doc = page("test <ref>hi {{Inner|ho}}</ref>\n<references />", templates={"Template:Inner": "<ref>{{{1}}}</ref>"})
    assert marks(doc) == ["[1]"]
    lists = doc.xpath("//ol[@class='references']")
    assert len(lists) == 2
    assert notes(doc)[0] == "hi"
    assert notes(doc)[1].startswith("{{{1}}} Cite error: <ref> tag defined in <references> has no name attribute")


def test_a_tag_references_holding_a_finished_list_is_an_error_and_its_refs_become_definitions():
    doc = page('<ref name="foo" />\n{{#tag:references|\n<ref name="foo">bar</ref>\n\n<references />\n}}')
    assert errors(doc)[0] == "Cite error: Closing tag missing for <references>."
    (li,) = doc.xpath("//ol[@class='references']/li")
    assert li.get("id") is None and 'name "foo" defined in <references> is not used' in li.text_content()


def test_a_ref_in_a_tags_attributes_gives_them_its_marks_id_and_class():
    # MediaWiki puts the mark's HTML back into the attribute text before its sanitizer reads it
    doc = page("{|\n|- <ref>boo</ref>\n|x\n|}\n<i <ref>y</ref>>z</i>\n<references />")
    row = doc.xpath("//tr")[0]
    assert (row.get("id"), row.get("class")) == ("cite_ref-1", "cite-bracket")
    italic = doc.xpath("//i")[0]
    assert (italic.get("id"), italic.get("class")) == ("cite_ref-2", "cite-bracket")
    assert notes(doc) == ["boo", "y"]


def test_a_ref_taken_back_by_one_list_is_not_taken_back_again_by_the_next():
    # the template's argument (and so its mark) is used by two lists: the second finds it taken already
    wiki = {"Template:Twice": "{{#tag:references|{{{1}}}}}\n<ref>after</ref>\n{{#tag:references|{{{1}}}}}"}
    doc = page('<ref name="a"/>{{Twice|<ref name="a">A</ref>}}', templates=wiki)
    assert marks(doc) == ["[1]", "[1]"]
    assert notes(doc) == ["A", "after"]

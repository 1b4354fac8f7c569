"""Footnotes: ``<ref>`` marks and ``<references/>`` lists, as the Cite extension makes them.

Notes are kept per group in the order they are first met (Cite's reference
stack). A note gets a page-wide id (``cite_note-NAME-3``) and a number in its
group; a named note used again keeps both. A ``<references/>`` list takes the
notes of its group so far and starts the group's numbers again; notes left
with no list are appended at the end of the page (a named group's as an
error), as MediaWiki does. ``follow="name"`` adds its text to the earlier
note of that name, or, with none yet, shows it unnumbered at the head of the
list. Refs inside ``<references>...</references>`` give the text of notes
used before (list-defined references); those of ``{{#tag:references|...}}``
ran as marks before the list was known and are taken back and run again
(Cite's rollback). A ref inside a ref's text runs when the outer one is
listed. Note texts are rendered (links, bold...) when the lists are put in,
after the page's own passes. Errors carry Cite's message keys; their texts
come from render/messages.py.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from wikipeer.render import language_data, messages
from wikipeer.render.langtags import direction
from wikipeer.render.strip import MARKER, StripState
from wikipeer.render.tags import escape_attr, escape_text

REF_PARAMETERS = ("dir", "follow", "group", "name")
REFERENCES_PARAMETERS = ("group", "responsive")
_DIRECTIONS = ("ltr", "rtl", "auto")


@dataclass(slots=True)
class Note:
    """One footnote: a named note may have several marks (``count``), a list-defined one none yet."""

    group: str
    name: str | None
    text: str | None
    key: int | None  # the page-wide id; None for a list-defined note no mark used
    number: int | None  # the number in its group; None when it has no mark of its own
    count: int = 0
    direction: str = ""  # ltr, rtl or auto: the full definition's dir
    follow: str | None = None  # the name of the note it continues, when that note was not there yet
    warnings: list[tuple[str, ...]] = field(default_factory=list)  # Cite errors shown after the text


@dataclass(slots=True)
class _Snapshot:
    """What a ``<ref>`` call may change, as it was before: its group's size and counter, the notes it names."""

    group: str
    size: int | None  # None: the group had no notes
    counter: int | None
    touched: dict[str, tuple[Note, Note]]  # name -> (the note, a copy of its fields)


@dataclass(slots=True)
class _Call:
    """One ``<ref>`` as met: its arguments, its expanded text, and the state before it."""

    attrs: dict[str, str]
    content: str | None
    before: _Snapshot


def _copy(note: Note) -> Note:
    return Note(note.group, note.name, note.text, note.key, note.number, note.count, note.direction,
                note.follow, list(note.warnings))


@dataclass(slots=True)
class Refs:
    """The notes of one page and the lists that show them."""

    strip: StripState
    lang: str = "en"
    inline: Callable[[str], str] = lambda text: escape_text(text)
    wiki_message: Callable[[str], str | None] = lambda key: None  # the wiki's own MediaWiki: page of a message
    groups: dict[str, dict[object, Note]] = field(default_factory=dict)  # group -> notes not yet listed
    counters: dict[str, int] = field(default_factory=dict)
    ids: int = 0
    in_references: str | None = None  # the group of the <references> whose body is being read
    list_errors: list[str] = field(default_factory=list)  # errors of refs in a list's body, shown after it
    calls: list[_Call] = field(default_factory=list)  # every <ref> met outside a list, to undo (see replay)
    marks: dict[str, int] = field(default_factory=dict)  # the marker a call gave -> its index in calls
    deferred: list[tuple[dict[str, str], str | None]] = field(default_factory=list)  # refs met inside refs
    lists: set[str] = field(default_factory=set)  # the markers of the lists made so far

    # ---- <ref> ----

    def ref(self, attrs: dict[str, str], content: str | None) -> str:
        """The mark for one ``<ref>`` (nothing when it only defines or continues a note's text)."""
        if self.in_references is not None:
            return self._ref(attrs, content)
        call = _Call(attrs, content, self._state(attrs))
        self.calls.append(call)
        out = self._ref(attrs, content)
        if out:
            self.marks[out] = len(self.calls) - 1
        return out

    def nested(self, attrs: dict[str, str], content: str | None) -> str:
        """A ``<ref>`` inside another's text: nothing there; it runs when the next list is made.

        Cite parses a note's text when it lists it, so a ref inside is met
        while that list is being made, as if it were defined in the list.
        """
        self.deferred.append((attrs, content))
        return ""

    def _run_deferred(self, group: str) -> None:
        calls, self.deferred = self.deferred, []
        outer, self.in_references = self.in_references, group
        try:
            for attrs, content in calls:
                self._ref(attrs, content)
        finally:
            self.in_references = outer

    def holds_list(self, body: str) -> str | None:
        """The error for a list whose body holds a finished list (Cite: its closing tag is missing)."""
        if any(m.group(0) in self.lists for m in MARKER.finditer(body)):
            return self.strip.add(self.error("cite_error_included_references"))
        return None

    def replay(self, body: str) -> None:
        """Take back the refs whose marks are in ``body`` and run them again as a list's definitions.

        ``{{#tag:references|<ref name=a>text</ref>}}`` expands its refs
        before the list is known, as marks of their own; as Cite does, the
        latest calls down to the first one whose mark the list holds are
        undone (their page-wide ids stay used) and run again inside the list.
        """
        found = [self.marks[m.group(0)] for m in MARKER.finditer(body) if m.group(0) in self.marks]
        if not found:
            return
        start = min(found)
        redo = self.calls[start:]
        for call in reversed(redo):
            self._restore(call.before)
        del self.calls[start:]
        # the marks of the calls taken back name nothing now (a later list may hold the same marker again)
        self.marks = {mark: index for mark, index in self.marks.items() if index < start}
        for call in redo:
            self._ref(call.attrs, call.content)

    def _state(self, attrs: dict[str, str]) -> _Snapshot:
        """What one call may change: a new note at the end of its group, one named note, the counter."""
        group = html.unescape(attrs.get("group", "")).strip()
        notes = self.groups.get(group)
        touched = {}
        for key in ("name", "follow"):
            name = html.unescape(attrs.get(key, "")).strip()
            if notes is not None and name in notes:
                touched[name] = (notes[name], _copy(notes[name]))
        return _Snapshot(group, None if notes is None else len(notes), self.counters.get(group), touched)

    def _restore(self, before: _Snapshot) -> None:
        notes = self.groups.get(before.group)
        if notes is not None:
            if before.size is None:
                del self.groups[before.group]
            else:
                while len(notes) > before.size:
                    notes.pop(next(reversed(notes)))
        for note, saved in before.touched.values():
            for name in Note.__slots__:
                setattr(note, name, getattr(saved, name))
        if before.counter is None:
            self.counters.pop(before.group, None)
        else:
            self.counters[before.group] = before.counter

    def _ref(self, attrs: dict[str, str], content: str | None) -> str:
        args = {key: html.unescape(value).strip() for key, value in attrs.items()}
        group = args.get("group") or (self.in_references or "")
        name = args.get("name") or None
        follow = args.get("follow") or None
        problem = self._fatal(args, name, follow)
        warnings: list[tuple[str, ...]] = []
        if problem is None and name is not None and name.isdigit():
            # a plain number is no name (it would clash with the notes' numbers): a note of its own
            warnings.append(("cite_error_ref_numeric_key",))
            name = None
        dir_value = args.get("dir")
        if dir_value is not None and dir_value.lower() not in _DIRECTIONS:
            warnings.append(("cite_error_ref_invalid_dir", escape_text(dir_value)))
            dir_value = None
        dir_value = (dir_value or "").lower()
        if self.in_references is not None:
            return self._list_defined(problem, group, name, content)
        if problem is None and name is None and follow is None:
            if content is None:  # <ref />: nothing to show and no name to find it by
                problem = ("cite_error_ref_no_key",)
            elif not content.strip():
                problem = ("cite_error_ref_no_input",)
        if problem is not None:
            return self.strip.add(self.error(*problem))
        text = content if content is not None and content.strip() else None
        if follow is not None:
            return self._follow(group, follow, text, dir_value, warnings)
        note = self._use(group, name, text, dir_value, warnings)
        return self.strip.add(self._mark(note), name="ref")

    def _fatal(self, args: dict[str, str], name: str | None, follow: str | None) -> tuple[str, ...] | None:
        """The error that replaces a ref altogether, as Cite's validator finds it."""
        unknown = [key for key in args if key not in REF_PARAMETERS]
        if unknown:
            return ("cite_error_ref_too_many_keys", escape_text(unknown[0]), ", ".join(REF_PARAMETERS))
        if follow is not None and follow.isdigit():
            return ("cite_error_ref_numeric_key",)
        if follow is not None and name is not None:
            return ("cite_error_ref_follow_conflicts",)
        return None

    def _follow(self, group: str, follow: str, text: str | None, dir_value: str,
                warnings: list[tuple[str, ...]]) -> str:
        parent = self.groups.get(group, {}).get(follow)
        if parent is not None:
            parent.text = (parent.text or "") + " " + (text or "")
            return ""
        # no such note yet (on Wikisource the rest of a note is on the next page): shown unnumbered
        self.ids += 1
        note = Note(group, None, text, self.ids, None, 1, dir_value, follow, warnings)
        self.groups.setdefault(group, {})[("", self.ids)] = note
        return ""

    def _use(self, group: str, name: str | None, text: str | None, dir_value: str,
             warnings: list[tuple[str, ...]]) -> Note:
        notes = self.groups.setdefault(group, {})
        note = notes.get(name) if name is not None else None
        if note is None or note.key is None:
            self.ids += 1
            self.counters[group] = self.counters.get(group, 0) + 1
            if note is None:
                note = Note(group, name, text, self.ids, self.counters[group], 0, dir_value, None, warnings)
                notes[name if name is not None else ("", self.ids)] = note
            else:  # a list-defined note met its first mark: numbered now
                note.key, note.number = self.ids, self.counters[group]
                self._redefine(note, text, dir_value)
            note.count += 1
            return note
        note.count += 1
        if note.direction and dir_value and note.direction != dir_value:
            note.warnings.append(("cite_error_ref_conflicting_dir", escape_text(name or "")))
        self._redefine(note, text, dir_value)
        note.warnings.extend(warnings)
        return note

    def _redefine(self, note: Note, text: str | None, dir_value: str) -> None:
        if note.text is None and text is not None:
            note.text = text
            note.direction = dir_value  # the full definition's dir wins over a reuse's
        elif text is not None and self._plain(text) != self._plain(note.text or ""):
            note.warnings.append(("cite_error_references_duplicate_key", escape_text(note.name or "")))

    def _plain(self, text: str) -> str:
        """Text with its finished strip markers put back: two markers may hide the same text."""
        return self.strip.unstrip_finished(text)

    def _list_defined(self, problem: tuple[str, ...] | None, group: str, name: str | None,
                      content: str | None) -> str:
        """A ``<ref>`` in a list's body: the text of a note, or an error after the list."""
        list_group = self.in_references or ""
        text = content if content is not None and content.strip() else None
        notes = self.groups.setdefault(list_group, {})
        if problem is not None:
            self.list_errors.append(self.error(*problem))
        elif name is None:
            if text is None:
                self.list_errors.append(self.error("cite_error_references_no_key"))
            else:  # listed unnumbered with the error, as Cite does
                notes[object()] = Note(group, None, text, None, None, 0, "", None, [("cite_error_references_no_key",)])
        elif group != list_group:
            mismatch = ("cite_error_references_group_mismatch", escape_text(group))
            note = notes.get(name)
            if text is not None and note is not None:
                self._define(note, text)
                note.warnings.append(mismatch)
            else:
                self.list_errors.append(self.error(*mismatch))
        elif text is None:
            self.list_errors.append(self.error("cite_error_empty_references_define", escape_text(name),
                                               escape_text(group)))
        else:
            note = notes.get(name)
            if note is None:
                notes[name] = Note(group, name, text, None, None, 0)
            else:
                self._define(note, text)
        return ""

    def _define(self, note: Note, text: str) -> None:
        if note.text is None:
            note.text = text
        elif self._plain(text) != self._plain(note.text):
            note.warnings.append(("cite_error_references_duplicate_key", escape_text(note.name or "")))

    def _mark(self, note: Note) -> str:
        label = self._link_label(note)
        return (f'<sup id="{_ref_id(note, note.count - 1)}" class="reference"><a href="#{_note_id(note)}">'
                f'{_BRACKET_OPEN}{label}{_BRACKET_CLOSE}</a></sup>')

    def _link_label(self, note: Note) -> str:
        """A mark's HTML: the number, after the group's name, or the group's own labels (an error past the last)."""
        number = note.number or 0
        if not note.group:
            return escape_text(_label(number, self.lang))
        key = f"cite_link_label_group-{note.group}"
        custom = self.wiki_message(key)
        if custom is None:
            return escape_text(f"{note.group} {_label(number, self.lang)}")
        labels = custom.split()
        if number <= len(labels):
            return escape_text(labels[number - 1])
        return self.error("cite_error_no_link_label_group", escape_text(note.group), escape_text(key))

    # ---- <references> ----

    def invalid_list_parameter(self, attrs: dict[str, str]) -> str | None:
        """The error shown in place of a ``<references>`` with a parameter Cite does not know."""
        unknown = [key for key in attrs if key not in REFERENCES_PARAMETERS]
        if not unknown:
            return None
        return self.strip.add(self.error("cite_error_references_invalid_parameters", escape_text(unknown[0]),
                                         ", ".join(REFERENCES_PARAMETERS)))

    def start_list(self, group: str) -> str | None:
        """Enter a list's body (its refs define notes); the group we were in before, to give back."""
        outer, self.in_references = self.in_references, group
        return outer

    def end_list(self, outer: str | None) -> None:
        self.in_references = outer

    def references(self, group: str, responsive: str | None = None) -> str:
        """The list of the group's notes so far, with the errors of its body after it.

        A list of more than ten notes is set in columns unless ``responsive="0"``
        (Cite's $wgCiteResponsiveReferences, on as MediaWiki ships it).
        """
        group = html.unescape(group).strip()
        notes = list(self.groups.pop(group, {}).values())
        columns = len(notes) > _COLUMNS_AFTER and (responsive or "").strip() != "0"
        self.counters[group] = 0
        errors, self.list_errors = self.list_errors, []
        out = self.strip.add(lambda: self.render_list(notes, group, columns), block=True, name="references") if notes else ""
        if out:
            self.lists.add(out)
        if notes and self.deferred:
            self._run_deferred(group)
        if errors:
            out += "\n" + self.strip.add("<br />\n".join(errors))
        return out

    def leftovers(self) -> str:
        """The list of plain notes no ``<references/>`` took, for the end of the page.

        As Cite does, only the unnamed group is listed on its own; a named
        group without its list is an error, the errors in one paragraph
        (they come after the page's paragraphs are made, so it is made here).
        """
        out: list[str] = []
        errors: list[str] = []
        if self.deferred and not any(self.groups.values()):
            self._run_deferred("")
        for group in [*self.groups, ""]:  # the default group again: refs run while listing it
            if group not in self.groups:
                continue
            if not self.groups[group]:
                continue
            if group:
                self.groups.pop(group)
                errors.append("<br />" + self.error("cite_error_group_refs_without_references", escape_text(group)))
                continue
            if errors:
                out.append(self.strip.add("<p>" + "".join(errors) + "\n</p>", block=True))
                errors = []
            out.append(self.references(group))
        if errors:
            out.append(self.strip.add("<p>" + "".join(errors) + "\n</p>", block=True))
        return "\n" + "".join(out) if out else ""

    def render_list(self, notes: list[Note], group: str = "", columns: bool = False) -> str:
        # numbered notes in their order; the unnumbered (follows, unused definitions) first, as met
        items = [self._item(note) for note in sorted(notes, key=lambda n: n.number or 0)]
        # a group none of whose notes has a mark (only list-defined ones) is not named, as in Cite
        named = f' data-mw-group="{escape_attr(group)}"' if group and any(n.key for n in notes) else ""
        wrap = "mw-references-wrap mw-references-columns" if columns else "mw-references-wrap"
        return f'<div class="{wrap}"><ol class="references"{named}>\n' + "\n".join(items) + "\n</ol></div>"

    def _item(self, note: Note) -> str:
        text = self._text(note)
        if note.follow is not None:
            return f"<p>{text}\n</p>"
        css = f' class="mw-cite-dir-{note.direction}"' if note.direction in ("ltr", "rtl", "auto") else ""
        if note.key is None or note.count == 0:
            return f'<li{css}><span class="mw-cite-backlink">↑</span> {text}\n</li>'
        if note.count == 1:
            back = f'<a href="#{_ref_id(note, 0)}">↑</a>'
        else:
            back = "↑ " + " ".join(
                f'<sup><a href="#{_ref_id(note, k)}">{self._backlink_label(note, k)}</a></sup>'
                for k in range(note.count))
        return (f'<li id="{_note_id(note)}"{css}><span class="mw-cite-backlink">{back}</span> {text}\n</li>')

    def _text(self, note: Note) -> str:
        warnings = list(note.warnings)
        if note.text is None:
            warnings.insert(0, ("cite_error_references_no_text", escape_text(note.name or "")))
        elif note.key is None and note.name is not None:
            warnings.insert(0, ("cite_error_references_missing_key", escape_text(note.name)))
        text = self.inline(note.text) if note.text is not None else ""
        for warning in warnings:
            text += " " + self.error(*warning)
        auto = ' dir="auto"' if note.direction == "auto" else ""
        return f'<span class="reference-text"{auto}>{text.rstrip(chr(10))}</span>'

    def _backlink_label(self, note: Note, use: int) -> str:
        """Cite's label of a note's ``use``-th mark: the number, a point, the use padded (3.00 ... 3.11).

        A wiki whose ``cite_references_link_many_format`` shows ``$3`` uses
        the letters of ``cite_references_link_many_format_backlink_labels``.
        """
        fmt = self.wiki_message("cite_references_link_many_format")
        if fmt is not None and "$3" in fmt and "$2" not in fmt:
            labels = (self.wiki_message("cite_references_link_many_format_backlink_labels")
                      or messages.message("cite_references_link_many_format_backlink_labels") or "").split()
            if use < len(labels):
                return escape_text(labels[use])
        point = _DECIMAL_COMMA.get(self.lang, ".")
        return _label(note.number or 0, self.lang) + point + _label(use, self.lang, len(str(note.count)))

    def error(self, key: str, *params: str) -> str:
        """A Cite error in place, in the wiki's language when MediaWiki has it there (else English, marked so)."""
        shown = self.lang if _translated(key, self.lang) else "en"
        text = messages.formatted("cite_error", messages.formatted(key, *params, lang=shown), lang=shown)
        return f'<span class="error mw-ext-cite-error" lang="{shown}" dir="{direction(shown)}">{text}</span>'


def _translated(key: str, lang: str) -> bool:
    """Whether MediaWiki words Cite's message ``key`` in ``lang`` itself (not through English)."""
    if lang == "en":
        return False
    own = language_data.language(lang).message(key)
    return own is not None and own != language_data.language("en").message(key)


# Cite wraps a mark's brackets so a skin can hide them (cite_reference_link's markup).
_BRACKET_OPEN = '<span class="cite-bracket">[</span>'
_BRACKET_CLOSE = '<span class="cite-bracket">]</span>'
_COLUMNS_AFTER = 10  # notes in a list before it is set in columns
_DECIMAL_COMMA = {"vi": ",", "uk": ",", "ru": ",", "de": ",", "fr": ",", "es": ","}
def _label(number: int, lang: str, width: int = 0) -> str:
    """The one place a number of Cite's becomes its text (the wiki's digits), zero-padded to ``width``."""
    return local_digits(str(number).zfill(width), lang)


def local_digits(text: str, lang: str) -> str:
    """Digits as the wiki's language writes them (MediaWiki's digit table: ১ on bnwiki, ० on mrwiki)."""
    return language_data.language(lang).local_digits(text)


def _anchor(name: str) -> str:
    # Cite's normalizeKey: an id's blanks as underscores, runs of underscores as one (T184912)
    return re.sub(r"__+", "_", re.sub(r"\s", "_", name))


def _note_id(note: Note) -> str:
    key = f"{_anchor(note.name)}-{note.key}" if note.name is not None else str(note.key)
    return escape_attr(f"cite_note-{key}")


def _ref_id(note: Note, use: int) -> str:
    # a named note's marks are cite_ref-NAME_ID-USE (an underscore, not a hyphen); a plain one's cite_ref-ID
    key = f"{_anchor(note.name)}_{note.key}-{use}" if note.name is not None else str(note.key)
    return escape_attr(f"cite_ref-{key}")

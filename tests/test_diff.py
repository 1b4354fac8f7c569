"""The side-by-side, word-level diff of web/diff.py: rows, marks, escaping, folding, big pages."""

from __future__ import annotations

import html
import random
import re
import time

from hypothesis import given
from hypothesis import strategies as st

from wikipeer.web.diff import DiffRow, diff_stats, side_by_side, tokens, word_marks

DEL = '<del class="diffchange">'
INS = '<ins class="diffchange">'


def changes(rows: list[DiffRow]) -> list[DiffRow]:
    return [r for r in rows if r.kind not in ("context", "fold")]


def deleted(cell: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<del class="diffchange">(.*?)</del>', cell)]


def inserted(cell: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<ins class="diffchange">(.*?)</ins>', cell)]


def plain(cell: str) -> str:
    """The page text a cell shows, markup removed and entities decoded."""
    return html.unescape(re.sub(r"</?(?:del|ins)[^>]*>", "", cell))


def lines(n: int, word: str = "line") -> list[str]:
    return [f"{word} {i}" for i in range(1, n + 1)]


def test_identical_texts_give_no_rows():
    text = "\n".join(lines(50))
    assert side_by_side(text, text) == []
    assert side_by_side("", "") == []
    assert diff_stats(text, text) == (0, 0)


def test_one_changed_word_is_the_only_mark():
    old = "The quick brown fox jumps over the lazy dog."
    new = "The quick red fox jumps over the lazy dog."
    rows = side_by_side(old, new)
    assert rows == [DiffRow("change", 1, 1, f"The quick {DEL}brown</del> fox jumps over the lazy dog.",
                            f"The quick {INS}red</ins> fox jumps over the lazy dog.")]
    assert diff_stats(old, new) == (1, 1)


def test_change_in_the_middle_of_a_page_keeps_context_and_line_numbers():
    old = lines(9)
    new = list(old)
    new[4] = "line five"
    rows = side_by_side("\n".join(old), "\n".join(new), context=2)
    assert [r.kind for r in rows] == ["fold", "context", "context", "change", "context", "context", "fold"]
    change = rows[3]
    assert (change.left_no, change.right_no) == (5, 5)
    assert deleted(change.left) == ["5"] and inserted(change.right) == ["five"]
    assert [(r.left_no, r.right_no) for r in rows if r.kind == "context"] == [(3, 3), (4, 4), (6, 6), (7, 7)]
    assert rows[0].left == rows[0].right == "… 2 unchanged lines …"
    assert (rows[0].left_no, rows[0].right_no) == (1, 1)
    assert (rows[-1].left_no, rows[-1].right_no) == (8, 8)


def test_html_in_page_text_is_escaped():
    old = 'Hello <b>world</b> & "friends"'
    new = 'Hello <script>alert(1)</script> & "friends"'
    rows = side_by_side(old, new)
    assert len(rows) == 1
    row = rows[0]
    assert "<script>" not in row.right and "<b>" not in row.left
    assert "&lt;" in row.right and "&amp;" in row.left and "&quot;friends&quot;" in row.left
    # The only markup left is ours, and it wraps escaped text.
    for cell in (row.left, row.right):
        assert set(re.findall(r"<[^>]*>", cell)) <= {DEL, INS, "</del>", "</ins>"}
    assert plain(row.left) == old and plain(row.right) == new

    (added,) = side_by_side("Hello", "Hello\n<script>alert(1)</script>")[1:]
    assert added == DiffRow("add", None, 2, "", "&lt;script&gt;alert(1)&lt;/script&gt;")


def test_escaped_context_add_and_delete_rows():
    rows = side_by_side("<a>\n<b>", "<a>\n<c>\n<d>")
    assert rows[0] == DiffRow("context", 1, 1, "&lt;a&gt;", "&lt;a&gt;")
    assert rows[1].kind == "change" and plain(rows[1].left) == "<b>" and plain(rows[1].right) == "<c>"
    assert rows[2] == DiffRow("add", None, 3, "", "&lt;d&gt;")


def test_cjk_text_without_spaces_is_marked_per_character():
    old = "東京都は日本の首都です。"
    new = "京都府は日本の古都です。"
    left, right = word_marks(old, new)
    assert deleted(left) == ["東", "首"]
    assert inserted(right) == ["府", "古"]
    assert plain(left) == old and plain(right) == new
    assert tokens("日本語") == ["日", "本", "語"]


def test_words_keep_their_combining_marks():
    # Devanagari vowel signs are combining marks, outside Python's \w.
    assert tokens("नमस्ते दुनिया") == ["नमस्ते", " ", "दुनिया"]
    assert tokens("café déjà") == ["café", " ", "déjà"]
    left, right = word_marks("नमस्ते दुनिया", "नमस्ते संसार")
    assert deleted(left) == ["दुनिया"] and inserted(right) == ["संसार"]


def test_tokens_split_words_spaces_and_other_characters():
    assert tokens("a  bc,d [[x|y]]") == ["a", "  ", "bc", ",", "d", " ", "[", "[", "x", "|", "y", "]", "]"]


def test_lines_added_and_removed_at_start_and_end():
    base = lines(4)
    rows = side_by_side("\n".join(base), "\n".join(["new first", *base, "new last"]))
    assert rows[0] == DiffRow("add", None, 1, "", "new first")
    assert rows[-1] == DiffRow("add", None, 6, "", "new last")
    assert diff_stats("\n".join(base), "\n".join(["new first", *base, "new last"])) == (2, 0)

    rows = side_by_side("\n".join(base), "\n".join(base[1:-1]))
    assert rows[0] == DiffRow("delete", 1, None, "line 1", "")
    assert rows[-1] == DiffRow("delete", 4, None, "line 4", "")
    assert [r.kind for r in rows] == ["delete", "context", "context", "delete"]


def test_from_and_to_an_empty_text():
    assert side_by_side("", "one\ntwo") == [DiffRow("add", None, 1, "", "one"), DiffRow("add", None, 2, "", "two")]
    assert side_by_side("one", "") == [DiffRow("delete", 1, None, "one", "")]


def test_a_final_newline_shows_as_a_change():
    rows = side_by_side("a\nb", "a\nb\n")
    assert changes(rows) == [DiffRow("add", None, 3, "", "")]


def test_replaced_blocks_of_unequal_length_pair_lines_then_add():
    old = "keep\nalpha one\nbeta two\nkeep too"
    new = "keep\nalpha uno\nbeta dos\ngamma tres\nkeep too"
    rows = changes(side_by_side(old, new))
    assert [(r.kind, r.left_no, r.right_no) for r in rows] == [
        ("change", 2, 2), ("change", 3, 3), ("add", None, 4)]
    assert deleted(rows[0].left) == ["one"] and inserted(rows[0].right) == ["uno"]
    assert rows[2].right == "gamma tres"


def test_long_unchanged_runs_fold_between_changes():
    old = lines(40)
    new = list(old)
    new[9] = "changed ten"
    new[29] = "changed thirty"
    rows = side_by_side("\n".join(old), "\n".join(new), context=3)
    kinds = [r.kind for r in rows]
    assert kinds == ["fold", *["context"] * 3, "change", *["context"] * 3, "fold", *["context"] * 3, "change",
                     *["context"] * 3, "fold"]
    folds = [r for r in rows if r.kind == "fold"]
    assert [f.left for f in folds] == ["… 6 unchanged lines …", "… 13 unchanged lines …", "… 7 unchanged lines …"]
    assert [(f.left_no, f.right_no) for f in folds] == [(1, 1), (14, 14), (34, 34)]
    # every line of both texts is accounted for, by a row or a fold
    shown = sum(1 for r in rows if r.left_no is not None and r.kind != "fold")
    hidden = sum(int(re.search(r"\d+", f.left).group()) for f in folds)
    assert shown + hidden == 40


def test_a_fold_never_hides_a_single_line():
    old = lines(7)
    new = list(old)
    new[0] = "first"
    new[6] = "last"
    rows = side_by_side("\n".join(old), "\n".join(new), context=2)
    # five unchanged lines between two changes: 2 + 1 hidden + 2 would fold one line; all are shown instead
    assert [r.kind for r in rows] == ["change", *["context"] * 5, "change"]


def test_context_zero_shows_only_changes_and_folds():
    old = lines(10)
    new = list(old)
    new[5] = "x"
    rows = side_by_side("\n".join(old), "\n".join(new), context=0)
    assert [r.kind for r in rows] == ["fold", "change", "fold"]


def test_line_separators_other_than_lf_stay_inside_a_line():
    old = "one\u2028two\x0cthree"
    new = "one\u2028two\x0cfour"
    rows = side_by_side(old, new)
    assert len(rows) == 1 and rows[0].kind == "change"
    assert deleted(rows[0].left) == ["three"]


def test_two_megabyte_page_with_one_change_is_fast_and_marked():
    paragraph = "Lorem ipsum dolor sit amet, [[consectetur]] adipiscing elit, sed do eiusmod tempor {{n|%d}}."
    old_lines = [paragraph % i if i % 3 else "" for i in range(32_000)]
    old = "\n".join(old_lines)
    assert len(old) > 2_000_000
    new_lines = list(old_lines)
    new_lines[16_000] = new_lines[16_000].replace("tempor", "tempus")
    new = "\n".join(new_lines)
    started = time.monotonic()
    rows = side_by_side(old, new)
    stats = diff_stats(old, new)
    assert time.monotonic() - started < 5
    changed = changes(rows)
    assert len(changed) == 1
    assert (changed[0].left_no, changed[0].right_no) == (16_001, 16_001)
    assert deleted(changed[0].left) == ["tempor"] and inserted(changed[0].right) == ["tempus"]
    assert stats == (1, 1)
    assert len(rows) == 7  # fold, 2 context, the change, 2 context, fold


def test_two_megabyte_page_edited_at_both_ends_and_scattered_is_fast():
    old_lines = [f"Paragraph {i} of a long page about [[topic {i % 97}]]." if i % 2 else "" for i in range(40_000)]
    new_lines = list(old_lines)
    for i in (1, 5_001, 20_001, 39_999):
        new_lines[i] += " Edited."
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    started = time.monotonic()
    rows = side_by_side(old, new)
    assert time.monotonic() - started < 5
    assert [(r.left_no, inserted(r.right)) for r in changes(rows)] == [
        (2, [" Edited."]), (5_002, [" Edited."]), (20_002, [" Edited."]), (40_000, [" Edited."])]


def test_one_huge_line_with_one_changed_word():
    old = " ".join(f"word{i}" for i in range(300_000))
    new = old.replace("word150000", "changed", 1)
    started = time.monotonic()
    (row,) = side_by_side(old, new)
    assert time.monotonic() - started < 5
    assert deleted(row.left) == ["word150000"] and inserted(row.right) == ["changed"]
    assert plain(row.right) == new


def test_huge_line_of_one_token_is_marked_whole():
    old, new = "a" * 200_000, "a" * 100_000 + "b" + "a" * 100_000
    (row,) = side_by_side(old, new)
    assert plain(row.left) == old and plain(row.right) == new
    assert inserted(row.right) and deleted(row.left)


texts = st.lists(st.sampled_from(["alpha beta", "gamma", "", "<x>", "東京", "δ ε", "alpha gamma", "a&b"]),
                 max_size=12).map("\n".join)


@given(texts, texts)
def test_rows_rebuild_both_texts(old, new):
    """Property: with context large enough, the rows show every line of both texts, escaped, in order."""
    rows = side_by_side(old, new, context=10_000)
    if old == new:
        assert rows == []
        return
    assert all(r.kind != "fold" for r in rows)
    left = [plain(r.left) for r in rows if r.left_no is not None]
    right = [plain(r.right) for r in rows if r.right_no is not None]
    assert left == (old.split("\n") if old else [])
    assert right == (new.split("\n") if new else [])
    assert [r.left_no for r in rows if r.left_no is not None] == list(range(1, len(left) + 1))
    assert [r.right_no for r in rows if r.right_no is not None] == list(range(1, len(right) + 1))
    for r in rows:
        assert "<" not in re.sub(r"</?(?:del|ins)[^>]*>", "", r.left + r.right)
    added, removed = diff_stats(old, new)
    assert added == sum(1 for r in rows if r.kind in ("add", "change"))
    assert removed == sum(1 for r in rows if r.kind in ("delete", "change"))


@given(st.text(max_size=40), st.text(max_size=40))
def test_word_marks_keep_the_text(old, new):
    """Property: removing the marks gives back both lines, whatever their characters."""
    old, new = old.replace("\n", " "), new.replace("\n", " ")
    left, right = word_marks(old, new)
    assert plain(left) == old and plain(right) == new
    assert "".join(tokens(old)) == old


def test_a_two_megabyte_rewrite_is_fast_and_keeps_the_text():
    """Every line rewritten: word marks stop at their budget and the rest is marked line by line."""
    words = ["alpha", "beta", "gamma", "delta", "the", "a", "of", "[[link]]"]

    def page(seed: int) -> list[str]:
        rng = random.Random(seed)
        return [" ".join(rng.choice(words) for _ in range(120)) for _ in range(3_300)]

    old_lines, new_lines = page(1), page(2)
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    assert len(old) > 2_000_000
    started = time.monotonic()
    rows = side_by_side(old, new)
    assert time.monotonic() - started < 10
    assert [r.kind for r in rows] == ["change"] * 3_300
    assert [plain(r.left) for r in rows] == old_lines and [plain(r.right) for r in rows] == new_lines
    assert rows[0].left.count(DEL) > 5  # word by word while the budget lasts
    assert rows[-1].left.count(DEL) == 1  # then the changed part as a whole

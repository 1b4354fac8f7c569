"""Plural forms as MediaWiki picks them: CLDR's rules (from the language data) and explicit ``N=`` forms.

``{{PLURAL:5|файл|файла|файлов}}`` on a Russian wiki is ``файлов``: the
language's rules are tried in order (``one``, ``few``, ``many``...), the
first that holds gives the form's index, none gives the last ("other"); a
list shorter than the rules gives its last form (Language::convertPlural).
Rules use CLDR's syntax: operands ``n i v w f t``, ``%``, ``=``/``!=`` with
values and ranges, ``and`` binding tighter than ``or``.
"""

from __future__ import annotations

import re

_RELATION = re.compile(r"\s*([nivwfte])\s*(?:%\s*(\d+))?\s*(!=|=)\s*([\d.,\s]+?)\s*")
_NUMBER = re.compile(r"(\d+)(?:\.(\d+))?")


def number_text(text: str) -> str:
    """The count as MediaWiki hands it to the rules: an integer as is, else PHP's float string (``1.0`` -> ``1``)."""
    text = text.strip().lstrip("-")
    if text.isdigit():
        return str(int(text))
    try:
        value = abs(float(text))
    except ValueError:
        return "0"  # PHP's settype to float of text that is no number
    return str(int(value)) if value.is_integer() else repr(value)


def _operands(text: str) -> dict[str, float] | None:
    m = _NUMBER.fullmatch(text)
    if m is None:
        return None
    fraction = m.group(2) or ""
    trimmed = fraction.rstrip("0")
    return {"n": float(text), "i": int(m.group(1)), "v": len(fraction), "w": len(trimmed),
            "f": int(fraction or 0), "t": int(trimmed or 0), "e": 0}


def _relation(relation: str, operands: dict[str, float]) -> bool:
    m = _RELATION.fullmatch(relation)
    if m is None:
        return False
    value = operands[m.group(1)]
    if m.group(2):
        value = value % int(m.group(2))
    inside = False
    for item in m.group(4).split(","):
        low, _, high = item.strip().partition("..")
        if high:
            inside = value == int(value) and int(low) <= value <= int(high)
        else:
            inside = value == float(low)
        if inside:
            break
    return inside if m.group(3) == "=" else not inside


def matches(condition: str, operands: dict[str, float]) -> bool:
    """Whether a CLDR condition holds for the operands."""
    return any(all(_relation(rel, operands) for rel in alternative.split(" and "))
               for alternative in condition.split(" or "))


def rule_index(rules: list[str], count: str) -> int:
    """0-based index of the first rule that holds for ``count`` (``number_text``), ``len(rules)`` for "other"."""
    operands = _operands(count)
    if operands is None:
        return len(rules)
    for index, condition in enumerate(rules):
        if condition and matches(condition, operands):
            return index
    return len(rules)


def choose(rules: list[str], count_text: str, forms: list[str]) -> str:
    """The form for ``count_text`` among ``forms`` (``N=text`` forms first, as MediaWiki)."""
    count = number_text(count_text)
    plain: list[str] = []
    for form in forms:
        if re.search(r"\d+=", form):  # unanchored, as handleExplicitPluralForms: such a form is never a plain one
            head, _, text = form.partition("=")
            if head == count:
                return text
            continue
        plain.append(form)
    if not plain:
        return ""
    return plain[min(rule_index(rules, count), len(plain) - 1)]


"""A wiki language's names of magic words, mapped to the English names the renderer knows them by.

MediaWiki accepts, besides the English names, the synonyms its language data
gives the wiki's language: ``{{#ԵԹԵ:...}}`` is ``{{#if:...}}`` on an Armenian
wiki, ``__ОБЯЗАТЕЛЬНОЕ_ОГЛАВЛЕНИЕ__`` is ``__FORCETOC__`` on a Russian one.
The tables are made once per language from render/language_data.py (an
English-only wiki, or no data file, has empty tables).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from wikipeer.render import language_data


@dataclass(frozen=True, slots=True)
class LocalNames:
    """One language's synonyms: localized name -> the English name."""

    functions: dict[str, str]  # lower case, without the '#' (the caller looks up both forms)
    variables: dict[str, str]  # as written (MediaWiki's variables are mostly case-sensitive)
    switches: dict[str, str]  # the word between the underscores, upper case -> English
    switch_pattern: re.Pattern | None


@lru_cache(maxsize=64)
def local_names(lang: str) -> LocalNames:
    """The synonyms ``lang`` adds to English's (empty for English)."""
    functions: dict[str, str] = {}
    variables: dict[str, str] = {}
    switches: dict[str, str] = {}
    if lang and lang != "en":
        english = language_data.language("en")
        language = language_data.language(lang)
        for ident in language.magic_ids():
            own = english.magic_words(ident)[1]
            if not own or ident.startswith("img_"):  # file options: render/file_options.py
                continue
            is_function = own[0].endswith(":") or not own[0].isupper()  # core's function names end with a colon (LC:)
            canonical = own[0].rstrip(":")
            for word in language.magic_words(ident)[1]:
                word = word.rstrip(":")
                if word in own or word + ":" in own or "$1" in word:
                    continue
                if canonical.startswith("__") and canonical.endswith("__") and len(word) > 4:
                    switches[word.strip("_").upper()] = canonical.strip("_")
                elif not is_function or canonical in ("!", "="):
                    variables[word] = canonical
                else:
                    functions[word.lower().lstrip("#")] = canonical.lower()
    pattern = (re.compile("__(" + "|".join(sorted(map(re.escape, switches), key=len, reverse=True)) + ")__", re.I)
               if switches else None)
    return LocalNames(functions, variables, switches, pattern)


def english_function(lang: str, head: str) -> str | None:
    """The English name of parser function ``head`` in ``lang`` (``#ԵԹԵ`` -> ``#if``), or None."""
    lowered = head.lower()
    found = local_names(lang).functions.get(lowered.lstrip("#"))
    if found is None:
        return None
    return ("#" + found) if lowered.startswith("#") else found


def english_variable(lang: str, name: str) -> str | None:
    """The English name of variable ``name`` in ``lang``, or None."""
    return local_names(lang).variables.get(name)

"""Scribunto's own tests, run on our Lua engine.

- ``*LibraryTests.lua``: each lists calls of an mw library and their expected
  results (or error messages) for Scribunto's test framework; a small
  framework of our own (below, in Lua) runs them through a real
  ``{{#invoke:}}``, with the pages a file's cases expect (``FIXTURES``:
  CommonTests' data modules, TitleLibraryTests' pages), written here from
  what the cases assert.
- ``UstringLibraryNormalizationTests.lua``: run on Unicode's own
  NormalizationTest.txt (Debian's unicode-data), as Scribunto's provider does.
- ``luaParserTests.txt`` (wikitext cases with their modules) is run with the
  other parser-test files by tests/test_parser_tests.py, through the one
  reader of that format (tests/parser_tests.py).

The number passing may only go up: ``FLOOR`` holds the counts measured when
each was added.
"""

from __future__ import annotations

import bz2
import html
import re
import unicodedata
from pathlib import Path

import pytest

from test_lua import Wiki
from wikipeer.render import Limits

SCRIBUNTO_TESTS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "parsertests" / "scribunto"
# passing cases (of all) when measured; a drop is a regression
FLOOR = {
    "UstringLibraryTests": (186, 186),
    "LibraryUtilTests": (43, 43),
    "TextLibraryTests": (97, 109),
    "HtmlLibraryTests": (60, 61),
    "HashLibraryTests": (6, 6),
    "UriLibraryTests": (271, 280),
    "SiteLibraryTests": (29, 29),
    "MessageLibraryTests": (9, 9),
    "LanguageLibraryTests": (47, 57),  # the rest: CLDR names, durations, kaa's lower-case months, getArrow
    # the rest: setfenv/getfenv and package (not given to modules here), __pairs/__ipairs, the 'strict'
    # library, the string metatable not hidden, the expensive-call limit (the PHP test sets 10)
    "CommonTests": (55, 73),
    # the rest: interwiki titles, page ids, protection, URLs (Scribunto's test server), newBatch, page language
    "TitleLibraryTests": (33, 68),
}

FRAMEWORK = r"""
local tf = {}
-- true, or false and where they differ (the path of keys) and the two values there
local function deep(a, b, path)
    path = path or {}
    local function at(k)
        local p = { unpack(path) }
        p[#p + 1] = k
        return p
    end
    if type(a) ~= type(b) then return false, path, a, b end
    if type(a) ~= 'table' then
        if type(a) == 'number' and a ~= a and b ~= b then return true end
        if a == b then return true end
        return false, path, a, b
    end
    for k, v in pairs(a) do
        local same, p, x, y = deep(v, b[k], at(k))
        if not same then return false, p, x, y end
    end
    for k, v in pairs(b) do if a[k] == nil then return false, at(k), nil, v end end
    return true
end
tf.deepEquals = deep
function tf.getTestProvider(tests) return tests end
return tf
"""

RUNNER = r"""
local p = {}
local function pack(...) return { n = select('#', ...), ... } end

local function results(t)
    if t.type == 'Iterator' then
        local r = {}
        local f, s, var = t.func(unpack(t.args or {}))
        while true do
            local vals = pack(f(s, var))
            if vals[1] == nil then break end
            var = vals[1]
            vals.n = nil
            r[#r + 1] = vals
        end
        return r
    end
    local r = pack(t.func(unpack(t.args or {}, 1, t.args and table.maxn(t.args) or 0)))
    r.n = nil
    if t.type == 'ToString' then
        for k, v in pairs(r) do r[k] = tostring(v) end
    end
    return r
end

function p.run(frame)
    if frame.args[2] then mw.title.testPageId = tonumber(frame.args[2]) end  -- TitleLibraryTests' fixtures are up
    local tests = require('Module:' .. frame.args[1])
    local deep = require('Module:TestFramework').deepEquals
    local out = {}
    for _, t in ipairs(tests) do
        local ok, got = pcall(results, t)
        local pass
        if type(t.expect) == 'string' then
            -- an expected error: its message without the position Lua puts before it
            pass = not ok and string.gsub(tostring(got), '^[^\n]-:%d+: ', '') == t.expect
        else
            pass = ok and deep(got, t.expect)
        end
        out[#out + 1] = (pass and 'PASS ' or 'FAIL ') .. tostring(t.name)
    end
    return mw.text.nowiki(table.concat(out, '\n'))
end
return p
"""


# The pages a file's cases expect (Scribunto's PHP test classes create them; these are ours, written from
# what the cases assert).
COMMON_DATA = """
local data = { ['true'] = true, ['false'] = false, NaN = 0/0, inf = 1/0, num = 12.5, str = 'foo bar',
               table = { 'one', 'two', 'three', foo = 'bar' } }
data.table2 = data.table
data.t = data
return data
"""
FIXTURES = {
    "CommonTests": {
        "Module:CommonTests-data": COMMON_DATA,
        "Module:CommonTests-data-fail1": "return 'not a table'",
        "Module:CommonTests-data-fail2": "return { f = function() end }",
        "Module:CommonTests-data-fail3": "return { setmetatable({}, {}) }",
        "Module:CommonTests-data-fail4": "return { [function() end] = 1 }",
        "Module:CommonTests-data-fail5": "return { [setmetatable({}, {})] = 1 }",
        "Module:CommonTests-data.json": '{"true": true, "false": false, "num": 12.5, "str": "foo bar", '
                                        '"table": ["one", "two", "three"]}',
        "Help:Foo": "help",
    },
    "TitleLibraryTests": {
        "ScribuntoTestPage": "{{int:mainpage}}<includeonly>...</includeonly><noinclude>...</noinclude>",
        "ScribuntoTestRedirect": "#REDIRECT [[ScribuntoTestTarget]]",
        "ScribuntoTestNonRedirect": "Not a redirect.",
    },
}
# TitleLibraryTest.php renders on Main Page, with an interwiki prefix ``interwikiprefix``, and says (through
# mw.title.testPageId) that its fixtures exist; the id is the one it gives ScribuntoTestPage.
TITLE_TEST_PAGE_ID = 1


def run_file(name: str) -> list[str]:
    pages = {"Module:TestFramework": FRAMEWORK, "Module:Runner": RUNNER,
             f"Module:{name}": (SCRIBUNTO_TESTS / f"{name}.lua").read_text(encoding="utf-8"), **FIXTURES.get(name, {})}
    wiki = Wiki(pages, Limits(lua_seconds=60, lua_call_seconds=60))
    call = f"{{{{#invoke:Runner|run|{name}}}}}"
    if name == "TitleLibraryTests":
        wiki.title = "Main Page"
        wiki.config.interwiki = {"interwikiprefix": "http://www.example.com/$1"}
        call = f"{{{{#invoke:Runner|run|{name}|{TITLE_TEST_PAGE_ID}}}}}"
    rendered = wiki.render(call)
    assert not rendered.errors, rendered.errors
    text = html.unescape(re.sub(r"<[^>]+>", "", rendered.html))
    return [line for line in text.splitlines() if line.startswith(("PASS ", "FAIL "))]


@pytest.mark.parametrize("name", list(FLOOR))
def test_scribunto_library_tests_pass_at_least_as_often_as_recorded(name):
    lines = run_file(name)
    passed = sum(line.startswith("PASS ") for line in lines)
    floor, total = FLOOR[name]
    assert len(lines) == total, f"{name}: {len(lines)} cases, {total} recorded"
    failing = [line for line in lines if line.startswith("FAIL ")]
    assert passed >= floor, f"{name}: {passed}/{total} pass, {floor} recorded; failing: {failing}"


# Unicode's own normalization cases (Debian's unicode-data, scripts/system-deps.sh), which Scribunto's
# UstringLibraryNormalizationTestProvider feeds to UstringLibraryNormalizationTests.lua: each line's five
# columns, and what toNFC/toNFD/toNFKC/toNFKD must make of each (Unicode's NormalizationTest.txt header).
NORMALIZATION_TEST = Path("/usr/share/unicode/NormalizationTest.txt.bz2")
EXPECTED_COLUMNS = {"NFC": (2, 2, 2, 4, 4), "NFD": (3, 3, 3, 5, 5), "NFKC": (4, 4, 4, 4, 4), "NFKD": (5, 5, 5, 5, 5)}
PART1_EVERY = 10  # Part 1 (every code point, ~17,000 lines) is sampled to keep the test to seconds

NORMALIZATION_RUNNER = r"""
local p = {}
function p.run(frame)
    local tests = require('Module:UstringLibraryNormalizationTests')
    local cases = require('Module:NormalizationCases')
    local failed = {}
    for n, case in ipairs(cases) do
        local got = { tests.run(case[1], case[2], case[3], case[4], case[5]) }
        for k = 1, 20 do
            if got[k] ~= case.expect[k] then failed[#failed + 1] = n break end
        end
    end
    return #cases .. ' ' .. #failed .. ' ' .. table.concat(failed, ',')
end
return p
"""


def normalization_cases() -> list[list[str]]:
    """The lines of NormalizationTest.txt run here: five strings each."""
    cases, part, index = [], "", 0
    for line in bz2.open(NORMALIZATION_TEST, "rt", encoding="utf-8"):
        line = line.split("#")[0].strip()
        if line.startswith("@"):
            part, index = line, 0
            continue
        if not line:
            continue
        index += 1
        if part == "@Part1" and index % PART1_EVERY:
            continue
        cases.append(["".join(chr(int(c, 16)) for c in column.split()) for column in line.split(";")[:5]])
    return cases


def _lua_string(text: str) -> str:
    return '"' + "".join(f"\\{b}" for b in text.encode("utf-8")) + '"'


def _hex(text: str) -> str:
    return "\t".join([text, *(f"{ord(c):x}" for c in text)])


def test_scribunto_normalization_tests_on_unicodes_own_cases():
    cases = normalization_cases()
    rows = []
    for columns in cases:
        expect = [_hex(columns[k - 1]) for form in ("NFC", "NFD", "NFKC", "NFKD") for k in EXPECTED_COLUMNS[form]]
        rows.append("{" + ",".join(map(_lua_string, columns)) + ",expect={"
                    + ",".join(map(_lua_string, expect)) + "}}")
    pages = {"Module:Runner": NORMALIZATION_RUNNER, "Module:NormalizationCases": "return {" + ",\n".join(rows) + "}",
             "Module:UstringLibraryNormalizationTests":
                 (SCRIBUNTO_TESTS / "UstringLibraryNormalizationTests.lua").read_text(encoding="utf-8")}
    rendered = Wiki(pages, Limits(lua_seconds=120, lua_call_seconds=120, lua_memory=500 * 1024 * 1024)).render(
        "{{#invoke:Runner|run}}")
    assert not rendered.errors, rendered.errors
    total, _, *failed = html.unescape(re.sub(r"<[^>]+>", "", rendered.html)).split()
    assert int(total) == len(cases) > 3000
    # The only lines that may fail hold a character newer than the Unicode of Python's unicodedata (which
    # toNFC and friends use): the data file can be a version ahead (Debian's 15.0 against Python 3.11's 14.0).
    lines = [int(n) for n in ",".join(failed).split(",") if n]
    unknown = [n for n in lines if not any(unicodedata.category(c) == "Cn" for c in "".join(cases[n - 1]))]
    assert not unknown, f"lines failing with characters Python knows: {[cases[n - 1][0] for n in unknown[:10]]}"
    assert len(lines) < 100, f"{len(lines)} of {total} lines fail"

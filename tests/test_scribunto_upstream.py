"""Scribunto's own tests, run on our Lua engine.

- ``*LibraryTests.lua``: each lists calls of an mw library and their expected
  results (or error messages) for Scribunto's test framework; a small
  framework of our own (below, in Lua) runs them through a real
  ``{{#invoke:}}``. Files whose cases need MediaWiki's test fixtures (pages,
  interwiki prefixes, data modules) are not run.
- ``luaParserTests.txt`` (wikitext cases with their modules) is run with the
  other parser-test files by tests/test_parser_tests.py, through the one
  reader of that format (tests/parser_tests.py).

The number passing may only go up: ``FLOOR`` holds the counts measured when
each was added.
"""

from __future__ import annotations

import html
import re
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
}

FRAMEWORK = r"""
local tf = {}
local function deep(a, b)
    if type(a) ~= type(b) then return false end
    if type(a) ~= 'table' then
        if type(a) == 'number' and a ~= a and b ~= b then return true end
        return a == b
    end
    for k, v in pairs(a) do if not deep(v, b[k]) then return false end end
    for k in pairs(b) do if a[k] == nil then return false end end
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


def run_file(name: str) -> list[str]:
    pages = {"Module:TestFramework": FRAMEWORK, "Module:Runner": RUNNER,
             f"Module:{name}": (SCRIBUNTO_TESTS / f"{name}.lua").read_text(encoding="utf-8")}
    rendered = Wiki(pages, Limits(lua_seconds=60, lua_call_seconds=60)).render(f"{{{{#invoke:Runner|run|{name}}}}}")
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

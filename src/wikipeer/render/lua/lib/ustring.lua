-- mw.ustring: strings as code points. ASCII subjects and patterns go to Lua's own
-- string functions (same answers, far faster); the rest to Python (patterns.py).
local P = ...
local call = P.call
local s_find, s_match, s_gsub, s_gmatch = string.find, string.match, string.gsub, string.gmatch
local s_sub, s_len, s_upper, s_lower, s_byte = string.sub, string.len, string.upper, string.lower, string.byte
local ustring = { maxPatternLength = 10000, maxStringLength = 2097152 }

local function str(name, index, s)
    if type(s) == "string" then
        if #s > ustring.maxStringLength then
            error(string.format("bad argument #%d to '%s' (string is longer than %d bytes)", index, name,
                ustring.maxStringLength), 3)
        end
        return s
    end
    if type(s) == "number" then
        return tostring(s)
    end
    error(string.format("bad argument #%d to '%s' (string expected, got %s)", index, name, type(s)), 3)
end

local raw_find = P.raw.find
local last_checked, last_ascii  -- modules ask about one long text again and again (split, gsub loops)

local function ascii(s)
    if s ~= last_checked then
        last_checked, last_ascii = s, not raw_find(s, "[\128-\255]")
    end
    return last_ascii
end

-- Lua's byte matcher gives the code-point answer when the subject is ASCII and no
-- multi-byte character of the pattern carries a quantifier: such a character (in a
-- literal or a set) can never match an ASCII character either way, a negated set
-- matches every ASCII character either way, and positions are the same.
local function byte_safe(s, pattern)
    if not ascii(s) then
        return false
    end
    return not raw_find(pattern, "[\128-\255]") or not raw_find(pattern, "[\128-\255][%*%+%-%?]")
end

function ustring.len(s)
    s = str("len", 1, s)
    if ascii(s) then
        return #s
    end
    return call("u_len", s)
end

function ustring.sub(s, i, j)
    s = str("sub", 1, s)
    if ascii(s) then
        return s_sub(s, i or 1, j or -1)
    end
    return call("u_sub", s, i or 1, j or -1)
end

function ustring.upper(s)
    s = str("upper", 1, s)
    if ascii(s) then
        return s_upper(s)
    end
    return call("u_upper", s)
end

function ustring.lower(s)
    s = str("lower", 1, s)
    if ascii(s) then
        return s_lower(s)
    end
    return call("u_lower", s)
end

function ustring.char(...)
    return call("u_char", { ... })
end

function ustring.codepoint(s, i, j)
    s = str("codepoint", 1, s)
    return unpack(call("u_codepoint", s, i or 1, j or i or 1))
end

local function continuation(s, i)
    local b = s_byte(s, i)
    return b ~= nil and b >= 128 and b < 192
end

function ustring.byteoffset(s, l, i)
    s = str("byteoffset", 1, s)
    l, i = l or 1, i or 1
    local len = #s
    if i < 0 then
        i = len + i + 1
    end
    if i < 1 or i > len then
        return nil
    end
    if l <= 0 then
        while i > 1 and continuation(s, i) do
            i = i - 1
        end
        for _ = 1, -l do
            repeat
                i = i - 1
            until i < 1 or not continuation(s, i)
            if i < 1 then
                return nil
            end
        end
        return i
    end
    while i <= len and continuation(s, i) do
        i = i + 1
    end
    for _ = 2, l do
        repeat
            i = i + 1
        until i > len or not continuation(s, i)
    end
    if i > len then
        return nil
    end
    return i
end

function ustring.byte(s, i, j)
    return s_byte(str("byte", 1, s), i, j)
end

function ustring.rep(s, n)
    return string.rep(str("rep", 1, s), n)
end

function ustring.format(format, ...)
    return string.format(format, ...)
end

function ustring.isutf8(s)
    return call("u_isutf8", str("isutf8", 1, s))
end

function ustring.toNFC(s) return call("u_normalize", str("toNFC", 1, s), "NFC") end
function ustring.toNFD(s) return call("u_normalize", str("toNFD", 1, s), "NFD") end
function ustring.toNFKC(s) return call("u_normalize", str("toNFKC", 1, s), "NFKC") end
function ustring.toNFKD(s) return call("u_normalize", str("toNFKD", 1, s), "NFKD") end

function ustring.gcodepoint(s, i, j)
    local points = call("u_codepoint", str("gcodepoint", 1, s), i or 1, j or -1)
    local k = 0
    return function()
        k = k + 1
        return points[k]
    end
end

local function pat(name, pattern)
    pattern = str(name, 2, pattern)
    if #pattern > ustring.maxPatternLength then
        error(string.format("bad argument #2 to '%s' (pattern is longer than %d bytes)", name,
            ustring.maxPatternLength), 3)
    end
    return pattern
end

function ustring.find(s, pattern, init, plain)
    s = str("find", 1, s)
    pattern = pat("find", pattern)
    if plain and ascii(s) and not raw_find(pattern, "[\128-\255]") or not plain and byte_safe(s, pattern) then
        return s_find(s, pattern, init, plain)
    end
    return call("u_find", s, pattern, init or 1, plain and true or false, false)
end

function ustring.match(s, pattern, init)
    s = str("match", 1, s)
    pattern = pat("match", pattern)
    if byte_safe(s, pattern) then
        return s_match(s, pattern, init)
    end
    return call("u_find", s, pattern, init or 1, false, true)
end

function ustring.gmatch(s, pattern)
    s = str("gmatch", 1, s)
    pattern = pat("gmatch", pattern)
    if byte_safe(s, pattern) then
        return s_gmatch(s, pattern)
    end
    local pos = 1
    return function()
        local r = { call("u_gmatch", s, pattern, pos) }
        if r[1] == nil then
            return nil
        end
        pos = r[1]
        return unpack(r, 2, table.maxn(r))
    end
end

function ustring.gsub(s, pattern, repl, n)
    s = str("gsub", 1, s)
    pattern = pat("gsub", pattern)
    local kind = type(repl)
    if kind == "number" then
        repl = tostring(repl)
        kind = "string"
    end
    if kind ~= "string" and kind ~= "table" and kind ~= "function" then
        error("bad argument #3 to 'gsub' (string/function/table expected)", 2)
    end
    -- Lua's gsub refuses a '%' before a non-digit, which Scribunto keeps as text.
    local lenient = kind == "string" and (raw_find(repl, "%%[^%d%%]") or raw_find(repl, "%%$"))
    if byte_safe(s, pattern) and not lenient then
        return s_gsub(s, pattern, repl, n)
    end
    return call("u_gsub", s, pattern, repl, n)
end

-- mw.text.split's work: pieces of `s` between the matches of `pattern`.
function ustring.split_(s, pattern, plain)
    if plain and ascii(s) or not plain and byte_safe(s, pattern) then
        local out, pos, len = {}, 1, #s
        while true do
            local from, to = s_find(s, pattern, pos, plain)
            if from == nil or pos > len then
                break
            end
            if to < from then  -- an empty separator: split after each character
                from, to = from + 1, from
                if from > len then
                    break
                end
            end
            out[#out + 1] = s_sub(s, pos, from - 1)
            pos = to + 1
        end
        out[#out + 1] = s_sub(s, pos)
        return out
    end
    return call("u_split", s, pattern, plain and true or false)
end

return ustring

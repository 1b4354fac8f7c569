-- The sandbox: runs once per page, with the full Lua library still in reach,
-- keeps what it needs in locals, builds the environment modules see, and
-- then empties the global table of everything dangerous.
-- Returns the api table Python drives (invoke, ...).
local bridge, sources, TIMEOUT = ...

local sethook = debug.sethook
local loadstring = loadstring
local setfenv = setfenv
local rawget, rawset, rawequal = rawget, rawset, rawequal
local type, error, select, tostring, tonumber = type, error, select, tostring, tonumber
local setmetatable, getmetatable = setmetatable, getmetatable
-- pairs and ipairs look past __metatable (mw.loadData's tables hide theirs behind a string).
local raw_getmetatable = debug.getmetatable
local next, unpack = next, unpack
local pcall, xpcall = pcall, xpcall
local co_create, co_wrap = coroutine.create, coroutine.wrap
local string, table, math = string, table, math
local check = bridge.check
local ERR = "\0error"

-- The clock: every 10,000 instructions Python says whether time is up.
local function hook()
    if check() then
        error(TIMEOUT, 0)
    end
end
sethook(hook, "", 10000)

-- Python functions answer (true, results...) or (false, message, keep_position).
local function call(name, ...)
    local fn = bridge[name]
    local r = { fn(...) }
    if r[1] then
        return unpack(r, 2, table.maxn(r))
    end
    if r[3] then
        error(r[2], 0)
    end
    error(r[2], 3)
end

-- coroutine.wrap puts a position before a message: the limits are found inside it.
local string_find = string.find
local function is_fatal(e)
    return type(e) == "string" and (string_find(e, TIMEOUT, 1, true) ~= nil or e == "not enough memory")
end

-- pcall and xpcall may not swallow the time limit or the memory limit.
local function safe_pcall(f, ...)
    local r = { pcall(f, ...) }
    if not r[1] and is_fatal(r[2]) then
        error(r[2], 0)
    end
    return unpack(r, 1, table.maxn(r))
end

local function safe_xpcall(f, handler)
    local r = { xpcall(f, function(e)
        if is_fatal(e) then
            return e
        end
        return handler(e)
    end) }
    if not r[1] and is_fatal(r[2]) then
        error(r[2], 0)
    end
    return unpack(r, 1, table.maxn(r))
end

-- A coroutine is a new thread: hooks are per thread, so each gets the clock.
local function hooked(f)
    if type(f) ~= "function" then
        error("bad argument #1 to 'create' (function expected)", 3)
    end
    return function(...)
        sethook(hook, "", 10000)
        return f(...)
    end
end

local sandbox_coroutine = {
    create = function(f) return co_create(hooked(f)) end,
    wrap = function(f) return co_wrap(hooked(f)) end,
    resume = coroutine.resume, running = coroutine.running,
    status = coroutine.status, yield = coroutine.yield,
}

-- pairs and ipairs honour __pairs and __ipairs, as Scribunto's do (frame.args, mw.loadData).
local function sandbox_pairs(t)
    local mt = raw_getmetatable(t)
    if type(mt) == "table" and mt.__pairs then
        return mt.__pairs(t)
    end
    return next, t, nil
end

local function ipairs_step(t, i)
    i = i + 1
    local v = t[i]
    if v ~= nil then
        return i, v
    end
end

local function sandbox_ipairs(t)
    local mt = raw_getmetatable(t)
    if type(mt) == "table" and mt.__ipairs then
        return mt.__ipairs(t)
    end
    return ipairs_step, t, 0
end

-- string without dump; rep bounded (an empty string repeated 1e15 times never allocates).
local MAX_REP = 50 * 1024 * 1024
local sandbox_string = {}
for k, v in next, string do
    sandbox_string[k] = v
end
sandbox_string.dump = nil
local c_rep = string.rep
sandbox_string.rep = function(s, n)  -- a third argument is ignored, as Lua 5.1 does
    if type(s) ~= "string" and type(s) ~= "number" then
        error("bad argument #1 to 'rep' (string expected, got " .. type(s) .. ")", 2)
    end
    s = tostring(s)
    n = tonumber(n) or error("bad argument #2 to 'rep' (number expected)", 2)
    if n <= 0 or #s == 0 then
        return ""
    end
    if #s * n > MAX_REP then
        error("not enough memory", 0)
    end
    return c_rep(s, n)
end
-- Lua's C matcher cannot be interrupted: long subjects with costly patterns go to ours.
local c_find, c_match, c_gmatch, c_gsub = string.find, string.match, string.gmatch, string.gsub
local c_byte, c_sub = string.byte, string.sub

-- How many items of a pattern repeat (*, +, - or ?): backtracking over a
-- subject of n bytes costs up to n^(that + 1) steps for find.
local function quantifiers(pattern)
    local count, i, n = 0, 1, #pattern
    while i <= n do
        local c = c_byte(pattern, i)
        if c == 37 then          -- %x: one item
            i = i + 2
        elseif c == 91 then      -- [set]: one item; its first ']' and '%]' are members
            i = i + 1
            if c_byte(pattern, i) == 94 then i = i + 1 end
            i = i + 1
            while i <= n and c_byte(pattern, i) ~= 93 do
                if c_byte(pattern, i) == 37 then i = i + 1 end
                i = i + 1
            end
            i = i + 1
        else
            i = i + 1
        end
        local q = c_byte(pattern, i)
        if q == 42 or q == 43 or q == 45 or q == 63 then
            count = count + 1
            i = i + 1
        end
    end
    return count
end

local function costly(s, pattern)
    s = tostring(s)
    local n = #s
    if n < 2000 then
        return false
    end
    local cost = n
    for _ = 1, quantifiers(tostring(pattern)) do
        cost = cost * n
        if cost > 1e8 then
            return true
        end
    end
    return false
end

sandbox_string.find = function(s, pattern, init, plain)
    if plain or not costly(s, pattern) then
        return c_find(s, pattern, init, plain)
    end
    return call("byte_find", tostring(s), tostring(pattern), init, false)
end
sandbox_string.match = function(s, pattern, init)
    if not costly(s, pattern) then
        return c_match(s, pattern, init)
    end
    return call("byte_find", tostring(s), tostring(pattern), init, true)
end
sandbox_string.gmatch = function(s, pattern)
    if not costly(s, pattern) then
        return c_gmatch(s, pattern)
    end
    s, pattern = tostring(s), tostring(pattern)
    local pos = 1
    return function()
        local r = { call("byte_gmatch", s, pattern, pos) }
        if r[1] == nil then
            return nil
        end
        pos = r[1]
        return unpack(r, 2, table.maxn(r))
    end
end
sandbox_string.gsub = function(s, pattern, repl, n)
    if not costly(s, pattern) then
        return c_gsub(s, pattern, repl, n)
    end
    return call("byte_gsub", tostring(s), tostring(pattern), repl, n)
end

local string_mt = getmetatable("")
string_mt.__index = sandbox_string
-- getmetatable("") gives a look-alike, never the real metatable (which must not be changed).
string_mt.__metatable = { __index = sandbox_string }

local function copy(t)
    local out = {}
    for k, v in next, t do
        out[k] = v
    end
    return out
end

local os_date = os.date
local sandbox_os = {
    time = os.time, clock = os.clock, difftime = os.difftime,
    date = function(format, time)
        if format ~= nil and type(format) ~= "string" then
            error("bad argument #1 to 'date' (string expected)", 2)
        end
        return os_date(format, time)
    end,
}

-- unpack with a count past the C stack (unpack({}, 0, 2^31 - 1)) crashed the whole process in lupa's Lua 5.1
-- (its count overflows an int): refused first, with Lua's own message, as Scribunto's wrapper does.
-- Not a tail call, so a bad table argument is reported against 'old_unpack' as there.
local old_unpack = unpack
local function values(...) return ... end
local function safe_unpack(t, i, j)
    local first, last = tonumber(i), tonumber(j)
    if type(t) == "table" and (i == nil or first) and (j == nil or last) then
        first, last = first or 1, last or #t
        if last - first >= 7999 then
            error("too many results to unpack", 2)
        end
    end
    return values(old_unpack(t, i, j))
end

-- What every module sees (each module gets its own copy).
local base = {
    assert = assert, error = error, getmetatable = getmetatable, ipairs = sandbox_ipairs,
    next = next, pairs = sandbox_pairs, pcall = safe_pcall, rawequal = rawequal, rawget = rawget,
    rawset = rawset, select = select, setmetatable = setmetatable, tonumber = tonumber,
    tostring = tostring, type = type, unpack = safe_unpack, xpcall = safe_xpcall, _VERSION = _VERSION,
    string = sandbox_string, table = copy(table), math = copy(math), os = sandbox_os,
    coroutine = sandbox_coroutine,
}
base.table.getn = nil
base.table.setn = nil
base.math.randomseed = nil  -- seeding the shared generator would make pages depend on each other

local libs = {}  -- what library files return, by name
local privileged = {
    -- Lua's own matcher, for our libraries' fixed patterns (never a module's pattern)
    raw = { find = c_find, match = c_match, gmatch = c_gmatch, gsub = c_gsub },
    call = call, base = base, libs = libs, copy = copy, TIMEOUT = TIMEOUT,
    loadstring = loadstring, setfenv = setfenv, is_fatal = is_fatal, dump = string.dump,
}

-- Library files are ours: they run with the sandbox's functions plus `privileged`.
local function load_lib(name)
    local chunk, message = loadstring(sources[name], "=" .. name .. ".lua")
    if not chunk then
        error(message, 0)
    end
    local env = copy(base)
    env._G = env
    setfenv(chunk, env)
    libs[name] = chunk(privileged)
    return libs[name]
end
privileged.load_lib = load_lib

-- Empty the real global table: nothing later can reach io, os, debug, package, python, load*.
local G = _G
for k in next, G do
    G[k] = nil
end

local api = load_lib("mw")
return api

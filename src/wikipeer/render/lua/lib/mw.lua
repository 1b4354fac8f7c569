-- The mw table, frames, module loading (require, mw.loadData) and the api
-- Python drives. Loaded once per page by sandbox.lua.
local P = ...
local call, base, copy, loadstring, setfenv = P.call, P.base, P.copy, P.loadstring, P.setfenv

local mw = {}
P.mw = mw
local api = {}

local current_frames = {}   -- the stack of frames of running #invoke calls
local compiled = {}         -- module title -> chunk, compiled once per page
local data_cache = {}       -- mw.loadData results, once per page
local loaded = {}           -- require's results for the running #invoke (fresh per #invoke, as Scribunto)
local loading = {}
local logs = {}

-- Modules -----------------------------------------------------------------

local builtins = {}  -- libraries `require` finds by name (libraryUtil, bit32...)

local function module_env()
    local env = copy(base)
    env._G = env
    env.mw = mw
    env.require = mw.require_
    for name, value in pairs(builtins) do
        if name == "bit32" then env.bit32 = value end
    end
    return env
end

-- A module is compiled once per page and kept as bytecode (ours, never a
-- module's): each run loads a fresh closure, so two runs of one module (a
-- nested #invoke) never share an environment.
local function compile(name)
    local title, source = call("module_source", name, false)
    if title == nil then
        return nil
    end
    local code = compiled[title]
    if code == nil and source == nil then
        title, source = call("module_source", name, true)  -- sent before but never compiled
    end
    if code == nil then
        if source:byte(1) == 27 then
            error(title .. " holds Lua bytecode, which is not allowed", 0)
        end
        local chunk, message = loadstring(source, "=" .. title)
        if not chunk then
            error(message, 0)
        end
        code = P.dump(chunk)
        compiled[title] = code
    end
    return title, code
end

local current_env  -- the globals of the running #invoke, shared with what it requires (as Scribunto)

local function run_module(title, code, env)
    local chunk = loadstring(code, "=" .. title)
    setfenv(chunk, env or current_env or module_env())
    return chunk()
end

function mw.require_(name)
    if type(name) ~= "string" then
        error("bad argument #1 to 'require' (string expected, got " .. type(name) .. ")", 2)
    end
    if builtins[name] ~= nil then
        return builtins[name]
    end
    local title, chunk = compile(name)
    if title == nil then
        error("module '" .. name .. "' not found", 2)
    end
    local value = loaded[title]
    if value ~= nil then
        if value == loading then
            error("loop or previous error loading module '" .. name .. "'", 2)
        end
        return value
    end
    loaded[title] = loading
    local ok, result = pcall(run_module, title, chunk)
    if not ok then
        loaded[title] = nil
        error(result, 0)
    end
    if result == nil then
        result = true
    end
    loaded[title] = result
    return result
end

-- mw.loadData: a read-only view of a data module, loaded once per page.
-- Each call gets its own view (as Scribunto's), so a rawset on one does not reach another.
local function readonly(t, which, seen)
    local proxies = seen or {}
    local function wrap(v)
        if type(v) ~= "table" then
            return v
        end
        local p = proxies[v]
        if p == nil then
            p = readonly(v, which, proxies)
        end
        return p
    end
    local proxy = {}
    proxies[t] = proxy
    setmetatable(proxy, {
        __index = function(_, k) return wrap(t[k]) end,
        __newindex = function() error("table from " .. which .. " is read-only", 2) end,
        __pairs = function()
            local k
            return function()
                local v
                k, v = next(t, k)
                if k ~= nil then
                    return k, wrap(v)
                end
            end
        end,
        __ipairs = function()
            local i = 0
            return function()
                i = i + 1
                local v = t[i]
                if v ~= nil then
                    return i, wrap(v)
                end
            end
        end,
        __metatable = "mw.loadData",
    })
    return proxy
end

local function check_data(value, seen)
    local kind = type(value)
    if kind == "table" then
        if seen[value] then
            return
        end
        seen[value] = true
        if getmetatable(value) ~= nil then
            error("data for mw.loadData contains a table with a metatable", 0)
        end
        for k, v in next, value do
            if type(k) == "table" then
                error("data for mw.loadData contains a table as a key", 0)
            end
            check_data(k, seen)
            check_data(v, seen)
        end
    elseif kind ~= "string" and kind ~= "number" and kind ~= "boolean" and kind ~= "nil" then
        error("data for mw.loadData contains unsupported data type '" .. kind .. "'", 0)
    end
end

function mw.loadData(name)
    if type(name) ~= "string" then
        error("bad argument #1 to 'mw.loadData' (string expected)", 2)
    end
    local title, chunk = compile(name)
    if title == nil then
        error("module '" .. name .. "' not found", 2)
    end
    local cached = data_cache[title]
    if cached == loading then
        error("loop or previous error loading module '" .. name .. "'", 2)
    end
    if cached == nil then
        data_cache[title] = loading
        local ok, value = pcall(run_module, title, chunk, module_env())
        if not ok then
            data_cache[title] = nil
            error(value, 0)
        end
        if type(value) ~= "table" then
            data_cache[title] = nil
            error(title .. " returned " .. type(value) .. ", table expected", 0)
        end
        check_data(value, {})
        cached = value
        data_cache[title] = cached
    end
    return readonly(cached, "mw.loadData")
end

function mw.loadJsonData(name)
    if type(name) ~= "string" then
        error("bad argument #1 to 'mw.loadJsonData' (string expected, got " .. type(name) .. ")", 2)
    end
    local key = "json:" .. name
    local cached = data_cache[key]
    if cached == nil then
        local text = call("json_page", name)
        cached = mw.text.jsonDecode(text)
        data_cache[key] = cached
    end
    return readonly(cached, "mw.loadJsonData")
end

-- Frames --------------------------------------------------------------------

local frames = {}  -- id -> frame object

local function arg_key(k)
    if type(k) == "number" then
        if k == math.floor(k) then
            return tostring(k)
        end
        return nil
    end
    if type(k) ~= "string" then
        return nil
    end
    return k
end

local function make_args(id)
    local cache = {}
    local args = {}
    local function get(k)
        local key = arg_key(k)
        if key == nil then
            return nil
        end
        local v = cache[key]
        if v == nil then
            v = call("frame_arg", id, key)
            if v == nil then
                v = false
            end
            cache[key] = v
        end
        return v or nil
    end
    setmetatable(args, {
        __index = function(_, k) return get(k) end,
        __newindex = function() error("frame.args is read-only", 2) end,
        __pairs = function()
            local names = call("frame_arg_names", id)
            local i = 0
            return function()
                while true do
                    i = i + 1
                    local name = names[i]
                    if name == nil then
                        return nil
                    end
                    local v = get(name)
                    if v ~= nil then
                        local n = tonumber(name)
                        if n ~= nil and tostring(n) == name and n == math.floor(n) then
                            return n, v
                        end
                        return name, v
                    end
                end
            end
        end,
        __ipairs = function()
            local i = 0
            return function()
                i = i + 1
                local v = get(i)
                if v ~= nil then
                    return i, v
                end
            end
        end,
    })
    return args
end

local make_frame

local function named_args(args)
    -- Argument tables handed to Python: keys and values as strings.
    local out = {}
    if args == nil then
        return out
    end
    if type(args) ~= "table" then
        error("bad argument: args must be a table", 3)
    end
    for k, v in pairs(args) do
        local kt, vt = type(k), type(v)
        if (kt ~= "string" and kt ~= "number") or (vt ~= "string" and vt ~= "number" and vt ~= "boolean") then
            error("bad argument: args must be a table of strings and numbers (got " .. kt .. " = " .. vt .. ")", 3)
        end
        out[#out + 1] = tostring(k)
        out[#out + 1] = tostring(v)
    end
    return out
end

make_frame = function(id, parent_id)
    if frames[id] then
        return frames[id]
    end
    local frame = { args = make_args(id) }
    frames[id] = frame
    function frame:getParent()
        if parent_id == nil then
            return nil
        end
        return make_frame(parent_id, nil)
    end
    function frame:getTitle()
        return call("frame_title", id)
    end
    function frame:getArgument(opt)
        local name = type(opt) == "table" and opt.name or opt
        return { expand = function() return frame.args[name] end }
    end
    function frame:argumentPairs()
        return pairs(frame.args)
    end
    function frame:preprocess(opt)
        local text = type(opt) == "table" and opt.text or opt
        if type(text) == "number" then
            text = tostring(text)
        end
        if type(text) ~= "string" then
            error("bad argument #1 to 'preprocess' (string expected)", 2)
        end
        return call("preprocess", id, text)
    end
    function frame:expandTemplate(opt)
        if type(opt) ~= "table" then
            error("frame:expandTemplate: the first parameter must be a table", 2)
        end
        local title = opt.title
        if type(title) ~= "string" then
            if type(title) == "table" and title.prefixedText then
                title = title.prefixedText
            else
                error("frame:expandTemplate: a title is required", 2)
            end
        end
        return call("expand_template", id, title, named_args(opt.args))
    end
    function frame:callParserFunction(name, ...)
        local args
        if type(name) == "table" then
            args = name.args
            name = name.name
        elseif select("#", ...) == 1 and type((...)) == "table" then
            args = ...
        else
            args = { ... }
        end
        if type(name) ~= "string" then
            error("frame:callParserFunction: a function name is required", 2)
        end
        if type(args) ~= "table" then
            args = { args }
        end
        return call("parser_function", id, name, named_args(args))
    end
    function frame:extensionTag(name, content, args)
        if type(name) == "table" then
            content, args, name = name.content, name.args, name.name
        end
        if type(name) ~= "string" then
            error("frame:extensionTag: a tag name is required", 2)
        end
        local params = { name, content or "" }
        if type(args) == "table" then
            for k, v in pairs(args) do
                if type(k) == "number" then
                    params[#params + 1] = tostring(v)
                else
                    params[tostring(k)] = tostring(v)
                end
            end
        elseif type(args) == "string" then
            params[#params + 1] = args
        end
        return frame:callParserFunction("#tag", params)
    end
    function frame:newChild(opt)
        opt = opt or {}
        local title = opt.title
        if type(title) == "table" and title.prefixedText then
            title = title.prefixedText
        end
        local child = call("new_child", id, title and tostring(title) or nil, named_args(opt.args))
        return make_frame(child, id)
    end
    function frame:newTemplateParserValue(opt)
        if type(opt) ~= "table" then
            error("frame:newTemplateParserValue: the first parameter must be a table", 2)
        end
        return { expand = function() return frame:expandTemplate(opt) end }
    end
    function frame:newParserValue(opt)
        local text = type(opt) == "table" and opt.text or opt
        return { expand = function() return frame:preprocess(text) end }
    end
    return frame
end

function mw.getCurrentFrame()
    local frame = current_frames[#current_frames]
    if frame == nil then
        return make_frame(call("page_frame"), nil)
    end
    return frame
end

-- Small pieces of mw --------------------------------------------------------

local function clone(value, seen)
    if type(value) ~= "table" then
        return value
    end
    if seen[value] then
        return seen[value]
    end
    local out = {}
    seen[value] = out
    for k, v in next, value do
        out[clone(k, seen)] = clone(v, seen)
    end
    local mt = getmetatable(value)
    if type(mt) == "table" then
        setmetatable(out, clone(mt, seen))
    end
    return out
end

function mw.clone(value)
    return clone(value, {})
end

function mw.isSubsting()
    return false
end

function mw.incrementExpensiveFunctionCount()
    call("expensive")
end

function mw.addWarning(text)
    if type(text) ~= "string" then
        error("bad argument #1 to 'addWarning' (string expected)", 2)
    end
    logs[#logs + 1] = "warning: " .. tostring(text)
end

local function dump(value, indent, seen)
    if type(value) == "string" then
        return string.format("%q", value)
    end
    if type(value) ~= "table" then
        return tostring(value)
    end
    if seen[value] then
        return "{ (cycle) }"
    end
    seen[value] = true
    local keys = {}
    for k in next, value do
        keys[#keys + 1] = k
    end
    table.sort(keys, function(a, b)
        if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then
            return a < b
        end
        return type(a) < type(b)
    end)
    local lines = { "{" }
    for _, k in ipairs(keys) do
        local key = type(k) == "string" and string.format("%q", k) or tostring(k)
        lines[#lines + 1] = indent .. "  [" .. key .. "] = " .. dump(value[k], indent .. "  ", seen) .. ","
    end
    lines[#lines + 1] = indent .. "}"
    return table.concat(lines, "\n")
end

function mw.dumpObject(value)
    return dump(value, "", {})
end

function mw.log(...)
    local parts = {}
    for i = 1, select("#", ...) do
        parts[i] = tostring((select(i, ...)))
    end
    if #logs < 1000 then
        logs[#logs + 1] = table.concat(parts, "\t")
    end
end

function mw.logObject(value, prefix)
    mw.log((prefix and (tostring(prefix) .. " = ") or "") .. mw.dumpObject(value))
end

function mw.allToString(...)
    local parts = {}
    for i = 1, select("#", ...) do
        local v = select(i, ...)
        parts[i] = v == nil and "nil" or tostring(v)
    end
    return table.concat(parts)
end

-- The other libraries -------------------------------------------------------

builtins.libraryUtil = P.load_lib("libraryUtil")
builtins.bit32 = P.load_lib("bit32")
-- Scribunto's older `bit` library (LuaBit) under its names, on top of bit32.
builtins.bit = {
    band = builtins.bit32.band, bor = builtins.bit32.bor, bxor = builtins.bit32.bxor,
    bnot = builtins.bit32.bnot, blshift = builtins.bit32.lshift, brshift = builtins.bit32.arshift,
    blogic_rshift = builtins.bit32.rshift,
}
mw.text = P.load_lib("text")
mw.ustring = P.load_lib("ustring")
mw.html = P.load_lib("html")
mw.uri = P.load_lib("uri")
mw.title = P.load_lib("title")
mw.language = P.load_lib("language")
mw.message = P.load_lib("message")
mw.site = P.load_lib("site")
mw.hash = P.load_lib("hash")
mw.getContentLanguage = mw.language.getContentLanguage
mw.getLanguage = mw.language.new
builtins.ustring = mw.ustring
builtins.strict = true
base.bit32 = nil  -- Scribunto offers bit32 through require only

-- What Python calls -------------------------------------------------------------

-- Run function `fname` of module `title` with frame `id` (whose parent is
-- `parent_id`). Returns "ok", text; or a reason and a detail.
function api.invoke(name, fname, id, parent_id)
    local title, chunk = compile(name)
    if title == nil then
        return "nomodule", name
    end
    local saved_loaded, saved_env = loaded, current_env
    loaded, current_env = {}, module_env()
    local frame = make_frame(id, parent_id)
    current_frames[#current_frames + 1] = frame
    local ok, result = pcall(function()
        local exports = run_module(title, chunk)
        if type(exports) ~= "table" then
            return { "notable", type(exports) }
        end
        local fn = exports[fname]
        if type(fn) ~= "function" then
            return { "nofunction", fname }
        end
        local values = { n = 0 }
        local function keep(...)
            values.n = select("#", ...)
            for i = 1, values.n do
                values[i] = (select(i, ...))
            end
        end
        keep(fn(frame))
        local parts = {}
        for i = 1, values.n do
            local v = values[i]
            local kind = type(v)
            if kind == "string" or kind == "number" or kind == "boolean" then
                parts[#parts + 1] = tostring(v)
            elseif v ~= nil then
                -- a table (or function...) without __tostring shows as its type, not its address
                local mt = getmetatable(v)
                parts[#parts + 1] = (type(mt) == "table" and mt.__tostring) and tostring(v) or kind
            end
        end
        return { "ok", table.concat(parts) }
    end)
    current_frames[#current_frames] = nil
    loaded, current_env = saved_loaded, saved_env
    if not ok then
        error(result, 0)
    end
    return result[1], result[2]
end

function api.logs()
    return logs
end

return api

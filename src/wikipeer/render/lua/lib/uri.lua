-- mw.uri: encoding and the node's URLs for pages.
local P = ...
local call = P.call
local uri = {}
local Uri = {}
Uri.__index = Uri

function uri.encode(s, enctype)
    return call("uri_encode", tostring(s), enctype or "QUERY")
end

function uri.decode(s, enctype)
    return call("uri_decode", tostring(s), enctype or "QUERY")
end

function uri.anchorEncode(s)
    return call("anchor_encode", tostring(s))
end

function uri.buildQueryString(query)
    local keys = {}
    for k in pairs(query) do
        keys[#keys + 1] = tostring(k)
    end
    table.sort(keys)
    local out = {}
    for _, k in ipairs(keys) do
        local v = query[k]
        if v == false then
            -- left out
        elseif v == true then
            out[#out + 1] = uri.encode(k)
        elseif type(v) == "table" then
            for _, item in ipairs(v) do
                out[#out + 1] = uri.encode(k) .. "=" .. uri.encode(tostring(item))
            end
        else
            out[#out + 1] = uri.encode(k) .. "=" .. uri.encode(tostring(v))
        end
    end
    return table.concat(out, "&")
end

function uri.parseQueryString(s)
    local out = {}
    for pair in string.gmatch(s or "", "[^&]+") do
        local k, v = string.match(pair, "^([^=]*)=(.*)$")
        if k == nil then
            k, v = pair, false
        else
            v = uri.decode(v)
        end
        k = uri.decode(k)
        if out[k] == nil then
            out[k] = v
        elseif type(out[k]) == "table" then
            table.insert(out[k], v)
        else
            out[k] = { out[k], v }
        end
    end
    return out
end

local function make(path, query, host)
    local u = setmetatable({ path = path, host = host, protocol = "" }, Uri)
    u.query = query or {}
    return u
end

function Uri:__tostring()
    local q = type(self.query) == "table" and uri.buildQueryString(self.query) or tostring(self.query or "")
    local prefix = self.host and ("//" .. self.host) or ""
    return prefix .. self.path .. (q ~= "" and ("?" .. q) or "") .. (self.fragment and ("#" .. self.fragment) or "")
end

function Uri:extend(query)
    for k, v in pairs(query or {}) do
        self.query[k] = v
    end
    return self
end

local function query_of(query)
    if type(query) == "string" then
        return uri.parseQueryString(query)
    end
    return query or {}
end

local function page_url(page, query, full)
    if type(page) == "table" and page.prefixedText then
        page = page.fullText
    end
    local path = call("page_url", tostring(page))
    if path == nil then
        return nil
    end
    return make(path, query_of(query), full and call("site_host") or nil)
end

function uri.localUrl(page, query) return page_url(page, query, false) end
function uri.fullUrl(page, query) return page_url(page, query, true) end
function uri.canonicalUrl(page, query) return page_url(page, query, true) end

function uri.new(s)
    s = tostring(s or "")
    local host, rest = string.match(s, "^[%w+.-]*:?//([^/?#]*)(.*)$")
    if host == nil then
        rest = s
    end
    local path, q = string.match(rest, "^([^?#]*)%??([^#]*)")
    local u = make(path or "", uri.parseQueryString(q), host)
    u.fragment = string.match(rest, "#(.*)$")
    return u
end

function uri.validate()
    return true
end

return uri

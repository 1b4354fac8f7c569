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

local function same(a, b)
    if type(a) ~= type(b) then
        return false
    end
    if type(a) ~= "table" then
        return a == b
    end
    for k, v in pairs(a) do
        if not same(v, b[k]) then
            return false
        end
    end
    for k in pairs(b) do
        if a[k] == nil then
            return false
        end
    end
    return true
end

local originals = setmetatable({}, { __mode = "k" })  -- uri -> its query string as read

-- The derived fields (userInfo, hostPort, authority, queryString, relativePath) are
-- plain fields, computed again whenever the URI is written out.
local function derive(u)
    u.userInfo = (u.user or u.password) and ((u.user or "") .. (u.password and (":" .. u.password) or "")) or nil
    u.hostPort = (u.host or u.port) and ((u.host or "") .. (u.port and (":" .. u.port) or "")) or nil
    if u.userInfo then
        u.authority = u.userInfo .. "@" .. (u.hostPort or "")
    else
        u.authority = u.hostPort
    end
    if u.query == nil then
        u.queryString = nil
    elseif originals[u] ~= nil and same(uri.parseQueryString(originals[u]), u.query) then
        u.queryString = originals[u]  -- unchanged: written as it was read, in its order
    else
        u.queryString = uri.buildQueryString(u.query)
    end
    u.relativePath = (u.path or "") .. (u.queryString and ("?" .. u.queryString) or "")
        .. (u.fragment and ("#" .. u.fragment) or "")
end

local function make(path, query, host)
    local u = setmetatable({ path = path, host = host }, Uri)
    u.query = query
    derive(u)
    return u
end

function Uri:__tostring()
    derive(self)
    local out = {}
    if self.protocol then
        out[#out + 1] = self.protocol .. ":"
    end
    if self.authority then
        out[#out + 1] = "//" .. self.authority
    end
    out[#out + 1] = self.relativePath
    return table.concat(out)
end

function Uri:parse(s)
    local rest = tostring(s or "")
    local protocol = string.match(rest, "^([%a][%w+.-]*):")
    if protocol then
        rest = string.sub(rest, #protocol + 2)
    end
    self.protocol = protocol
    local fragment = string.match(rest, "#(.*)$")
    if fragment then
        rest = string.sub(rest, 1, #rest - #fragment - 1)
    end
    self.fragment = fragment
    local query = string.match(rest, "%?(.*)$")
    if query then
        rest = string.sub(rest, 1, #rest - #query - 1)
    end
    originals[self] = query
    self.query = query and uri.parseQueryString(query) or nil
    self.user, self.password, self.host, self.port = nil, nil, nil, nil
    local authority, path = string.match(rest, "^//([^/]*)(.*)$")
    if authority then
        local userinfo, hostport = string.match(authority, "^(.*)@(.*)$")
        if userinfo then
            local user, password = string.match(userinfo, "^([^:]*):(.*)$")
            if user then
                self.user = user ~= "" and user or nil
                self.password = password
            else
                self.user = userinfo
            end
        else
            hostport = authority
        end
        local host, port = string.match(hostport, "^(%[.*%]):(%d*)$")
        if not host then
            host, port = string.match(hostport, "^([^:]*):(%d*)$")
        end
        host = host or hostport
        self.host = host ~= "" and host or nil
        self.port = port and tonumber(port) or nil
        rest = path
    end
    self.path = rest
    derive(self)
    return self
end

function Uri:clone()
    local copy = setmetatable({}, Uri)
    for k, v in pairs(self) do
        copy[k] = type(v) == "table" and P.mw.clone(v) or v
    end
    return copy
end

function Uri:extend(query)
    self.query = self.query or {}
    for k, v in pairs(query or {}) do
        self.query[k] = v
    end
    derive(self)
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
    local q = query_of(query)
    return make(path, next(q) ~= nil and q or nil, full and call("site_host") or nil)
end

function uri.localUrl(page, query) return page_url(page, query, false) end
function uri.fullUrl(page, query) return page_url(page, query, true) end
function uri.canonicalUrl(page, query)
    local u = page_url(page, query, true)
    if u then
        u.protocol = "https"
    end
    return u
end

function uri.new(s)
    if type(s) == "table" and getmetatable(s) == Uri then
        return s:clone()
    end
    return setmetatable({}, Uri):parse(s)
end

function uri.validate()
    return true
end

return uri

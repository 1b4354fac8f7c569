-- mw.site: the wiki's name, server and namespaces (statistics are not kept: zeros).
local P = ...
local call = P.call
local info = call("site_info")
local site = {
    wikiId = info.wikiId, siteName = info.siteName, server = info.server, scriptPath = info.scriptPath,
    stylePath = info.stylePath, currentVersion = info.currentVersion,
}

local namespaces = {}
local by_name = {}
local list = info.namespaces
for i = 1, #list do
    local ns = list[i]
    ns.aliases = ns.aliases or {}
    namespaces[ns.id] = ns
end
local function fold(name)
    local s = string.gsub(tostring(name), "[_%s]+", " ")
    s = string.match(s, "^ ?(.-) ?$")
    return string.lower(s)
end
for id, ns in pairs(namespaces) do
    ns.subject = namespaces[ns.isTalk and id - 1 or id]
    ns.talk = id >= 0 and namespaces[ns.isTalk and id or id + 1] or nil
    ns.associated = ns.isTalk and ns.subject or ns.talk
    by_name[fold(ns.name)] = ns
    by_name[fold(ns.canonicalName)] = ns
    for _, alias in ipairs(ns.aliases) do
        by_name[fold(alias)] = ns
    end
end
setmetatable(namespaces, {
    __index = function(_, key)
        if type(key) == "string" then
            return by_name[fold(key)]
        end
    end,
})
site.namespaces = namespaces

local function filtered(test)
    local out = {}
    for id, ns in pairs(namespaces) do
        if test(ns) then
            out[id] = ns
        end
    end
    return out
end
site.contentNamespaces = filtered(function(ns) return ns.isContent end)
site.subjectNamespaces = filtered(function(ns) return ns.isSubject end)
site.talkNamespaces = filtered(function(ns) return ns.isTalk end)

site.stats = {
    pages = 0, articles = 0, files = 0, edits = 0, users = 0, activeUsers = 0, admins = 0,
}
function site.stats.pagesInCategory(category, which)
    if which == "*" then
        return { all = 0, subcats = 0, files = 0, pages = 0 }
    end
    return 0
end
function site.stats.pagesInNamespace(ns)
    return 0
end
function site.stats.usersInGroup(group)
    return 0
end
function site.interwikiMap(filter)
    if filter ~= nil then
        if type(filter) ~= "string" then
            error("bad argument #1 to 'interwikiMap' (string expected, got " .. type(filter) .. ")", 2)
        end
        if filter ~= "local" and filter ~= "!local" then
            error("bad argument #1 to 'interwikiMap' (unknown filter '" .. filter .. "')", 2)
        end
    end
    return {}  -- the node keeps no interwiki table of its own (render/interwiki.py's prefixes are fixed)
end
function site.matchNamespaceName(name)
    local ns = by_name[fold(name)]
    return ns and ns.id or nil
end

return site

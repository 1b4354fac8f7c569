-- mw.title: page titles, their parts, and what the node holds of them.
local P = ...
local call = P.call
local title = {}
local Title = {}
local methods = {}

local function site()
    return P.mw.site
end

local function make(ns, text, fragment, interwiki)
    local t = { namespace = ns, text = text, fragment = fragment or "", interwiki = interwiki or "" }
    return setmetatable(t, Title)
end

local function from_python(info)
    if info == nil then
        return nil
    end
    return make(info[1], info[2], info[3], info[4])
end

function title.new(text, namespace)
    if type(text) == "number" then
        return nil  -- page ids are MediaWiki's database ids: the node has none
    end
    if type(text) ~= "string" then
        error("bad argument #1 to 'title.new' (string expected, got " .. type(text) .. ")", 2)
    end
    local ns = namespace
    if type(ns) == "string" then
        local found = site().namespaces[ns]
        ns = found and found.id or 0
    end
    return from_python(call("title_info", text, ns or 0))
end

function title.makeTitle(namespace, text, fragment, interwiki)
    local ns = namespace
    if type(ns) == "string" then
        local found = site().namespaces[ns]
        if found == nil then
            return nil
        end
        ns = found.id
    end
    if type(text) ~= "string" and type(text) ~= "number" then
        error("bad argument #2 to 'makeTitle' (string expected)", 2)
    end
    local info = call("title_make", ns or 0, tostring(text))
    if info == nil then
        return nil
    end
    local t = from_python(info)
    t.fragment = fragment or t.fragment
    t.interwiki = interwiki or ""
    return t
end

function title.getCurrentTitle()
    return from_python(call("title_current"))
end

function title.equals(a, b)
    return a.interwiki == b.interwiki and a.namespace == b.namespace and a.text == b.text
end

function title.compare(a, b)
    if a.interwiki ~= b.interwiki then
        return a.interwiki < b.interwiki and -1 or 1
    end
    if a.namespace ~= b.namespace then
        return a.namespace < b.namespace and -1 or 1
    end
    if a.text ~= b.text then
        return a.text < b.text and -1 or 1
    end
    return 0
end

title.new_title = title.new

local computed = {}

function computed.nsText(t)
    local ns = site().namespaces[t.namespace]
    return ns and ns.name or ""
end
function computed.subjectNsText(t)
    local ns = site().namespaces[t.namespace]
    return ns and ns.subject and ns.subject.name or ""
end
function computed.talkNsText(t)
    local ns = site().namespaces[t.namespace]
    return ns and ns.talk and ns.talk.name or ""
end
function computed.prefixedText(t)
    local prefix = t.nsText
    local s = prefix ~= "" and (prefix .. ":" .. t.text) or t.text
    if t.interwiki ~= "" then
        s = t.interwiki .. ":" .. s
    end
    return s
end
function computed.fullText(t)
    local s = t.prefixedText
    if t.fragment ~= "" then
        s = s .. "#" .. t.fragment
    end
    return s
end
local function has_subpages(t)
    local ns = site().namespaces[t.namespace]
    return ns and ns.hasSubpages
end
function computed.rootText(t)
    if has_subpages(t) then
        return (string.match(t.text, "^([^/]*)"))
    end
    return t.text
end
function computed.baseText(t)
    if has_subpages(t) then
        local base = string.match(t.text, "^(.+)/[^/]*$")
        return base or t.text
    end
    return t.text
end
function computed.subpageText(t)
    if has_subpages(t) then
        return (string.match(t.text, "([^/]*)$"))
    end
    return t.text
end
function computed.isSubpage(t)
    return has_subpages(t) and string.find(t.text, "/", 1, true) ~= nil or false
end
function computed.isTalkPage(t)
    local ns = site().namespaces[t.namespace]
    return ns and ns.isTalk or false
end
function computed.isContentPage(t)
    local ns = site().namespaces[t.namespace]
    return ns and ns.isContent or false
end
function computed.isExternal(t) return t.interwiki ~= "" end
function computed.isLocal(t) return t.interwiki == "" end
function computed.isSpecialPage(t) return t.namespace == -1 end
function computed.canTalk(t) return t.namespace >= 0 end
function computed.id(t) return 0 end
function computed.exists(t)
    if t.namespace == -1 or t.interwiki ~= "" then
        return false
    end
    return call("title_exists", t.prefixedText)
end
function computed.isRedirect(t)
    return call("title_redirect", t.prefixedText) ~= nil
end
function computed.redirectTarget(t)
    local target = call("title_redirect", t.prefixedText)
    return target and title.new(target) or false
end
function computed.contentModel(t)
    if t.namespace == 828 and not string.find(t.text, "/doc$") then
        return "Scribunto"
    end
    if string.find(t.text, "%.json$") then
        return "json"
    end
    if string.find(t.text, "%.css$") then
        return "css"
    end
    if string.find(t.text, "%.js$") then
        return "javascript"
    end
    return "wikitext"
end
function computed.basePageTitle(t) return make(t.namespace, t.baseText) end
function computed.rootPageTitle(t) return make(t.namespace, t.rootText) end
function computed.talkPageTitle(t)
    local ns = site().namespaces[t.namespace]
    if ns == nil or ns.talk == nil then
        return nil
    end
    return make(ns.talk.id, t.text)
end
function computed.subjectPageTitle(t)
    local ns = site().namespaces[t.namespace]
    return make(ns and ns.subject and ns.subject.id or t.namespace, t.text)
end
function computed.protectionLevels(t) return { edit = {}, move = {} } end
function computed.cascadingProtection(t) return { restrictions = {}, sources = {} } end
-- Scribunto: false outside the File and Media namespaces, else the file's metadata (exists = false if
-- not held). This node knows a held file's pixels and type; pages, size and length it leaves out.
function computed.file(t)
    if (t.namespace ~= 6 and t.namespace ~= -2) or t.interwiki ~= "" then
        return false
    end
    local info = call("title_file", t.text)
    if not info then
        return { exists = false }
    end
    return { exists = true, width = info.width, height = info.height, mimeType = info.mimeType }
end
function computed.fileExists(t)
    local info = computed.file(t)
    return info ~= false and info.exists
end
function computed.isDisambiguationPage(t) return false end

function methods:isSubpageOf(other)
    return self.interwiki == other.interwiki and self.namespace == other.namespace
        and string.sub(self.text, 1, #other.text + 1) == other.text .. "/"
end
function methods:inNamespace(ns)
    if type(ns) == "string" then
        local found = site().namespaces[ns]
        ns = found and found.id
    end
    return self.namespace == ns
end
function methods:inNamespaces(...)
    for i = 1, select("#", ...) do
        if self:inNamespace((select(i, ...))) then
            return true
        end
    end
    return false
end
function methods:hasSubjectNamespace(ns)
    if type(ns) == "string" then
        local found = site().namespaces[ns]
        ns = found and found.id
    end
    local subject = site().namespaces[self.namespace]
    return subject ~= nil and subject.subject ~= nil and subject.subject.id == ns
end
function methods:subPageTitle(text)
    return title.makeTitle(self.namespace, self.text .. "/" .. tostring(text))
end
function methods:partialUrl()
    return P.mw.uri.encode(self.text, "WIKI")
end
function methods:fullUrl(query) return tostring(P.mw.uri.fullUrl(self.fullText, query)) end
function methods:localUrl(query) return tostring(P.mw.uri.localUrl(self.fullText, query)) end
function methods:canonicalUrl(query) return tostring(P.mw.uri.canonicalUrl(self.fullText, query)) end
function methods:getContent()
    if self.interwiki ~= "" or self.namespace < 0 then
        return nil
    end
    return call("title_content", self.prefixedText)
end

Title.__index = function(t, key)
    local m = methods[key]
    if m then
        return m
    end
    local f = computed[key]
    if f then
        local v = f(t)
        if key ~= "exists" and key ~= "isRedirect" and key ~= "redirectTarget" then
            rawset(t, key, v)
        end
        return v
    end
end
Title.__eq = title.equals
Title.__lt = function(a, b) return title.compare(a, b) < 0 end
Title.__le = function(a, b) return title.compare(a, b) <= 0 end
Title.__tostring = function(t) return t.prefixedText end

return title

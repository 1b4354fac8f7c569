-- mw.message: messages by MediaWiki's key (every message of core, Cite, ParserFunctions and Scribunto,
-- in any language, from the language data through messages.py) and raw messages with $1 parameters.
local P = ...
local call = P.call
local message = {}
local Message = {}
Message.__index = Message

local function new(key, raw, ...)
    local m = setmetatable({ key = key, raw = raw, parameters = {}, lang = nil }, Message)
    m:params(...)
    return m
end

function message.new(key, ...)
    if type(key) ~= "string" then
        error("bad argument #1 to 'message.new' (string expected)", 2)
    end
    return new(key, nil, ...)
end

function message.newRawMessage(text, ...)
    return new(nil, tostring(text), ...)
end

function message.newFallbackSequence(...)
    for i = 1, select("#", ...) do
        local m = message.new((select(i, ...)))
        if m:exists() then
            return m
        end
    end
    return message.new((select(1, ...)))
end

function message.rawParam(value) return { raw = value } end
function message.numParam(value) return { num = value } end
function message.getDefaultLanguage() return P.mw.language.getContentLanguage() end

function Message:params(...)
    local n = select("#", ...)
    local list = ...
    if n == 1 and type(list) == "table" and list.raw == nil and list.num == nil then
        for _, v in ipairs(list) do
            self.parameters[#self.parameters + 1] = v
        end
    else
        for i = 1, n do
            self.parameters[#self.parameters + 1] = (select(i, ...))
        end
    end
    return self
end
function Message:rawParams(...)
    local list = select("#", ...) == 1 and type((...)) == "table" and (...) or { ... }
    for _, v in ipairs(list) do
        self.parameters[#self.parameters + 1] = { raw = v }
    end
    return self
end
function Message:numParams(...)
    local list = select("#", ...) == 1 and type((...)) == "table" and (...) or { ... }
    for _, v in ipairs(list) do
        self.parameters[#self.parameters + 1] = { num = v }
    end
    return self
end
function Message:inLanguage(lang)
    self.lang = type(lang) == "table" and lang.code or lang
    return self
end
function Message:inContentLanguage() return self end
function Message:useDatabase() return self end
function Message:title() return self end

local function text_of(self)
    local raw = self.raw
    if raw == nil then
        raw = call("message_text", self.key, self.lang)
    end
    if raw == nil then
        return nil
    end
    return (string.gsub(raw, "%$(%d+)", function(i)
        local p = self.parameters[tonumber(i)]
        if type(p) == "table" then
            p = p.raw or (p.num and P.mw.language.getContentLanguage():formatNum(p.num))
        end
        return p ~= nil and tostring(p) or ("$" .. i)
    end))
end

function Message:exists()
    return self.raw ~= nil or call("message_text", self.key, self.lang) ~= nil
end
function Message:isBlank()
    local t = text_of(self)
    return t == nil or t == ""
end
function Message:isDisabled()
    local t = text_of(self)
    return t == nil or t == "" or t == "-"
end
function Message:plain()
    return text_of(self) or ("⧼" .. tostring(self.key) .. "⧽")
end
function Message:text()
    return self:plain()
end
function Message:escaped()
    return P.mw.text.encode(self:plain())
end
function Message:parse()
    return P.mw.getCurrentFrame():preprocess(self:plain())
end
Message.__tostring = Message.plain

return message

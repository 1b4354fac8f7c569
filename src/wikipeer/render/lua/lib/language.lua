-- mw.language: the content language's case, numbers, dates and plural rules.
local P = ...
local call = P.call
local language = {}
local Language = {}
Language.__index = Language

local objects = {}

function language.new(code)
    if type(code) ~= "string" then
        error("bad argument #1 to 'mw.language.new' (string expected, got " .. type(code) .. ")", 2)
    end
    if objects[code] == nil then
        objects[code] = setmetatable({ code = code }, Language)
    end
    return objects[code]
end
language.getLanguage = language.new

function language.getContentLanguage()
    return language.new(call("content_lang"))
end

function language.fetchLanguageName(code, inLanguage)
    return call("lang_name", tostring(code or ""), inLanguage and tostring(inLanguage) or nil)
end

function language.fetchLanguageNames(inLanguage, include)
    return call("lang_names", inLanguage and tostring(inLanguage) or nil)
end

function language.isKnownLanguageTag(code)
    return type(code) == "string" and call("lang_name", code, nil) ~= ""
end
function language.isSupportedLanguage(code)
    return language.isKnownLanguageTag(code)
end
function language.isValidCode(code)
    return type(code) == "string" and call("lang_valid", code)
end
function language.isValidBuiltInCode(code)
    return type(code) == "string" and string.find(code, "^[a-z0-9-]+$") ~= nil
end
language.FALLBACK_MESSAGES = 0
language.FALLBACK_STRICT = 1
function language.getFallbacksFor(code, mode)
    return call("lang_fallbacks", tostring(code or ""), mode == language.FALLBACK_STRICT)
end

function Language:getCode() return self.code end

-- Every method but getCode needs a code MediaWiki accepts.
local function checked(method)
    return function(self, ...)
        if self.valid == nil then
            self.valid = call("lang_valid", self.code)
        end
        if not self.valid then
            error("language code '" .. self.code .. "' is invalid", 2)
        end
        return method(self, ...)
    end
end
function Language:getFallbackLanguages(mode) return language.getFallbacksFor(self.code, mode) end
function Language:toBcp47Code() return call("bcp47", self.code) end
function Language:isRTL() return call("lang_rtl", self.code) end
function Language:getDir() return self:isRTL() and "rtl" or "ltr" end
function Language:getDirMark(opposite)
    local rtl = self:isRTL()
    if opposite then rtl = not rtl end
    return rtl and "\226\128\143" or "\226\128\142"
end
function Language:getDirMarkEntity(opposite)
    local rtl = self:isRTL()
    if opposite then rtl = not rtl end
    return rtl and "&rlm;" or "&lrm;"
end
function Language:getArrow(direction)
    local rtl = self:isRTL()
    local arrows = { forwards = rtl and "←" or "→", backwards = rtl and "→" or "←", left = "←", right = "→",
        up = "↑", down = "↓" }
    return arrows[direction or "forwards"] or arrows.forwards
end
function Language:lc(s) return P.mw.ustring.lower(tostring(s)) end
function Language:uc(s) return P.mw.ustring.upper(tostring(s)) end
function Language:caseFold(s) return P.mw.ustring.upper(tostring(s)) end
function Language:lcfirst(s)
    s = tostring(s)
    local u = P.mw.ustring
    return u.lower(u.sub(s, 1, 1)) .. u.sub(s, 2)
end
function Language:ucfirst(s)
    s = tostring(s)
    local u = P.mw.ustring
    return u.upper(u.sub(s, 1, 1)) .. u.sub(s, 2)
end
function Language:formatNum(n, options)
    if type(n) == "number" then
        if n ~= n then
            error("bad argument #1 to 'formatNum' (NaN)", 2)
        elseif n == math.huge or n == -math.huge then
            error("bad argument #1 to 'formatNum' (infinite)", 2)
        end
    end
    local plain = type(options) == "table" and options.noCommafy or false
    return call("format_num", self.code, tostring(n), plain and true or false)
end
function Language:parseFormattedNumber(s)
    return tonumber(call("parse_formatted", self.code, tostring(s)))
end
function Language:formatDate(format, timestamp, localTime)
    return call("format_date", self.code, tostring(format), timestamp and tostring(timestamp) or "")
end
function Language:formatDuration(seconds, allowed)
    return call("format_duration", tonumber(seconds) or 0)
end
function Language:convertPlural(n, ...)
    local forms = select("#", ...) == 1 and type((...)) == "table" and (...) or { ... }
    if #forms == 0 then
        return ""
    end
    local index = call("plural_index", self.code, tonumber(n) or 0, #forms)
    return forms[index]
end
Language.plural = Language.convertPlural
local function checkString(name, index, value)
    if type(value) ~= "string" then
        error(string.format("bad argument #%d to '%s' (string expected, got %s)", index, name, type(value)), 3)
    end
end
function Language:convertGrammar(word, case)
    checkString("convertGrammar", 1, word)
    checkString("convertGrammar", 2, case)
    return call("grammar", self.code, case, word)
end
function Language:grammar(case, word)
    checkString("grammar", 1, case)
    checkString("grammar", 2, word)
    return call("grammar", self.code, case, word)
end
function Language:gender(what, masculine, feminine, neutral)
    if type(masculine) == "table" then
        masculine, feminine, neutral = masculine[1], masculine[2], masculine[3]
    end
    -- users' genders are not known to the node: only "male" and "female" choose
    if what == "male" then
        return masculine
    elseif what == "female" then
        return feminine or masculine
    end
    return neutral or masculine
end

for name, method in pairs(Language) do
    -- getFallbackLanguages answers {} for an invalid code, as Scribunto's does
    if type(method) == "function" and name ~= "getCode" and name ~= "__index" and name ~= "checked"
            and name ~= "getFallbackLanguages" then
        Language[name] = checked(method)
    end
end

return language

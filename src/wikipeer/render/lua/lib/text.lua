-- mw.text: the pieces that are plain Lua here; entity, JSON and marker work is Python's.
local P = ...
local call = P.call
local text = {
    JSON_PRESERVE_KEYS = 1, JSON_TRY_FIXING = 2, JSON_PRETTY = 4,
}

local function check_string(name, index, s, nil_ok)
    if s == nil and nil_ok then
        return nil
    end
    if type(s) == "number" then
        return tostring(s)
    end
    if type(s) ~= "string" then
        error(string.format("bad argument #%d to '%s' (string expected, got %s)", index, name, type(s)), 3)
    end
    return s
end

function text.trim(s, charset)
    s = check_string("trim", 1, s)
    if charset == nil then
        return call("text_trim", s)
    end
    local ustring = P.mw.ustring
    s = ustring.gsub(s, "^[" .. charset .. "]+", "")
    return (ustring.gsub(s, "[" .. charset .. "]+$", ""))
end

function text.encode(s, charset)
    return call("text_encode", check_string("encode", 1, s), check_string("encode", 2, charset, true))
end

function text.decode(s, named)
    return call("text_decode", check_string("decode", 1, s), named and true or false)
end

function text.nowiki(s)
    return call("text_nowiki", check_string("nowiki", 1, s))
end

function text.killMarkers(s)
    return call("kill_markers", check_string("killMarkers", 1, s))
end

function text.unstripNoWiki(s)
    return call("unstrip_nowiki", check_string("unstripNoWiki", 1, s))
end

function text.unstrip(s)
    return text.killMarkers(text.unstripNoWiki(s))
end

function text.jsonEncode(value, flags)
    return call("json_encode", value, flags or 0)
end

function text.jsonDecode(s, flags)
    return call("json_decode", check_string("jsonDecode", 1, s), flags or 0)
end

function text.split(s, pattern, plain)
    s = check_string("split", 1, s)
    pattern = check_string("split", 2, pattern)
    return P.mw.ustring.split_(s, pattern, plain)
end

function text.gsplit(s, pattern, plain)
    s = check_string("gsplit", 1, s)
    pattern = check_string("gsplit", 2, pattern)
    local pieces = P.mw.ustring.split_(s, pattern, plain)
    local i = 0
    return function()
        i = i + 1
        return pieces[i]
    end
end

function text.listToText(list, separator, conjunction)
    separator = separator or ", "
    conjunction = conjunction or " and "
    local n = #list
    if n == 0 then
        return ""
    elseif n == 1 then
        return tostring(list[1])
    end
    return table.concat(list, separator, 1, n - 1) .. conjunction .. tostring(list[n])
end

function text.tag(name, attrs, content)
    if type(name) == "table" then
        name, attrs, content = name.name, name.attrs, name.content
    end
    if type(name) ~= "string" then
        error("bad argument #1 to 'tag' (string expected)", 2)
    end
    local out = { "<" .. name }
    if attrs ~= nil then
        if type(attrs) ~= "table" then
            error("bad argument #2 to 'tag' (table expected)", 2)
        end
        for k, v in pairs(attrs) do  -- in pairs' order, as Scribunto
            if v == true then
                out[#out + 1] = " " .. tostring(k)
            elseif v ~= false and v ~= nil then
                out[#out + 1] = " " .. tostring(k) .. '="' .. text.encode(tostring(v), '<>&"') .. '"'
            end
        end
    end
    if content == false then
        out[#out + 1] = " />"
    elseif content == nil then
        out[#out + 1] = ">"
    else
        out[#out + 1] = ">" .. tostring(content) .. "</" .. name .. ">"
    end
    return table.concat(out)
end

function text.truncate(s, length, ellipsis, adjust)
    s = check_string("truncate", 1, s)
    local ustring = P.mw.ustring
    if type(length) ~= "number" then
        error("bad argument #2 to 'truncate' (number expected)", 2)
    end
    ellipsis = ellipsis or "..."  -- MediaWiki's English "ellipsis" message
    local n = ustring.len(s)
    local keep = math.abs(length)
    local room = ustring.len(ellipsis)
    if adjust then
        if n <= keep then
            return s
        end
        keep = keep - room
        if keep <= 0 then
            return ellipsis
        end
    elseif n <= keep + room then
        return s  -- an ellipsis would make it no shorter
    end
    if length > 0 then
        return ustring.sub(s, 1, keep) .. ellipsis
    end
    return ellipsis .. ustring.sub(s, n - keep + 1)
end

return text

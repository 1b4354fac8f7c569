-- mw.html: the builder modules make tables and boxes with.
local P = ...
local html = {}
local Builder = {}
Builder.__index = Builder

local void = {
    area = true, base = true, br = true, col = true, command = true, embed = true, hr = true,
    img = true, input = true, keygen = true, link = true, meta = true, param = true,
    source = true, track = true, wbr = true,
}

local function encode(s)
    return (string.gsub(s, '[<>&"]', { ["<"] = "&lt;", [">"] = "&gt;", ["&"] = "&amp;", ['"'] = "&quot;" }))
end

local function is_builder(v)
    return type(v) == "table" and getmetatable(v) == Builder
end

local function new(tagName, args, parent)
    if tagName == "" then
        tagName = nil
    end
    if tagName ~= nil and type(tagName) ~= "string" then
        error("bad argument #1 to 'mw.html.create' (string expected, got " .. type(tagName) .. ")", 3)
    end
    if tagName ~= nil and not string.find(tagName, "^[%w:_%-]+$") then
        error("invalid tag name '" .. tostring(tagName) .. "'", 3)
    end
    args = args or {}
    local b = setmetatable({
        tagName = tagName, nodes = {}, attributes = {}, classes = {}, styles = {},
        selfClosing = args.selfClosing or (tagName ~= nil and void[tagName] or false),
        parent = args.parent or parent,
    }, Builder)
    return b
end

function html.create(tagName, args)
    if args ~= nil and type(args) ~= "table" then
        error("bad argument #2 to 'mw.html.create' (table expected, got " .. type(args) .. ")", 2)
    end
    return new(tagName, args)
end

local function can_hold(self)
    if self.selfClosing then
        error("self-closing tags can't have child nodes", 3)
    end
end

-- class and style are written where they were first set, among the other attributes.
local function place(self, name)
    for _, pair in ipairs(self.attributes) do
        if pair[1] == name then
            return
        end
    end
    self.attributes[#self.attributes + 1] = { name }
end

function Builder:node(builder)
    if builder ~= nil then
        can_hold(self)
        if not is_builder(builder) and type(builder) ~= "string" and type(builder) ~= "number" then
            error("bad argument #1 to 'node' (builder expected)", 2)
        end
        self.nodes[#self.nodes + 1] = builder
    end
    return self
end

function Builder:wikitext(...)
    for i = 1, select("#", ...) do
        local v = select(i, ...)
        if v == nil then
            break
        end
        if type(v) ~= "string" and type(v) ~= "number" then
            error("bad argument #" .. i .. " to 'wikitext' (string or number expected, got " .. type(v) .. ")", 2)
        end
        can_hold(self)
        self.nodes[#self.nodes + 1] = tostring(v)
    end
    return self
end

function Builder:newline()
    self.nodes[#self.nodes + 1] = "\n"
    return self
end

function Builder:tag(tagName, args)
    local child = new(tagName, args, self)
    child.parent = self
    self.nodes[#self.nodes + 1] = child
    return child
end

local function set_attr(self, name, value)
    if type(name) ~= "string" then
        error("bad argument #1 to 'attr' (string expected, got " .. type(name) .. ")", 3)
    end
    if not string.find(name, "^[%w:_%-]+$") then
        error("bad argument #1 to 'attr' (invalid attribute name '" .. name .. "')", 3)
    end
    if name == "class" then
        self.classes = {}
        if value ~= nil then
            self:addClass(value)
        end
        return
    elseif name == "style" then
        self.styles = {}
        if value ~= nil then
            self:cssText(value)
        end
        return
    end
    for i, pair in ipairs(self.attributes) do
        if pair[1] == name then
            if value == nil then
                table.remove(self.attributes, i)
            else
                pair[2] = tostring(value)
            end
            return
        end
    end
    if value ~= nil then
        self.attributes[#self.attributes + 1] = { name, tostring(value) }
    end
end

function Builder:attr(name, value)
    if type(name) == "table" then
        if value ~= nil then
            error("bad argument #2 to 'attr' (if argument #1 is a table, argument #2 must be left empty)", 2)
        end
        for k, v in pairs(name) do
            if type(k) ~= "string" or (type(v) ~= "string" and type(v) ~= "number") then
                error("bad argument #1 to 'attr' (table keys must be strings, and values must be strings or numbers)", 2)
            end
        end
        for k, v in pairs(name) do
            set_attr(self, k, v)
        end
    else
        if value ~= nil and type(value) ~= "string" and type(value) ~= "number" then
            error("bad argument #2 to 'attr' (string, number or nil expected, got " .. type(value) .. ")", 2)
        end
        set_attr(self, name, value)
    end
    return self
end

function Builder:getAttr(name)
    if type(name) ~= "string" then
        error("bad argument #1 to 'getAttr' (string expected, got " .. type(name) .. ")", 2)
    end
    if name == "class" then
        return #self.classes > 0 and table.concat(self.classes, " ") or nil
    end
    for _, pair in ipairs(self.attributes) do
        if pair[1] == name then
            return pair[2]
        end
    end
end

function Builder:addClass(class)
    if class == nil then
        return self
    end
    if type(class) ~= "string" and type(class) ~= "number" then
        error("bad argument #1 to 'addClass' (string, number or nil expected, got " .. type(class) .. ")", 2)
    end
    for c in string.gmatch(tostring(class), "%S+") do
        local seen = false
        for _, have in ipairs(self.classes) do
            if have == c then
                seen = true
            end
        end
        if not seen then
            place(self, "class")
            self.classes[#self.classes + 1] = c
        end
    end
    return self
end

local function set_css(self, name, value)
    name = tostring(name)
    for i, pair in ipairs(self.styles) do
        if pair[1] == name then
            if value == nil then
                table.remove(self.styles, i)
            else
                pair[2] = tostring(value)
            end
            return
        end
    end
    if value ~= nil then
        place(self, "style")
        self.styles[#self.styles + 1] = { name, tostring(value) }
    end
end

function Builder:css(name, value)
    if type(name) == "table" then
        if value ~= nil then
            error("bad argument #2 to 'css' (if argument #1 is a table, argument #2 must be left empty)", 2)
        end
        for k, v in pairs(name) do
            local kt, vt = type(k), type(v)
            if (kt ~= "string" and kt ~= "number") or (vt ~= "string" and vt ~= "number") then
                error("bad argument #1 to 'css' (table keys and values must be strings or numbers)", 2)
            end
        end
        for k, v in pairs(name) do
            set_css(self, k, v)
        end
    else
        if type(name) ~= "string" and type(name) ~= "number" then
            error("bad argument #1 to 'css' (string or number expected, got " .. type(name) .. ")", 2)
        end
        if value ~= nil and type(value) ~= "string" and type(value) ~= "number" then
            error("bad argument #2 to 'css' (string, number or nil expected, got " .. type(value) .. ")", 2)
        end
        set_css(self, name, value)
    end
    return self
end

function Builder:cssText(css)
    if css ~= nil then
        if type(css) ~= "string" and type(css) ~= "number" then
            error("bad argument #1 to 'cssText' (string, number or nil expected, got " .. type(css) .. ")", 2)
        end
        -- kept as written (Scribunto does not parse it)
        place(self, "style")
        self.styles[#self.styles + 1] = { false, tostring(css) }
    end
    return self
end

function Builder:done()
    return self.parent or self
end

function Builder:allDone()
    local b = self
    while b.parent do
        b = b.parent
    end
    return b
end

local function render(self, out)
    if self.tagName then
        out[#out + 1] = "<" .. self.tagName
        for _, pair in ipairs(self.attributes) do
            local name, value = pair[1], pair[2]
            if name == "class" and value == nil then
                value = #self.classes > 0 and table.concat(self.classes, " ") or nil
            elseif name == "style" and value == nil then
                local css = {}
                for i, decl in ipairs(self.styles) do
                    css[i] = decl[1] and (decl[1] .. ":" .. decl[2]) or decl[2]
                end
                value = #css > 0 and table.concat(css, ";") or nil
                if value and string.find(value, "\127", 1, true) then
                    -- a nowiki'd colour (`#ff0000`) comes back as text: markers have no place in CSS
                    value = P.mw.text.killMarkers(P.mw.text.unstripNoWiki(value))
                end
            end
            if value ~= nil then
                out[#out + 1] = " " .. name .. '="' .. encode(value) .. '"'
            end
        end
        if self.selfClosing then
            out[#out + 1] = " />"
            return
        end
        out[#out + 1] = ">"
    end
    for _, node in ipairs(self.nodes) do
        if is_builder(node) then
            render(node, out)
        else
            out[#out + 1] = tostring(node)
        end
    end
    if self.tagName then
        out[#out + 1] = "</" .. self.tagName .. ">"
    end
end

function Builder:__tostring()
    local out = {}
    render(self, out)
    return table.concat(out)
end

Builder.__tostring = Builder.__tostring

return html

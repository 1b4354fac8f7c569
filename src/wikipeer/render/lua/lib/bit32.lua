-- bit32 (Lua 5.2's, which Scribunto offers through require) on 32-bit unsigned integers.
local bit32 = {}
local floor = math.floor
local MOD = 4294967296

local function norm(x)
    x = tonumber(x) or error("bad argument to bit32 function (number expected)", 3)
    x = floor(x) % MOD
    return x
end

local function bitwise(a, b, op)
    local result, bit = 0, 1
    for _ = 1, 32 do
        local x, y = a % 2, b % 2
        if op(x, y) then
            result = result + bit
        end
        a, b, bit = (a - x) / 2, (b - y) / 2, bit * 2
    end
    return result
end

local function fold(op, identity)
    return function(...)
        local n = select("#", ...)
        local result = identity
        for i = 1, n do
            result = bitwise(result, norm((select(i, ...))), op)
        end
        return result
    end
end

bit32.band = fold(function(x, y) return x == 1 and y == 1 end, MOD - 1)
bit32.bor = fold(function(x, y) return x == 1 or y == 1 end, 0)
bit32.bxor = fold(function(x, y) return x ~= y end, 0)

function bit32.btest(...)
    return bit32.band(...) ~= 0
end

function bit32.bnot(x)
    return MOD - 1 - norm(x)
end

function bit32.lshift(x, disp)
    x, disp = norm(x), floor(tonumber(disp) or 0)
    if disp < 0 then
        return bit32.rshift(x, -disp)
    end
    if disp >= 32 then
        return 0
    end
    return (x * 2 ^ disp) % MOD
end

function bit32.rshift(x, disp)
    x, disp = norm(x), floor(tonumber(disp) or 0)
    if disp < 0 then
        return bit32.lshift(x, -disp)
    end
    if disp >= 32 then
        return 0
    end
    return floor(x / 2 ^ disp)
end

function bit32.arshift(x, disp)
    x, disp = norm(x), floor(tonumber(disp) or 0)
    if disp <= 0 then
        return bit32.lshift(x, -disp)
    end
    local negative = x >= MOD / 2
    if disp >= 32 then
        return negative and MOD - 1 or 0
    end
    local r = floor(x / 2 ^ disp)
    if negative then
        r = r + (MOD - 2 ^ (32 - disp))
    end
    return r
end

function bit32.lrotate(x, disp)
    x, disp = norm(x), floor(tonumber(disp) or 0) % 32
    return (bit32.lshift(x, disp) + bit32.rshift(x, 32 - disp)) % MOD
end

function bit32.rrotate(x, disp)
    return bit32.lrotate(x, -(floor(tonumber(disp) or 0)))
end

function bit32.extract(n, field, width)
    n, field, width = norm(n), floor(field), floor(width or 1)
    if field < 0 or width <= 0 or field + width > 32 then
        error("bad argument to 'extract' (trying to access non-existent bits)", 2)
    end
    return floor(n / 2 ^ field) % 2 ^ width
end

function bit32.replace(n, v, field, width)
    n, v, field, width = norm(n), norm(v), floor(field), floor(width or 1)
    if field < 0 or width <= 0 or field + width > 32 then
        error("bad argument to 'replace' (trying to access non-existent bits)", 2)
    end
    local mask = 2 ^ width
    local old = floor(n / 2 ^ field) % mask
    return n + ((v % mask) - old) * 2 ^ field
end

return bit32

-- mw.hash: digests computed in Python (hashlib).
local P = ...
local call = P.call
local hash = {}

function hash.hashValue(algo, value)
    if type(algo) ~= "string" then
        error("bad argument #1 to 'hashValue' (string expected, got " .. type(algo) .. ")", 2)
    end
    if type(value) ~= "string" then
        error("bad argument #2 to 'hashValue' (string expected, got " .. type(value) .. ")", 2)
    end
    return call("hash_value", algo, tostring(value))
end

function hash.listAlgorithms()
    return call("hash_algorithms")
end

return hash

-- mw.hash: digests computed in Python (hashlib).
local P = ...
local call = P.call
local hash = {}

function hash.hashValue(algo, value)
    if type(algo) ~= "string" then
        error("bad argument #1 to 'hashValue' (string expected)", 2)
    end
    if type(value) ~= "string" and type(value) ~= "number" then
        error("bad argument #2 to 'hashValue' (string expected)", 2)
    end
    return call("hash_value", algo, tostring(value))
end

function hash.listAlgorithms()
    return call("hash_algorithms")
end

return hash

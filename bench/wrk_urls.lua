-- wrk script for the web benchmark: each thread cycles through the request paths
-- listed one per line in the file named by the first script argument
-- (`wrk ... URL -- paths.txt`), starting at a different place per thread.
local requests = {}
local i = 0

function init(args)
   for line in io.lines(args[1]) do
      if #line > 0 then
         requests[#requests + 1] = wrk.format("GET", line)
      end
   end
   if #requests == 0 then
      error("no paths in " .. args[1])
   end
   i = math.random(#requests) - 1
end

function request()
   i = i % #requests + 1
   return requests[i]
end

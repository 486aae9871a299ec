-- POST /api/v1/share with a TTL chosen per request so that every secret expires
-- in the same second, `deadline` (Unix seconds). Arguments (after `--`):
--   deadline  count  sample-file  sample-every
-- Stops the thread once `count` creates were sent; every `sample-every`-th
-- secret key answered is appended to `sample-file`. Like reveal.lua, it times
-- itself ("keys-exhausted <seconds> <answers>"): wrk would divide by its whole
-- -d duration.
local deadline, count, every = 0, 0, 1000
local sent = 0
local out = nil
answered, started, finished = 0, 0, 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function now()
  local clock = io.popen("date +%s.%N")
  local seconds = clock:read("*n")
  clock:close()
  return seconds
end

function init(args)
  deadline = tonumber(args[1])
  count = tonumber(args[2])
  out = assert(io.open(args[3], "a"))
  every = tonumber(args[4] or "1000")
end

function request()
  if sent == 0 then started = now() end
  if sent >= count then
    if finished == 0 then finished = now() end
    wrk.thread:stop()
    return wrk.format("GET", "/api/v1/status")
  end
  sent = sent + 1
  local ttl = deadline - os.time()
  return wrk.format("POST", "/api/v1/share",
    { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "secret=Tr0ub4dor-and-3-horses-battery&ttl=" .. ttl)
end

function response(status_code, headers, body)
  if status_code ~= 200 then return end
  answered = answered + 1
  if answered % every == 0 then
    local key = body:match('"secret_key":"(%w+)"')
    if key then out:write(key, "\n"); out:flush() end
  end
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local finished, started = thread:get("finished"), thread:get("started")
    if finished > 0 then
      io.write(string.format("keys-exhausted %.6f %d\n", finished - started,
        thread:get("answered")))
    end
  end
end

-- POST /api/v1/secret/{key} (empty body) for each key of the file given after
-- `--`, each exactly once, in order (with a second argument `v2`: API v2's
-- POST /api/v2/secret/{key}/reveal with {"continue":true}); the thread stops
-- when the keys run out, so no request of this phase is ever for a key
-- already read.
--
-- wrk divides by the whole -d duration even when the thread stops early, which
-- would cap this phase's rate at keys / duration. So the script times itself:
-- when the last key is due it notes how many answers came back since the first
-- request, and `done` prints "keys-exhausted <seconds> <answers>" (load.sh then
-- reports answers / seconds instead of wrk's figure).
local keys = {}
local next_key = 0
answered = 0
answered_by_then = 0
started = 0
finished = 0

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

-- Wall-clock seconds; called twice per run, so a process per call is fine.
local function now()
  local clock = io.popen("date +%s.%N")
  local seconds = clock:read("*n")
  clock:close()
  return seconds
end

local v2 = false

function init(args)
  for line in io.lines(args[1]) do keys[#keys + 1] = line end
  v2 = args[2] == "v2"
end

function request()
  next_key = next_key + 1
  if next_key == 1 then started = now() end
  if next_key > #keys then
    if finished == 0 then
      finished = now()
      answered_by_then = answered
    end
    -- Whatever is still sent after stop() is a harmless status read.
    wrk.thread:stop()
    return wrk.format("GET", "/api/v1/status")
  end
  if v2 then
    return wrk.format("POST", "/api/v2/secret/" .. keys[next_key] .. "/reveal",
      { ["Content-Type"] = "application/json" }, '{"continue":true}')
  end
  return wrk.format("POST", "/api/v1/secret/" .. keys[next_key], nil, "")
end

function response(status_code, headers, body)
  answered = answered + 1
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local finished, started = thread:get("finished"), thread:get("started")
    if finished > 0 then
      io.write(string.format("keys-exhausted %.6f %d\n", finished - started,
        thread:get("answered_by_then")))
    end
  end
end

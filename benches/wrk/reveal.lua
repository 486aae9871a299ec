-- POST /api/v1/secret/{key} (empty body) for each key of the file given after
-- `--`, each exactly once, in order; the thread stops when the keys run out, so
-- no request of this phase is ever for a key already read.
local keys = {}
local next_key = 0

function init(args)
  for line in io.lines(args[1]) do keys[#keys + 1] = line end
end

function request()
  next_key = next_key + 1
  if next_key > #keys then
    -- Whatever is still sent after stop() is a harmless status read.
    wrk.thread:stop()
    return wrk.format("GET", "/api/v1/status")
  end
  return wrk.format("POST", "/api/v1/secret/" .. keys[next_key], nil, "")
end

-- POST /api/v1/share with a 32-character value and a one-day TTL.
-- Arguments (after `--`): [keys file] [stop after N secrets]
-- With a keys file, every secret_key answered is appended to it (one per line)
-- so the reveal phase can read each secret exactly once. With N, once N
-- requests were sent the rest of the run only reads the status (wrk runs for
-- its whole duration), so exactly N secrets are asked for.
local share = nil
local status = nil
local out = nil
local limit = 0
local sent = 0

function init(args)
  if args[1] and args[1] ~= "" then out = assert(io.open(args[1], "a")) end
  limit = tonumber(args[2] or "0") or 0
  share = wrk.format("POST", "/api/v1/share",
    { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "secret=Tr0ub4dor-and-3-horses-battery&ttl=86400")
  status = wrk.format("GET", "/api/v1/status")
end

function request()
  if limit > 0 and sent >= limit then return status end
  sent = sent + 1
  return share
end

function response(status_code, headers, body)
  if out and status_code == 200 then
    local key = body:match('"secret_key":"(%w+)"')
    if key then out:write(key, "\n") end
  end
end

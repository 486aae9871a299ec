-- POST /api/v1/share with a 32-character value and a one-day TTL.
-- Arguments (after `--`): [keys file] [stop after N secrets] [v2]
-- With a keys file, every secret_key answered is appended to it (one per line)
-- so the reveal phase can read each secret exactly once. With N (0: none),
-- once N requests were sent the rest of the run only reads the status (wrk
-- runs for its whole duration), so exactly N secrets are asked for. With `v2`,
-- the same value and TTL go to API v2's POST /api/v2/secret/conceal as JSON,
-- and the keys kept are record.secret.identifier.
local share = nil
local status = nil
local out = nil
local limit = 0
local sent = 0
local key_pattern = '"secret_key":"(%w+)"'

function init(args)
  if args[1] and args[1] ~= "" then out = assert(io.open(args[1], "a")) end
  limit = tonumber(args[2] or "0") or 0
  if args[3] == "v2" then
    share = wrk.format("POST", "/api/v2/secret/conceal",
      { ["Content-Type"] = "application/json" },
      '{"secret":{"secret":"Tr0ub4dor-and-3-horses-battery","ttl":86400}}')
    key_pattern = '"secret":%s*{[^}]-"identifier":"(%w+)"'
  else
    share = wrk.format("POST", "/api/v1/share",
      { ["Content-Type"] = "application/x-www-form-urlencoded" },
      "secret=Tr0ub4dor-and-3-horses-battery&ttl=86400")
  end
  status = wrk.format("GET", "/api/v1/status")
end

function request()
  if limit > 0 and sent >= limit then return status end
  sent = sent + 1
  return share
end

function response(status_code, headers, body)
  if out and status_code == 200 then
    local key = body:match(key_pattern)
    if key then out:write(key, "\n") end
  end
end

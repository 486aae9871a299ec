-- POST /api/v2/secret/conceal with the same 32-character value and one-day TTL
-- as create.lua, in v2's JSON body. Arguments (after `--`): [keys file]; every
-- secret identifier answered is appended to it, one per line, for reveal.lua.
local conceal = nil
local out = nil

function init(args)
  if args[1] and args[1] ~= "" then out = assert(io.open(args[1], "a")) end
  conceal = wrk.format("POST", "/api/v2/secret/conceal",
    { ["Content-Type"] = "application/json" },
    '{"secret":{"secret":"Tr0ub4dor-and-3-horses-battery","ttl":86400}}')
end

function request()
  return conceal
end

function response(status_code, headers, body)
  if out and status_code == 200 then
    local key = body:match('"secret":%s*{[^}]-"identifier":"(%w+)"')
    if key then out:write(key, "\n") end
  end
end

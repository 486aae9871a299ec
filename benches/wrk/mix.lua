-- A create+reveal mix: each connection's answers feed one queue of fresh keys;
-- a request reveals the oldest key not yet revealed, or creates a secret when
-- none is waiting. So every secret is revealed exactly once, soon after it was
-- made (as most secrets are), and about half the requests are creates.
-- With MIX_OUT set, "mix <creates> <reveals> <failed reveals>" is appended to
-- that file when the run ends (`done` runs apart from the threads' arguments).
local waiting = {}
local first, last = 1, 0
creates, reveals, failed = 0, 0, 0
local share = nil
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  share = wrk.format("POST", "/api/v1/share",
    { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "secret=Tr0ub4dor-and-3-horses-battery&ttl=86400")
end

function request()
  if first <= last then
    local key = waiting[first]
    waiting[first] = nil
    first = first + 1
    return wrk.format("POST", "/api/v1/secret/" .. key, nil, "")
  end
  return share
end

function response(status_code, headers, body)
  local key = body:match('"metadata_key":"%w+","secret_key":"(%w+)"')
  if key then
    creates = creates + 1
    last = last + 1
    waiting[last] = key
  elseif body:match('"value":') then
    reveals = reveals + 1
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local out = os.getenv("MIX_OUT")
  if not out then return end
  local file = assert(io.open(out, "a"))
  for _, thread in ipairs(threads) do
    file:write(string.format("mix %d %d %d\n", thread:get("creates"),
      thread:get("reveals"), thread:get("failed")))
  end
  file:close()
end

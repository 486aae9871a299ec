-- GET of one page, with the Cookie header given after `--` (none if empty):
-- a page for a visitor, or for someone signed in.
function init(args)
  if args[1] and args[1] ~= "" then wrk.headers["Cookie"] = args[1] end
end

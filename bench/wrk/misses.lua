-- Every request a new input: a cache miss, one Shoutcloud call.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local counter = 0
local prefix
function init(args)
  prefix = id .. "-" .. os.time() .. "-" .. math.random(1, 1000000000)
end
function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"data":"miss-' .. prefix .. '-' .. counter .. '"}')
end

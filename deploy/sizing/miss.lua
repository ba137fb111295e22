-- A new input every request: each one is a cache miss and one call to the Shoutcloud server.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local count = 0
local salt = tostring(math.random(1, 1000000000)) .. tostring(os.time())

request = function()
  count = count + 1
  return wrk.format(nil, nil, nil, '{"data":"miss ' .. salt .. ' ' .. count .. ' the quick brown fox"}')
end

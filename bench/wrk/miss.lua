-- wrk script: every request a cache miss (a new input), POST /transform.
-- Each thread has its own id and counter, each run its own random tag.
local counter = 0
local tag = ""
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
  tag = tostring(math.random(1, 1e9)) .. "-" .. id
end

function request()
  counter = counter + 1
  return wrk.format("POST", "/transform", { ["Content-Type"] = "application/json" },
    '{"data":"miss ' .. tag .. ' ' .. counter .. '"}')
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("non-2xx %d, socket errors %d\n", e.status, e.connect + e.read + e.write + e.timeout))
  io.write("latency ms:")
  for _, p in ipairs({ 50, 90, 95, 98, 99, 99.5, 99.9 }) do
    io.write(string.format(" p%s %.1f", p, latency:percentile(p) / 1000))
  end
  io.write(string.format(" max %.1f\n", latency.max / 1000))
end

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

dofile(os.getenv("WRK_REPORT_LUA") or "bench/wrk/report.lua")

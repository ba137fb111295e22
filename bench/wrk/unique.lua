-- A new input on every request: "<prefix>-<thread>-<n> " padded with filler to WRK_CHARS
-- characters. Every ten requests, with WRK_MISS_EVERY=10, one new input and nine of the body in
-- WRK_BODY_FILE (the 90/10 mix). WRK_STOP_AFTER stops each thread after that many answers.
-- With WRK_FILLER_FILE (JSON string content, any Unicode), the head is padded with spaces to
-- WRK_CHARS bytes and the whole file follows it: Lua counts bytes, so only an ASCII head can be
-- cut to a known number of code points.
local prefix = assert(os.getenv("WRK_PREFIX"), "WRK_PREFIX unset")
local chars = tonumber(os.getenv("WRK_CHARS") or "0")
local missEvery = tonumber(os.getenv("WRK_MISS_EVERY") or "1")
local stopAfter = tonumber(os.getenv("WRK_STOP_AFTER") or "0")
local hotBody
if missEvery > 1 then
  local file = assert(io.open(assert(os.getenv("WRK_BODY_FILE"), "WRK_BODY_FILE unset"), "rb"))
  hotBody = file:read("*a")
  file:close()
end
local filler = string.rep("the quick brown fox jumps over the lazy dog ", math.ceil(chars / 44) + 1)
local fillerFile = os.getenv("WRK_FILLER_FILE")
if fillerFile then
  local file = assert(io.open(fillerFile, "rb"))
  filler = file:read("*a")
  file:close()
end

wrk.method = "POST"
wrk.path = "/transform"
wrk.headers["Content-Type"] = "application/json"

local threadCount = 0
function setup(thread)
  thread:set("tid", threadCount)
  threadCount = threadCount + 1
end

local n = 0
function request()
  n = n + 1
  if hotBody and n % missEvery ~= 0 then return wrk.format(nil, nil, nil, hotBody) end
  local head = prefix .. "-" .. tid .. "-" .. n .. " "
  local data = head
  if fillerFile then
    assert(#head <= chars, "WRK_CHARS shorter than the head")
    data = head .. string.rep(" ", chars - #head) .. filler
  elseif chars > #head then
    data = head .. filler:sub(1, chars - #head)
  end
  return wrk.format(nil, nil, nil, '{"data":"' .. data .. '"}')
end

-- A stopped thread still waits for -d to run out: the marker line tells bench/lib/load.mjs to
-- end wrk (SIGINT: wrk then reports as usual) once every thread has stopped.
if stopAfter > 0 then
  local answered = 0
  function response()
    answered = answered + 1
    if answered == stopAfter then
      io.write("WRK_THREAD_DONE\n")
      io.flush()
      wrk.thread:stop()
    end
  end
end

dofile(os.getenv("WRK_REPORT_LUA"))

-- A batch of new inputs on every request: POST /transform/batch with WRK_ITEMS items (100 by
-- default), each "<prefix>-<thread>-<n>-<i> " padded with filler to WRK_CHARS characters, so every
-- item is a cache miss and the body is about WRK_ITEMS x WRK_CHARS bytes. WRK_STOP_AFTER stops each
-- thread after that many answers.
local prefix = assert(os.getenv("WRK_PREFIX"), "WRK_PREFIX unset")
local items = tonumber(os.getenv("WRK_ITEMS") or "100")
local chars = tonumber(os.getenv("WRK_CHARS") or "0")
local stopAfter = tonumber(os.getenv("WRK_STOP_AFTER") or "0")
local filler = string.rep("the quick brown fox jumps over the lazy dog ", math.ceil(chars / 44) + 1)

wrk.method = "POST"
wrk.path = "/transform/batch"
wrk.headers["Content-Type"] = "application/json"

local threadCount = 0
function setup(thread)
  thread:set("tid", threadCount)
  threadCount = threadCount + 1
end

local n = 0
function request()
  n = n + 1
  local parts = {}
  for i = 1, items do
    local head = prefix .. "-" .. tid .. "-" .. n .. "-" .. i .. " "
    if chars > #head then head = head .. filler:sub(1, chars - #head) end
    parts[i] = '"' .. head .. '"'
  end
  return wrk.format(nil, nil, nil, '{"data":[' .. table.concat(parts, ",") .. ']}')
end

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

-- Shared by every script: one machine-readable line at the end of the run, latencies in
-- microseconds, read by bench/lib/load.mjs. wrk's `errors.status` counts answers >= 400.
--
-- wrk 4 corrects its latency histogram for coordinated omission before `done` sees it: with
-- `e` = run time / (answers per connection), every answer that took n >= 2e adds synthetic
-- samples at n - e, n - 2e, ... down to e, the waits of requests an open-loop client would have
-- queued behind it (wrk.c, `stats_correct`). p50/p90/p99 are those corrected figures, as wrk
-- prints them. `measured` undoes the correction (needs WRK_CONNECTIONS, the -c given to wrk):
-- the latencies the answers really had, one sample per answer. A few slow answers among many
-- fast ones (a slow upstream try, a GC pause) move the corrected tail far more than the measured.

local function measured(latency, summary)
  local connections = tonumber(os.getenv("WRK_CONNECTIONS") or "")
  local values, counts = {}, {}
  for i = 1, #latency do
    local value, count = latency(i)
    values[i], counts[value] = value, count
  end
  local perConnection = connections and math.floor(summary.requests / connections) or 0
  if perConnection > 0 then
    local e = math.floor(summary.duration / perConnection)
    local added = {}
    -- From the top down: a value's own count is what is left once the synthetic samples of every
    -- larger value are taken off, and only its own samples add synthetic ones below it.
    for i = #values, 1, -1 do
      local value = values[i]
      local own = counts[value] - (added[value] or 0)
      counts[value] = own
      if value >= 2 * e and own > 0 then
        local m = value - e
        while m > e do
          added[m] = (added[m] or 0) + own
          m = m - e
        end
      end
    end
  end
  local total = 0
  for _, value in ipairs(values) do total = total + counts[value] end
  local function percentile(p)
    local rank = math.floor(p / 100 * total + 1)
    local seen = 0
    for _, value in ipairs(values) do
      seen = seen + counts[value]
      if seen >= rank then return value end
    end
    return values[#values] or 0
  end
  return percentile, total, perConnection > 0
end

function done(summary, latency, requests)
  local percentile, samples, undone = measured(latency, summary)
  io.write(string.format(
    'WRK_JSON {"requests":%d,"durationUs":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f,"measured":{"undone":%s,"samples":%d,"p50":%d,"p90":%d,"p99":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    tostring(undone), samples, percentile(50), percentile(90), percentile(99)))
end

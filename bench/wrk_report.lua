-- wrk_report.lua: the request wrk sends and the JSON line it prints when done (bench/server_bench.sh).
--   env WRK_PATH     the path (default /healthz)
--   env WRK_METHOD   GET (default) or POST
--   env WRK_TOKENS   a file of bearer tokens, one per line: each request takes the next one (rotating)
-- done() prints one line: {"requests","duration_us","rps","p50_us","p99_us","mean_us","errors","non2xx"}
local path = os.getenv("WRK_PATH") or "/healthz"
local method = os.getenv("WRK_METHOD") or "GET"
local tokens = {}
local file = os.getenv("WRK_TOKENS")
if file and file ~= "" then
  for line in io.lines(file) do
    if line ~= "" then tokens[#tokens + 1] = line end
  end
end
local i = 0
local fixed = nil -- built in init(): wrk adds the Host header only after the script is loaded

function setup(thread)
  thread:set("offset", math.random(1, 1000000))
end

function init(args)
  if #tokens == 0 then fixed = wrk.format(method, path) end
end

function request()
  if fixed then return fixed end
  i = i + 1
  local t = tokens[(i + (offset or 0)) % #tokens + 1]
  return wrk.format(method, path, { ["Authorization"] = "Bearer " .. t })
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format('{"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,' ..
                         '"errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, summary.requests / secs, latency:percentile(50), latency:percentile(99),
    latency.mean, e.connect + e.read + e.write + e.timeout, e.status))
end

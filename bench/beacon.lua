-- wrk script: POST beacons (or the same request to the floor view).
-- Arguments: <path> <run number> <file with one signed reference per line>.
-- Every request is a new visitor (its own X-Forwarded-For) except 20%, which
-- repeat a recent (visitor, object) pair, so djinsight sees repeat views too.

local path, run, refs = "/", 0, {}
local counter, ring, ring_size, ring_count = 0, {}, 1000, 0
local agents = {
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
}
local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  path, run = args[1], tonumber(args[2])
  for line in io.lines(args[3]) do
    if #line > 0 then refs[#refs + 1] = line end
  end
  math.randomseed(run * 7919 + (tid or 0) * 104729 + 1)
end

local function address(n)
  local f = math.floor
  return string.format("%d.%d.%d.%d", 11 + f(n / 16777216) % 200, f(n / 65536) % 256,
    f(n / 256) % 256, n % 256)
end

function request()
  local ip, ref, agent
  if ring_count > 0 and math.random() < 0.2 then
    local seen = ring[math.random(ring_count)]
    ip, ref, agent = seen[1], seen[2], seen[3]
  else
    counter = counter + 1
    -- 2^22 fresh visitors per thread and run, disjoint across threads and runs
    ip = address((run * 4 + (tid or 0)) * 4194304 + counter)
    ref = refs[math.random(#refs)]
    agent = agents[counter % #agents + 1]
    ring[(counter - 1) % ring_size + 1] = {ip, ref, agent}
    if ring_count < ring_size then ring_count = ring_count + 1 end
  end
  local body = '{"ref":"' .. ref .. '","url":"/a/"}'
  return wrk.format("POST", path, {
    ["Content-Type"] = "text/plain;charset=UTF-8",
    ["X-Forwarded-For"] = ip,
    ["User-Agent"] = agent,
  }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "status_errors": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end

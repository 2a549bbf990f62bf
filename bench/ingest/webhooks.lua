-- wrk script: exactly N signed Shopify deliveries, each with its own X-Shopify-Webhook-Id.
--
-- Environment (set by bench/ingest/run.py):
--   BENCH_DATA     file of pre-signed bodies, one per line: topic <TAB> signature <TAB> raw body
--   BENCH_N        deliveries in total, split across wrk threads
--   BENCH_THREADS  wrk's -t (to split N)
--   BENCH_RUN      prefix that makes delivery ids unique across runs
--   BENCH_DOMAIN   X-Shopify-Shop-Domain
--   BENCH_RATE     deliveries per second in total; 0 = as fast as the server answers (closed loop)
--
-- Fixed N without overshoot: delay() hands out one ticket per request; once a thread's quota is
-- handed out its connections park (a one-hour delay), and the thread stops itself when the last
-- answer arrives. Every request sent is therefore answered and counted, so the runner can compare
-- the 200s with the rows stored. Each thread prints "bench-thread-done <id>" so the runner can end
-- wrk at once instead of waiting for -d.
--
-- With BENCH_RATE, ticket k of a thread is due at start + k / rate (a fixed schedule, not a pause
-- after each answer), so the server sees a steady arrival rate while connections are free.

local threads = {}
local next_id = 1

function setup(thread)
   local total = tonumber(os.getenv("BENCH_N"))
   local count = tonumber(os.getenv("BENCH_THREADS"))
   local quota = math.floor(total / count)
   if next_id <= total % count then
      quota = quota + 1
   end
   thread:set("tid", next_id)
   thread:set("quota", quota)
   table.insert(threads, thread)
   next_id = next_id + 1
end

local prefixes = {}
local suffixes = {}
local bodies = 0
local run = os.getenv("BENCH_RUN") or "run"
local issued = 0      -- tickets handed out by delay()
local sent = 0        -- requests built
local answered = 0
non200 = 0
answered_total = 0

function init(args)
   local host = wrk.host .. ":" .. wrk.port
   local domain = os.getenv("BENCH_DOMAIN") or "o2c-bench.myshopify.com"
   for line in io.lines(os.getenv("BENCH_DATA")) do
      local topic, signature, body = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
      bodies = bodies + 1
      prefixes[bodies] = "POST /webhooks/shopify/ HTTP/1.1\r\n"
         .. "Host: " .. host .. "\r\n"
         .. "User-Agent: Shopify-Captain-Hook\r\n"
         .. "Accept: */*\r\n"
         .. "Content-Type: application/json\r\n"
         .. "Content-Length: " .. #body .. "\r\n"
         .. "X-Shopify-Topic: " .. topic .. "\r\n"
         .. "X-Shopify-Hmac-Sha256: " .. signature .. "\r\n"
         .. "X-Shopify-Shop-Domain: " .. domain .. "\r\n"
         .. "X-Shopify-Api-Version: 2026-10\r\n"
         .. "X-Shopify-Triggered-At: 2026-11-20T12:00:00.000000000Z\r\n"
         .. "X-Shopify-Webhook-Id: "
      suffixes[bodies] = "\r\n\r\n" .. body
   end
end

local rate = (tonumber(os.getenv("BENCH_RATE") or "0") or 0) / tonumber(os.getenv("BENCH_THREADS"))
local now_ms = nil
if rate > 0 then
   local ffi = require("ffi")
   ffi.cdef([[
      typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
      int clock_gettime(int clock_id, bench_timespec *tp);
   ]])
   local ts = ffi.new("bench_timespec")
   now_ms = function()
      ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
      return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1000000
   end
end
local started_ms = nil

function delay()
   if issued >= quota then
      return 3600000
   end
   issued = issued + 1
   if now_ms then
      local now = now_ms()
      started_ms = started_ms or now
      local due = started_ms + (issued - 1) * 1000 / rate
      if due > now then
         return math.floor(due - now + 0.5)
      end
   end
   return 0
end

function request()
   sent = sent + 1
   local i = (sent + tid * 7919) % bodies + 1
   return prefixes[i] .. run .. "-" .. tid .. "-" .. sent .. suffixes[i]
end

function response(status, headers, body)
   answered = answered + 1
   answered_total = answered
   if status ~= 200 then
      non200 = non200 + 1
   end
   if answered >= quota then
      io.write("bench-thread-done " .. tid .. "\n")
      io.stdout:flush()
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local answers, bad = 0, 0
   for _, thread in ipairs(threads) do
      answers = answers + thread:get("answered_total")
      bad = bad + thread:get("non200")
   end
   local e = summary.errors
   io.write(string.format(
      'bench-result {"duration_us": %d, "requests": %d, "answers": %d, "non200": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d, "mean": %.1f}}\n',
      summary.duration, summary.requests, answers, bad,
      e.connect, e.read, e.write, e.timeout, e.status,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean))
end

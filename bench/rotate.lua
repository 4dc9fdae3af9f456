-- rotate.lua - wrk script for bench/run: requests that each need a fresh
-- (test id, sequence number) pair, spread over many tests.
--
-- Environment:
--   BENCH_MODE    echo (POST .../echo with {"seq","client_sent_at"}) or
--                 download (GET .../download/<seq>)
--   BENCH_IDS     file with one test id per line
--   BENCH_PER     sequence numbers per test (its count / packets)
--   BENCH_THREADS wrk's -t (each thread owns every BENCH_THREADS-th test)
--   BENCH_TOKEN   the bearer token sent on every request
--   BENCH_PREFIX  put before the path ("/bench/return200" for the nginx
--                 comparison, which answers without the pool)
-- wrk threads have separate Lua states, so a thread only ever uses its own
-- tests and a sequence number is never asked for twice.

local counter = 0

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
end

function init(args)
   mode = os.getenv("BENCH_MODE") or "echo"
   per = tonumber(os.getenv("BENCH_PER"))
   nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
   prefix = os.getenv("BENCH_PREFIX") or ""
   mine = {}
   local i = 0
   for line in io.lines(os.getenv("BENCH_IDS")) do
      if i % nthreads == tid then
         mine[#mine + 1] = line
      end
      i = i + 1
   end
   idx = 1
   seq = 0
   stamp = os.time() * 1000000
   headers = {
      ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
      ["Host"] = "localhost",
   }
   if mode == "echo" then
      headers["Content-Type"] = "application/json"
   end
end

function request()
   if seq >= per then
      idx = idx + 1
      seq = 0
   end
   -- Past the last test the ids repeat: those answers are 409s, which
   -- wrk counts as non-2xx and bench/run reports as a failed run.
   local id = mine[(idx - 1) % #mine + 1]
   local s = seq
   seq = seq + 1
   if mode == "echo" then
      stamp = stamp + 1
      local body = string.format('{"seq":%d,"client_sent_at":%d}', s, stamp)
      -- wrk.format stores Content-Length in the table it is given.
      headers["Content-Length"] = tostring(#body)
      return wrk.format("POST",
         prefix .. "/api/v1/ping-tests/" .. id .. "/echo", headers, body)
   end
   return wrk.format("GET",
      prefix .. "/api/v1/throughput-tests/" .. id .. "/download/" ..
         string.format("%d", s),
      headers)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d duration_us=%d bytes=%d non2xx=%d connect=%d " ..
      "read=%d write=%d timeout=%d p50_us=%d p99_us=%d mean_us=%.0f\n",
      summary.requests, summary.duration, summary.bytes, e.status,
      e.connect, e.read, e.write, e.timeout,
      latency:percentile(50), latency:percentile(99), latency.mean))
end

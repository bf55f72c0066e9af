-- wrk script for bench/run.sh: one fixed request per run, described by the
-- environment, and a machine-readable summary line at the end.
--
--   BENCH_METHOD  GET or POST (default GET)
--   BENCH_BODY    request body (form-encoded), sent when set
--   BENCH_AUTH    value of the Authorization header, sent when set
--
-- done() prints one line that run.sh parses:
--   BENCH_RESULT requests=<n> duration_us=<n> rps=<x> p50_us=<n> p99_us=<n>
--                max_us=<n> status_errors=<n> socket_errors=<n>
-- status_errors counts responses >= 400 (wrk's "Non-2xx or 3xx responses");
-- socket_errors counts connect/read/write errors and timeouts.

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
local auth = os.getenv("BENCH_AUTH")

wrk.method = method
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
if auth and auth ~= "" then
  wrk.headers["Authorization"] = auth
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d status_errors=%d socket_errors=%d\n",
    summary.requests, summary.duration, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end

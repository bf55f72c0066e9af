-- wrk script for bench/run.sh: the browser-flow measurements, where every
-- request carries a single-use value and every answer is checked.
--
--   BENCH_FLOW   authorize  GET the authorization URL given to wrk, with the
--                           session cookie (single sign-on): each answer must
--                           be a 303 to BENCH_REDIRECT_URI with a code, which
--                           is appended to this thread's file (if BENCH_FILES).
--                code       POST grant_type=authorization_code, one code per
--                           request, read from this thread's file; each answer
--                           must be a 200 with an access, ID and refresh token.
--                refresh    POST grant_type=refresh_token: a queue per thread,
--                           filled from this thread's file; request() takes a
--                           token, response() puts back the rotated one from
--                           the answer, so no token is ever sent twice.
--                assertion  POST grant_type=client_credentials with a client
--                           assertion (private_key_jwt, RFC 7523), one per
--                           request, read from this thread's file (made by
--                           bench/assertions.py); each answer must be a 200
--                           with an access token.
--   BENCH_FILES        thread n (from 1) uses the file "$BENCH_FILES-n"
--   BENCH_COOKIE       Cookie header (authorize)
--   BENCH_AUTH         Authorization header (code, refresh)
--   BENCH_REDIRECT_URI the client's redirect URI (authorize, code)
--
-- A thread whose codes or tokens run out stops (and says so): then the run
-- measured less than its duration, and run.sh counts it as a failure.
--
-- done() prints the line run.sh parses, as request.lua does, with more fields:
--   BENCH_RESULT requests=<n> ... status_errors=<n> socket_errors=<n>
--                bad=<n> exhausted=<threads> left=<n> written=<n>
-- bad: answers that wrk does not count as errors (status < 400) but are not
-- what the flow expects (another status, no code, no token). left: codes or
-- tokens still unused at the end; written: codes authorize wrote to files.

local flow = os.getenv("BENCH_FLOW") or "authorize"
local files = os.getenv("BENCH_FILES")
local cookie = os.getenv("BENCH_COOKIE")
local auth = os.getenv("BENCH_AUTH")
local redirect_uri = os.getenv("BENCH_REDIRECT_URI") or ""

local function form_escape(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- ------------------------------------------------------------- main state

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local bad, exhausted, left, written = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("bad") or 0)
    exhausted = exhausted + (thread:get("exhausted") or 0)
    left = left + (thread:get("left") or 0)
    written = written + (thread:get("written") or 0)
  end
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d status_errors=%d socket_errors=%d bad=%d exhausted=%d left=%d written=%d\n",
    summary.requests, summary.duration, summary.requests / seconds,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout,
    bad, exhausted, left, written))
end

-- ------------------------------------------------------------- thread state

bad = 0
exhausted = 0
left = 0
written = 0

local queue, head, tail = {}, 1, 0
local out, unflushed = nil, 0
local headers = {}
local method = "POST"

local function push(value)
  tail = tail + 1
  queue[tail] = value
  left = tail - head + 1
end

local function pop()
  if head > tail then return nil end
  local value = queue[head]
  queue[head] = nil
  head = head + 1
  left = tail - head + 1
  return value
end

-- Nothing left to send: stop this thread. wrk still wants a request; it
-- is written but its answer is never read, as the loop stops first.
local function stop()
  exhausted = 1
  wrk.thread:stop()
  return wrk.format("GET", "/readyz")
end

function init(args)
  local file = files and (files .. "-" .. thread_id)
  if flow == "authorize" then
    method = "GET"
    if cookie and cookie ~= "" then headers["Cookie"] = cookie end
    if file then
      out = assert(io.open(file, "w"))
      out:setvbuf("full", 1048576)
    end
  elseif flow == "code" or flow == "refresh" or flow == "assertion" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    if auth and auth ~= "" then headers["Authorization"] = auth end
    for line in assert(io.open(assert(file, "BENCH_FILES is required"), "r")):lines() do
      if line ~= "" then push(line) end
    end
  else
    error("unknown BENCH_FLOW " .. flow)
  end
end

local redirect_prefix = redirect_uri .. "?"
local code_body = "grant_type=authorization_code&redirect_uri=" .. form_escape(redirect_uri) .. "&code="
-- A compact JWS is base64url and dots: nothing in it needs escaping.
local assertion_body = "grant_type=client_credentials&client_assertion_type="
  .. form_escape("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") .. "&client_assertion="

function request()
  if flow == "authorize" then
    return wrk.format("GET", nil, headers)
  end
  local value = pop()
  if not value then return stop() end
  if flow == "code" then
    return wrk.format("POST", nil, headers, code_body .. form_escape(value))
  end
  if flow == "assertion" then
    return wrk.format("POST", nil, headers, assertion_body .. value)
  end
  return wrk.format("POST", nil, headers, "grant_type=refresh_token&refresh_token=" .. form_escape(value))
end

local function header(headers, name)
  return headers[name] or headers[name:lower()] or headers[name:upper()]
end

function response(status, response_headers, body)
  if flow == "authorize" then
    local location = header(response_headers, "Location") or ""
    local code = status == 303 and location:sub(1, #redirect_prefix) == redirect_prefix
      and location:match("[?&]code=([^&]+)")
    if not code then
      if status < 400 then bad = bad + 1 end
      return
    end
    if out then
      -- Whole lines only: flush well before the buffer could fill.
      -- (wrk never closes a thread's state: codes after the last flush
      -- are lost, and not counted.)
      out:write(code, "\n")
      unflushed = unflushed + 1
      if unflushed >= 100 then
        out:flush()
        written = written + unflushed
        unflushed = 0
      end
    end
  elseif flow == "assertion" then
    if status ~= 200 or not body:find('"access_token"', 1, true) then
      if status < 400 then bad = bad + 1 end
    end
  elseif flow == "code" then
    if status ~= 200 or not body:find('"access_token"', 1, true) or not body:find('"id_token"', 1, true)
      or not body:find('"refresh_token"', 1, true) then
      if status < 400 then bad = bad + 1 end
    end
  else
    local token = status == 200 and body:match('"refresh_token"%s*:%s*"([^"]+)"')
    if token then
      push(token)
    elseif status < 400 then
      bad = bad + 1
    end
  end
end

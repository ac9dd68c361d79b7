-- wrk script for bench/lookup.sh: GET one path, or a random 学籍号 per request, and count
-- the responses that were not 200 (a benchmark of 404s is worthless).
--
-- Environment:
--   BENCH_PATH    fixed path, e.g. /healthz
--   BENCH_IDS     file with one 学籍号 a line; each request GETs BENCH_PREFIX .. a random one
--   BENCH_PREFIX  e.g. /api/v1/students/
--   BENCH_SUFFIX  appended after the id, e.g. ?purpose=transfer-verification
--   BENCH_TOKEN   bearer token; sent as Authorization when set
--   BENCH_BODY    file whose content is POSTed as JSON to BENCH_PATH (instead of a GET)
-- Both modes build each request in request(), so the client does the same work per request.

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

local ids = {}
local prefix = os.getenv("BENCH_PREFIX") or ""
local suffix = os.getenv("BENCH_SUFFIX") or ""
local path = os.getenv("BENCH_PATH")
local body = nil

function init(args)
   local file = os.getenv("BENCH_IDS")
   if file and file ~= "" then
      for line in io.lines(file) do
         if line ~= "" then ids[#ids + 1] = line end
      end
      if #ids == 0 then error("no ids in " .. file) end
   elseif not path then
      error("set BENCH_PATH or BENCH_IDS")
   end
   local body_file = os.getenv("BENCH_BODY")
   if body_file and body_file ~= "" then
      local f = assert(io.open(body_file, "rb"))
      body = f:read("*a")
      f:close()
      wrk.headers["Content-Type"] = "application/json"
   end
   local token = os.getenv("BENCH_TOKEN")
   if token and token ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. token
   end
   math.randomseed(1000 + id)
   -- Globals, read back by done() through thread:get.
   responses = 0
   non200 = 0
   first_bad = 0
end

function request()
   if #ids > 0 then
      return wrk.format("GET", prefix .. ids[math.random(#ids)] .. suffix)
   end
   if body then
      return wrk.format("POST", path, nil, body)
   end
   return wrk.format("GET", path)
end

function response(status, headers, body)
   responses = responses + 1
   if status ~= 200 then
      non200 = non200 + 1
      if first_bad == 0 then first_bad = status end
   end
end

function done(summary, latency, requests)
   local total, bad, first = 0, 0, 0
   for _, t in ipairs(threads) do
      total = total + t:get("responses")
      bad = bad + t:get("non200")
      if first == 0 then first = t:get("first_bad") end
   end
   io.write(string.format("responses: %d, non-200: %d, first non-200 status: %d\n", total, bad, first))
end

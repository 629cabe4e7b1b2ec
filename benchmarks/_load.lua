-- wrk script for benchmarks/_load.py: a token per request, every answer checked.
--
-- wrk -t N -c N -s _load.lua URL -- FILE QUOTA MODE N START
-- FILE: lines "<expected status> <v|f> <token>"; thread i takes lines i, i+N, i+2N...
-- and cycles through them, from its START-th line on. "f" lines are forged on the way out: 8 characters in the
-- middle of the signature are replaced by a per-request counter, so every forged token
-- sent is a new one. MODE "open": the view ignores tokens, every answer must be 200.
-- Each thread prints DONE after QUOTA answers and goes on, so that the load stays the
-- same until the last thread is done (a stopped thread's connection, opened again after
-- a sync worker closed it, would hold that worker until it times out); _load.py then
-- ends wrk with SIGINT. The rate: QUOTA answers per thread over the time from the first
-- request to the last thread's QUOTA-th answer. Every answer is checked, extra ones too.
-- One connection per thread, so each answer belongs to the request sent last, and wrk
-- calls request() again after a reconnect.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *now);
]])
local CLOCK_MONOTONIC = 1
local now_spec = ffi.new("bench_timespec")

local function now()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, now_spec)
   return tonumber(now_spec.tv_sec) + tonumber(now_spec.tv_nsec) * 1e-9
end

local threads = {}
local made = 0

function setup(thread)
   thread:set("id", made)
   made = made + 1
   table.insert(threads, thread)
end

function init(args)
   local file, quota, mode = args[1], tonumber(args[2]), args[3]
   local nthreads, start = tonumber(args[4]), tonumber(args[5])
   limit = quota
   open = mode == "open"
   entries = {}
   local index = 0
   for line in io.lines(file) do
      if index % nthreads == id then
         local expect, kind, token = line:match("^(%d+) (%a) (%S+)$")
         local entry = { expect = tonumber(expect), token = token }
         if kind == "f" then
            local at = #token - 200
            entry.head = token:sub(1, at)
            entry.tail = token:sub(at + 9)
         end
         table.insert(entries, entry)
      end
      index = index + 1
   end
   position = start % #entries
   forged = 0
   answered = 0
   wrong = 0
   statuses = {}
   first_wrong = ""
   path = wrk.path
   started = 0
   finished = 0
end

function request()
   if started == 0 then
      started = now()
   end
   position = position % #entries + 1
   local entry = entries[position]
   local token = entry.token
   if entry.head then
      forged = forged + 1
      token = entry.head .. string.format("%x%07x", id % 16, forged % 0x10000000) .. entry.tail
   end
   expected = open and 200 or entry.expect
   return wrk.format("GET", path, {
      ["Authorization"] = "Bearer " .. token,
      ["Cookie"] = "cognito_access_token=" .. token,
   })
end

function response(status, headers, body)
   answered = answered + 1
   if answered == limit then
      finished = now()
      io.write("DONE\n")
      io.stdout:flush()
   end
   statuses[status] = (statuses[status] or 0) + 1
   if status ~= expected or (status == 200 and body ~= "ok") then
      wrong = wrong + 1
      if first_wrong == "" then
         -- Only characters that need no escaping in the JSON line done() prints.
         first_wrong = string.format("expected %d, got %d: %s", expected, status, body:sub(1, 200))
            :gsub("[^%w %.:,_%-]", "?")
      end
   end
end

function done(summary, latency, requests)
   local answers, checked, wrong_total, first = 0, 0, 0, ""
   local first_request, last_answer = math.huge, 0
   local counts = {}
   for _, thread in ipairs(threads) do
      first_request = math.min(first_request, thread:get("started"))
      last_answer = math.max(last_answer, thread:get("finished"))
      answers = answers + math.min(thread:get("answered"), thread:get("limit"))
      checked = checked + thread:get("answered")
      wrong_total = wrong_total + thread:get("wrong")
      if first == "" then
         first = thread:get("first_wrong")
      end
      for status, count in pairs(thread:get("statuses")) do
         counts[status] = (counts[status] or 0) + count
      end
   end
   local parts = {}
   for status, count in pairs(counts) do
      table.insert(parts, string.format('"%d": %d', status, count))
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH {"answers": %d, "checked": %d, "wrong": %d, "first_wrong": "%s", "statuses": {%s}, '
         .. '"seconds": %.6f, "p50_us": %d, "p99_us": %d, '
         .. '"socket_errors": %d}\n',
      answers, checked, wrong_total, first, table.concat(parts, ", "),
      last_answer - first_request, latency:percentile(50), latency:percentile(99),
      errors.connect + errors.read + errors.write + errors.timeout
   ))
end

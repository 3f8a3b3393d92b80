-- wrk script of bench/scale-out.sh: POST /v1/verify, one fresh nonce per request.
-- Environment: SCALE_EVIDENCE (a file holding the evidence as base64), SCALE_NONCES (a file of
-- nonces from GET /v1/nonce, one a line), SCALE_THREADS (wrk -t). Thread i takes the lines
-- i, i+T, i+2T... so no nonce is sent twice. When a thread has used all its nonces it stops.
-- done() prints one "SCALE ..." line that the script parses.

local threads = {}
local counter = 0

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    local nthreads = tonumber(os.getenv("SCALE_THREADS") or "1")
    local f = assert(io.open(os.getenv("SCALE_EVIDENCE"), "r"))
    local evidence = f:read("*l")
    f:close()
    prefix = '{"evidence":"' .. evidence .. '","nonce":"'
    nonces = {}
    local i = 0
    for line in io.lines(os.getenv("SCALE_NONCES")) do
        if i % nthreads == tid and line ~= "" then
            table.insert(nonces, line)
        end
        i = i + 1
    end
    next_nonce = 1
    ok2xx = 0
    replayed = 0
    other = 0
    exhausted = 0
    wrk.method = "POST"
    wrk.path = "/v1/verify"
    wrk.headers["Content-Type"] = "application/json"
end

function request()
    local n = nonces[next_nonce]
    if n == nil then
        exhausted = exhausted + 1
        wrk.thread:stop()
        n = "exhausted"
    end
    next_nonce = next_nonce + 1
    return wrk.format(nil, nil, nil, prefix .. n .. '"}')
end

function response(status, headers, body)
    if status >= 200 and status < 300 then
        ok2xx = ok2xx + 1
    elseif status == 409 then
        replayed = replayed + 1
    else
        other = other + 1
    end
end

function done(summary, latency, requests)
    local ok, rep, oth, exh, sent = 0, 0, 0, 0, 0
    for _, t in ipairs(threads) do
        ok = ok + t:get("ok2xx")
        rep = rep + t:get("replayed")
        oth = oth + t:get("other")
        exh = exh + t:get("exhausted")
        sent = sent + t:get("next_nonce") - 1
    end
    local e = summary.errors
    io.write(string.format(
        "SCALE requests=%d duration_us=%d ok=%d replayed=%d other_status=%d " ..
        "connect=%d read=%d write=%d timeout=%d exhausted=%d " ..
        "p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
        summary.requests, summary.duration, ok, rep, oth, e.connect, e.read, e.write,
        e.timeout, exh, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max))
end

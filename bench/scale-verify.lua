-- wrk script of bench/scale-out.sh: POST /v1/verify, one fresh nonce per request.
-- Environment: SCALE_EVIDENCE (a file holding the evidence as base64), SCALE_NONCES (a file of
-- nonces from GET /v1/nonce, one a line), SCALE_THREADS (wrk -t). Thread i takes the lines
-- i, i+T, i+2T... so no nonce is sent twice. When a thread has used all its nonces it stops.
-- done() prints one "SCALE ..." line that the script parses.
-- An answer counts as a verification (ok) only when it is the one docs/operations.md says it
-- is: 200, contraindicated by NONCE_REPORT_DATA_MISMATCH alone (the only error: the whole
-- verification ran and passed) and a signed token. Any other answer (another error, such as
-- CERT_UNTRUSTED_ROOT from an instance with another --trust-root) counts as other.

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
    verified = 0
    replayed = 0
    other = 0
    exhausted = 0
    unused = 0
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

local MISMATCH = '"code":"NONCE_REPORT_DATA_MISMATCH"'
local ERROR = '"severity":"error"'
local TOKEN = '"token":"'
local INVALID = '"code":"NONCE_INVALID"'

-- the expected answer: the mismatch, exactly one error, a token (plain finds: cheap)
local function expected(body)
    if body == nil or not string.find(body, MISMATCH, 1, true) or
        not string.find(body, TOKEN, 1, true) then
        return false
    end
    local _, e = string.find(body, ERROR, 1, true)
    return e ~= nil and string.find(body, ERROR, e + 1, true) == nil
end

function response(status, headers, body)
    if status == 200 and expected(body) then
        verified = verified + 1
    elseif status == 409 then
        replayed = replayed + 1
    elseif status == 400 and unused < exhausted and body ~= nil and
        string.find(body, INVALID, 1, true) then
        -- the answer to a request sent once the nonces ran out (nonce "exhausted")
        unused = unused + 1
    else
        other = other + 1
    end
end

function done(summary, latency, requests)
    local ok, rep, oth, exh, unu, sent = 0, 0, 0, 0, 0, 0
    for _, t in ipairs(threads) do
        ok = ok + t:get("verified")
        rep = rep + t:get("replayed")
        oth = oth + t:get("other")
        exh = exh + t:get("exhausted")
        unu = unu + t:get("unused")
        sent = sent + t:get("next_nonce") - 1
    end
    local e = summary.errors
    io.write(string.format(
        "SCALE requests=%d duration_us=%d ok=%d replayed=%d other_status=%d " ..
        "connect=%d read=%d write=%d timeout=%d exhausted=%d unused=%d " ..
        "p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
        summary.requests, summary.duration, ok, rep, oth, e.connect, e.read, e.write,
        e.timeout, exh, unu, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max))
end

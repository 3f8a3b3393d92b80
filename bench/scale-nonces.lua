-- wrk script of bench/scale-out.sh: fetch SCALE_COUNT nonces (GET /v1/nonce) into
-- SCALE_OUT.<thread> files, one a line; each thread stops after its share.
local counter = 0
function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
end

function init(args)
    local nthreads = tonumber(os.getenv("SCALE_THREADS") or "1")
    quota = math.ceil(tonumber(os.getenv("SCALE_COUNT")) / nthreads)
    got = 0
    out = assert(io.open(os.getenv("SCALE_OUT") .. "." .. tid, "w"))
    out:setvbuf("line")
    wrk.path = "/v1/nonce"
end

function response(status, headers, body)
    local n = body:match('"nonce":"([A-Za-z0-9_-]+)"')
    if status == 200 and n ~= nil and got < quota then
        out:write(n, "\n")
        got = got + 1
        if got >= quota then
            out:flush()
            wrk.thread:stop()
        end
    end
end

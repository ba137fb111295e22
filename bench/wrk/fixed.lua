-- One body on every request (a cache hit once warmed). The body comes from the file named by
-- WRK_BODY_FILE and is set before wrk builds its request, so wrk sends it as a static request:
-- no Lua runs per request and the load generator stays far above the targets' speed.
local file = assert(io.open(assert(os.getenv("WRK_BODY_FILE"), "WRK_BODY_FILE unset"), "rb"))
wrk.method = "POST"
wrk.path = "/transform"
wrk.headers["Content-Type"] = "application/json"
wrk.body = file:read("*a")
file:close()

dofile(os.getenv("WRK_REPORT_LUA"))

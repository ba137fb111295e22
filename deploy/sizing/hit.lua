-- One input over and over: every request after the first is a cache hit.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"data":"the quick brown fox jumps over the lazy dog"}'

-- wrk script: GET /api/v1/sessions/bench with a bearer token (TOKEN): the HTTP layer, JWT check
-- and session store, without generation or a database query.
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

-- wrk script: POST /api/v1/query with a bearer token (TOKEN) and a question (QUESTION).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"query": "' .. (os.getenv("QUESTION") or "How many artists are there?") .. '"}'

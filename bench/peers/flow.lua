-- The scenario benchmark's wrk side (bench/scenario_vs_peers.py): the same 4-request user flow as
-- bench/scenario_driver.cpp. wrk's script API has one Lua state per thread and does not say which
-- connection a request goes out on, so a "user" here is the thread: the flow's steps follow each
-- other across the thread's connections and the session cookie is the last one the thread saw.
-- That is as close to a user flow as wrk's API allows.
local step = 0
local cookie = nil

local login = wrk.format("POST", "/login",
  { ["Content-Type"] = "application/x-www-form-urlencoded" }, "user=bench&password=secret")
local list = wrk.format("GET", "/api/messages")
local list_query = wrk.format("GET", "/api/messages?limit=5")

request = function()
  step = step % 4 + 1
  if step == 1 then return login end
  if step == 2 then return list end
  if step == 3 then
    local headers = { ["Content-Type"] = "application/json" }
    if cookie then headers["Cookie"] = cookie end
    return wrk.format("POST", "/api/messages", headers, '{"message":"hello"}')
  end
  return list_query
end

response = function(status, headers, body)
  local set = headers["Set-Cookie"]
  if set then cookie = set:match("^[^;]+") end
end

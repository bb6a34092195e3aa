-- webhook.lua: POST every state change as JSON to the URL in the option
-- webhook_url (set it in init.lua: berth.set("webhook_url", "http://...")).
-- Body: {"event": "state", "instance": ..., "host": ..., "backend": ...,
-- "state": ..., "detail": ..., "ts_ms": ...}.  Events arrive while berth
-- runs its event loop: the dashboard, the shell, or a script waiting in
-- berth.sleep / inst:wait.  Also adds `webhook-test`, which posts one
-- test event and prints the HTTP status.
local function post(ev)
  local url = berth.option("webhook_url")
  if url == "" then return nil, "webhook_url is not set" end
  local body = berth.json.encode {
    event = ev.type, instance = ev.instance, host = ev.host, backend = ev.backend,
    state = ev.state, detail = ev.detail, ts_ms = ev.ts_ms,
  }
  return berth.http_post(url, body, "application/json")
end

if berth.option("webhook_url") ~= "" then
  berth.on("state", function(ev)
    local status, err = post(ev)
    if not status then error("webhook: " .. err, 0) end
    if status >= 300 then error("webhook: HTTP status " .. status, 0) end
  end)
end

berth.command {
  name = "webhook-test",
  summary = "post a test event to webhook_url and show the HTTP status",
  run = function(args, ctx)
    local status, err = post { type = "test", detail = "berth webhook-test", ts_ms = os.time() * 1000 }
    if not status then return nil, err end
    ctx.print("HTTP " .. status)
    return status < 300 and 0 or 1
  end,
}

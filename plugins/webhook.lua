-- webhook.lua: POST every state change as JSON to the URL in the option
-- webhook_url (set it in init.lua: berth.set("webhook_url", "http://...")).
-- Body: {"event": "state", "instance": ..., "host": ..., "backend": ...,
-- "state": ..., "detail": ..., "ts_ms": ...}.  Events arrive while berth
-- runs its event loop: the dashboard, the shell, or a script waiting in
-- berth.sleep / inst:wait.  The POSTs are queued (berth.http_post_async):
-- a slow or dead endpoint never holds up the event loop; POSTs that failed
-- or were dropped are reported at the next event.  Also adds
-- `webhook-test`, which posts one test event, waits for the answer and
-- prints the HTTP status.
local function body_of(ev)
  return berth.json.encode {
    event = ev.type, instance = ev.instance, host = ev.host, backend = ev.backend,
    state = ev.state, detail = ev.detail, ts_ms = ev.ts_ms,
  }
end

if berth.option("webhook_url") ~= "" then
  local reported = 0   -- failed + dropped POSTs already reported
  berth.on("state", function(ev)
    local url = berth.option("webhook_url")
    if url == "" then return end
    local ok, err = berth.http_post_async(url, body_of(ev), "application/json")
    local q = berth.http_queue()
    local lost = q.failed + q.dropped
    if lost > reported then
      local n = lost - reported
      reported = lost
      error(string.format("webhook: %d POST%s failed or dropped (last: %s)", n,
        n == 1 and "" or "s", err or q.last_error or "queue full"), 0)
    end
    if not ok then error("webhook: " .. err, 0) end
  end)
end

berth.command {
  name = "webhook-test",
  summary = "post a test event to webhook_url and show the HTTP status",
  run = function(args, ctx)
    local url = berth.option("webhook_url")
    if url == "" then return nil, "webhook_url is not set" end
    local body = body_of { type = "test", detail = "berth webhook-test", ts_ms = os.time() * 1000 }
    local status, err = berth.http_post(url, body, "application/json")
    if not status then return nil, err end
    ctx.print("HTTP " .. status)
    return status < 300 and 0 or 1
  end,
}

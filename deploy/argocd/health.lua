-- Argo CD health check for auth0.operators.dev/ConnectionProfile, UserAttributeProfile and
-- SelfServiceProfile (the same conditions; Lua 5.1, as Argo CD runs
-- it in gopher-lua). Install it with argocd-cm-snippet.yaml; tested by tools/gitops.
--   paused (annotation auth0.operators.dev/paused=true, or Synced=False ReconcilePaused) -> Suspended
--   metadata.generation not yet observed in status.observedGeneration                  -> Progressing
--   Stalled=True (a person must act)                                                      -> Degraded
--   Synced=False, not stalled (a transient failure, retried with backoff)                 -> Progressing
--   Ready=True                                                                            -> Healthy
--   anything else (creating, deleting, no status yet)                                     -> Progressing
local hs = {}

local function describe(condition)
  if condition == nil then
    return ""
  end
  local reason = condition.reason or ""
  local message = condition.message or ""
  if reason ~= "" and message ~= "" then
    return reason .. ": " .. message
  elseif message ~= "" then
    return message
  end
  return reason
end

local annotations = {}
if obj.metadata ~= nil and obj.metadata.annotations ~= nil then
  annotations = obj.metadata.annotations
end

local ready, synced, stalled
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    elseif condition.type == "Synced" then
      synced = condition
    elseif condition.type == "Stalled" then
      stalled = condition
    end
  end
end

-- A paused resource makes no progress by design: Suspended, even before its generation is seen.
if annotations["auth0.operators.dev/paused"] == "true" then
  hs.status = "Suspended"
  if synced ~= nil and synced.reason == "ReconcilePaused" and describe(synced) ~= "" then
    hs.message = describe(synced)
  else
    hs.message = "Reconciliation is paused (annotation auth0.operators.dev/paused=true)"
  end
  return hs
end

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

if synced ~= nil and synced.status == "False" and synced.reason == "ReconcilePaused" then
  hs.status = "Suspended"
  hs.message = describe(synced)
  return hs
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  if hs.message == "" then
    hs.message = describe(synced)
  end
  return hs
end

-- A transient failure is retried with backoff: in progress, as kstatus reads it. One 503
-- must not fail an Argo CD sync that waits on health.
if synced ~= nil and synced.status == "False" then
  hs.status = "Progressing"
  hs.message = describe(synced)
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end

hs.status = "Progressing"
if ready ~= nil then
  hs.message = describe(ready)
else
  hs.message = "Waiting for the Ready condition"
end
return hs

-- Argo CD health check for auth0.operators.dev/Auth0Tenant and ClusterAuth0Tenant (Lua 5.1,
-- as Argo CD runs it in gopher-lua): both kinds carry the same status. Install it with
-- argocd-cm-snippet.yaml (one key per kind, the same script); tested by tools/gitops.
--   metadata.generation not yet observed in status.observedGeneration                    -> Progressing
--   Stalled=True (a person must act: Unauthorized, MissingScopes, HostNotAllowed, ...)    -> Degraded
--   Ready=True (a token was obtained and every needed scope is granted)                   -> Healthy
--   Ready=False, not stalled (a Secret not there yet, Auth0 unreachable: retried)         -> Progressing
--   anything else (no status yet)                                                         -> Progressing
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

if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end

local ready, stalled
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      ready = condition
    elseif condition.type == "Stalled" then
      stalled = condition
    end
  end
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  if hs.message == "" then
    hs.message = describe(ready)
  end
  return hs
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end

-- Not ready and not stalled: the operator retries (a Secret that may still be on its way in
-- the same sync wave, an unreachable tenant). In progress, as for a ConnectionProfile.
hs.status = "Progressing"
if ready ~= nil then
  hs.message = describe(ready)
else
  hs.message = "Waiting for the Ready condition"
end
return hs

-- Argo CD health of an EvolvedPipeline, from the status the operator writes (docs/install.md).
-- Runs in Argo CD's Lua sandbox for argocd-cm checks: base and table libraries only (no string).
local hs = {status = "Progressing", message = "waiting for the operator"}
if obj.status == nil or obj.metadata == nil then
  return hs
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= generation then
  hs.message = "waiting for the operator to handle generation " .. tostring(generation)
  return hs
end

local conditions = {}
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    conditions[c.type] = c
  end
end
local function said(c)
  local text = c.reason or ""
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

local rollout = obj.status.rollout or {}
local stalled = conditions["Stalled"]
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = said(stalled)
  return hs
end
if rollout.phase == "RolledBack" or rollout.phase == "Stalled" then
  hs.status = "Degraded"
  hs.message = "rollout " .. rollout.phase .. ": " .. (rollout.message or "")
  return hs
end
if rollout.phase == "Paused" then
  hs.status = "Suspended"
  hs.message = "rollout paused: " .. (rollout.message or "")
  return hs
end
local reconciling = conditions["Reconciling"]
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = said(reconciling)
  return hs
end
local ready = conditions["Ready"]
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = said(ready)
  return hs
end
if ready ~= nil then
  hs.message = said(ready)
end
return hs

-- wrk script: POST a profile with a unique name per request (per thread prefix + counter).
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("prefix", "bench-" .. threads .. "-" .. math.random(1, 1000000000))
end

request = function()
  counter = counter + 1
  local body = '{"name":"' .. prefix .. "-" .. counter .. '","enabled_features":["scim"],"connection_config":{}}'
  return wrk.format("POST", "/api/v2/connection-profiles", nil, body)
end

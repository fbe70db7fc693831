"""Gets a token and creates N profiles over one keep-alive connection; prints JSON."""
import http.client
import json
import sys
import time
import urllib.parse

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
connection = http.client.HTTPConnection(host, port)
form = urllib.parse.urlencode({
    "grant_type": "client_credentials",
    "client_id": "emulator-client",
    "client_secret": "emulator-secret",
    "audience": f"https://{host}:{port}/api/v2/",
})
connection.request("POST", "/oauth/token", form, {"content-type": "application/x-www-form-urlencoded"})
answer = connection.getresponse()
token = json.loads(answer.read())["access_token"]
headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
first_id = None
started = time.monotonic()
for i in range(count):
    body = json.dumps({
        "name": f"seed-{i:06d}",
        "organization": {"show_as_button": "optional", "assign_membership_on_login": "required"},
        "connection_name_prefix_template": "con-{org_id}-",
        "enabled_features": ["scim", "universal_logout"],
        "connection_config": {},
    })
    connection.request("POST", "/api/v2/connection-profiles", body, headers)
    answer = connection.getresponse()
    created = json.loads(answer.read())
    if answer.status != 201:
        sys.exit(f"create {i} answered {answer.status}: {created}")
    first_id = first_id or created["id"]
print(json.dumps({"token": token, "id": first_id, "seconds": time.monotonic() - started}))

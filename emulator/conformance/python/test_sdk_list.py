"""Auth0's Python SDK (auth0-python 6.8.0) against the emulator over https: its default
`list()` sends take=50, which Auth0 documents above its maximum of 10; the emulator serves it
ten a page (issue 12) and the SDK's pager reaches every profile.

Run by ../run.sh, which starts the emulator and sets EMULATOR_DOMAIN, EMULATOR_ADMIN and
SSL_CERT_FILE (the emulator's CA)."""

import json
import os
import unittest
import urllib.request
import warnings

from auth0.management import ManagementClient

DOMAIN = os.environ["EMULATOR_DOMAIN"]
ADMIN = os.environ["EMULATOR_ADMIN"]


def admin(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        ADMIN + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read()
        return json.loads(text) if text else None


class DefaultList(unittest.TestCase):
    def setUp(self):
        # The SDK leaves a TLS socket to the garbage collector; not ours to report.
        warnings.simplefilter("ignore", ResourceWarning)
        admin("POST", "/reset")

    def client(self):
        return ManagementClient(domain=DOMAIN, client_id="emulator-client", client_secret="emulator-secret")

    def test_default_list_pages_through_every_profile(self):
        made = {admin("POST", "/tenants/localhost/profiles", {"name": f"py-{i:02}"})["id"] for i in range(23)}
        seen = [profile.id for profile in self.client().connection_profiles.list()]
        self.assertEqual(len(seen), 23)
        self.assertEqual(set(seen), made)
        lists = [e for e in admin("GET", "/tenants/localhost/requests") if e["endpoint"] == "list_profiles"]
        self.assertEqual([e["status"] for e in lists], [200, 200, 200])
        self.assertTrue(all("take=50" in e["query"] for e in lists), lists)

    def test_default_list_ends_on_the_recorded_empty_page(self):
        for i in range(10):
            admin("POST", "/tenants/localhost/profiles", {"name": f"py-{i:02}"})
        seen = [profile.id for profile in self.client().connection_profiles.list()]
        self.assertEqual(len(seen), 10)
        # A full page, then the recorded last page {"connection_profiles":[]} (which the
        # SDK's pager fetches and drops).
        lists = [e for e in admin("GET", "/tenants/localhost/requests") if e["endpoint"] == "list_profiles"]
        self.assertEqual(len(lists), 2)
        self.assertIn("from=", lists[1]["query"])

    def test_created_profile_parses_with_the_recorded_defaults(self):
        created = self.client().connection_profiles.create(name="py-bare")
        self.assertEqual(created.organization.show_as_button, "none")
        self.assertEqual(created.enabled_features, ["scim", "universal_logout"])
        self.assertIsNone(created.connection_config)


if __name__ == "__main__":
    unittest.main()

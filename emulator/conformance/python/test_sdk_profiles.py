"""Auth0's Python SDK (auth0-python 6.8.0) against the emulator's user attribute profile and
self-service profile endpoints over https: create, get, update, delete, every page through
the SDK's pagers (checkpoint for user attribute profiles, offset for self-service profiles,
where the SDK always asks for the next page and stops on an empty one), custom text.

Run by ../run.sh, which starts the emulator and sets EMULATOR_DOMAIN, EMULATOR_ADMIN and
SSL_CERT_FILE (the emulator's CA)."""

import unittest
import warnings

from auth0.management import ManagementClient

from test_sdk_list import DOMAIN, admin


def attribute(label):
    return {"label": label, "description": f"The {label}", "auth0_mapping": "email", "profile_required": True}


def endpoint_statuses(name):
    return [e["status"] for e in admin("GET", "/tenants/localhost/requests") if e["endpoint"] == name]


class Profiles(unittest.TestCase):
    def setUp(self):
        # The SDK leaves a TLS socket to the garbage collector; not ours to report.
        warnings.simplefilter("ignore", ResourceWarning)
        admin("POST", "/reset")
        self.client = ManagementClient(domain=DOMAIN, client_id="emulator-client", client_secret="emulator-secret")

    def test_user_attribute_profile_round_trip(self):
        uaps = self.client.user_attribute_profiles
        created = uaps.create(name="py-uap", user_attributes={"email": attribute("Email")})
        self.assertTrue(created.id.startswith("uap_"))
        self.assertEqual(created.user_id.scim_mapping, "externalId")
        self.assertEqual(uaps.get(created.id).name, "py-uap")
        updated = uaps.update(created.id, name="py-uap-2", user_attributes={"name": attribute("Name")})
        self.assertEqual(updated.name, "py-uap-2")
        self.assertEqual(list(updated.user_attributes.keys()), ["name"])
        uaps.delete(created.id)
        uaps.delete(created.id)  # recorded: a second DELETE is a 204
        self.assertEqual(endpoint_statuses("delete_user_attribute_profile"), [204, 204])
        templates = uaps.list_templates().user_attribute_profile_templates
        self.assertEqual(uaps.get_template(templates[0].id).id, "auth0-generic")

    def test_user_attribute_profiles_every_page(self):
        made = set()
        for i in range(53):
            reply = admin("POST", "/tenants/localhost/user-attribute-profiles",
                          {"name": f"py-{i:02}", "user_attributes": {"email": attribute("E")}})
            made.add(reply["id"])
        seen = [profile.id for profile in self.client.user_attribute_profiles.list()]
        self.assertEqual(len(seen), 53)
        self.assertEqual(set(seen), made)
        # take=50 is served 50 a page: 50, then 3 without next.
        self.assertEqual(endpoint_statuses("list_user_attribute_profiles"), [200, 200])

    def test_self_service_profile_round_trip_and_custom_text(self):
        ssps = self.client.self_service_profiles
        created = ssps.create(
            name="py-ssp",
            description="For Acme",
            allowed_strategies=["oidc", "samlp"],
            user_attributes=[{"name": "email", "description": "Email", "is_optional": False}],
        )
        self.assertTrue(created.id.startswith("ssp_"))
        self.assertEqual(ssps.get(created.id).description, "For Acme")
        updated = ssps.update(created.id, name="py-ssp-2", allowed_strategies=["okta"])
        self.assertEqual((updated.name, updated.allowed_strategies), ("py-ssp-2", ["okta"]))
        text = ssps.custom_text
        self.assertEqual(text.list(created.id, "en", "get-started"), {})
        self.assertEqual(text.set(created.id, "en", "get-started", request={"introduction": "Hi"}), {"introduction": "Hi"})
        self.assertEqual(text.list(created.id, "en", "get-started"), {"introduction": "Hi"})
        ssps.delete(created.id)
        self.assertEqual(admin("GET", "/tenants/localhost/self-service-profiles"), [])

    def test_self_service_profiles_every_page(self):
        made = [admin("POST", "/tenants/localhost/self-service-profiles", {"name": "same"})["id"] for _ in range(20)]
        seen = [profile.id for profile in self.client.self_service_profiles.list(per_page=6)]
        self.assertEqual(seen, made)
        # 6, 6, 6, 2, then the empty page the SDK always asks for.
        self.assertEqual(endpoint_statuses("list_self_service_profiles"), [200] * 5)


if __name__ == "__main__":
    unittest.main()

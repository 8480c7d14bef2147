"""ZenML 0.58.0's Python API (RestZenStore and Client) through the whole service-account and
API-key life cycle against Keyward. Run by test/clients/zenml.test.ts; see zk_common.py."""
import os
import sys

from zk_common import RESULT, URL, check, finish, raises, step

from zenml.client import Client
from zenml.exceptions import AuthorizationException, EntityExistsError, IllegalOperationError
from zenml.zen_stores.rest_zen_store import RestZenStore, RestZenStoreConfiguration

ADMIN_EMAIL = os.environ["ZK_ADMIN_EMAIL"]
ADMIN_PASSWORD = os.environ["ZK_ADMIN_PASSWORD"]
ADMIN_TOKEN = os.environ["ZK_ADMIN_TOKEN"]
ADMIN_SA = os.environ["ZK_ADMIN_SA"]
PUBLIC_URL = os.environ["ZK_PUBLIC_URL"]


def store(**creds):
    return RestZenStore(config=RestZenStoreConfiguration(url=URL, **creds))


def logs_in(**creds):
    """True when a fresh RestZenStore with these credentials can log in and read its user."""
    try:
        store(**creds).get_user()
        return True
    except RuntimeError as e:  # BaseZenStore.__init__ wraps the failed login of its first request
        check(isinstance(e.__cause__, AuthorizationException), "a refused login is an AuthorizationException", repr(e.__cause__))
        return False
    except AuthorizationException:
        return False


def still_works(s):
    try:
        s.get_user()
        return True
    except AuthorizationException:
        return False


# ---- /info, and the three ways to authenticate a RestZenStore ----

def info_and_logins():
    admin = store(api_token=ADMIN_TOKEN)  # a Keyward token used as a bearer token, no /login
    info = admin.get_store_info()
    check(info.server_url == PUBLIC_URL, "info.server_url is KEYWARD_PUBLIC_URL", info.server_url)
    check(info.dashboard_url == PUBLIC_URL, "info.dashboard_url is KEYWARD_PUBLIC_URL", info.dashboard_url)

    pw = store(username=ADMIN_EMAIL, password=ADMIN_PASSWORD)  # password grant
    me = pw.get_user()
    check(me.name == ADMIN_EMAIL, "password login: the current user is the admin", me.name)
    check(me.is_admin and not me.is_service_account, "password login: an admin user, not a service account")
    check(not logs_in(username=ADMIN_EMAIL, password=ADMIN_PASSWORD + "x"), "a wrong password is refused")


step("info and logins", info_and_logins)


# ---- Client() from ZENML_STORE_URL + ZENML_STORE_API_KEY, as the README says ----

c = Client()


def client_start():
    check(c.zen_store.type.value == "rest", "Client() uses the REST store from the environment")
    ws = c.active_workspace
    check(ws.name == "default", "active workspace is 'default'", ws.name)
    stack = c.active_stack_model
    check(stack.name == "default", "active stack is 'default'", stack.name)
    types = sorted(t.value for t in stack.components)
    check(types == ["artifact_store", "orchestrator"], "the default stack has an orchestrator and an artifact store", types)
    check(stack.workspace.id == ws.id, "the stack is in the active workspace")
    me = c.active_user
    check(me.name == ADMIN_SA and me.is_service_account, "the active user is the key's service account", me.name)
    check(c.list_stacks().total == 1, "one stack listed")
    e = raises(lambda: c.create_workspace("other", "x"), IllegalOperationError, "creating a workspace is refused")
    check(e is None or "one default workspace" in str(e), "the refusal says why", str(e))


step("Client() start", client_start)


# ---- service accounts ----

def service_accounts():
    alpha = c.create_service_account("zk-py-alpha", description="first account")
    beta = c.create_service_account("zk-py-beta")
    gamma = c.create_service_account("zk-py-gamma", description="third")
    RESULT["alpha_id"] = str(alpha.id)
    raises(lambda: c.create_service_account("zk-py-beta"), EntityExistsError, "a taken name is EntityExistsError (409)")
    check(alpha.active and alpha.description == "first account", "create: active, description kept")

    page = c.list_service_accounts(name="startswith:zk-py-")
    check(page.total == 3, "filter name=startswith:zk-py- finds the three", page.total)
    page = c.list_service_accounts(name="startswith:zk-py-", size=2, page=2)
    check((page.total, page.total_pages, page.index, len(page.items)) == (3, 2, 2, 1), "size 2, page 2 of 2 holds the third", (page.total, page.total_pages, page.index, len(page.items)))
    page = c.list_service_accounts(name="startswith:zk-py-", sort_by="desc:name")
    check([s.name for s in page.items] == ["zk-py-gamma", "zk-py-beta", "zk-py-alpha"], "sort_by desc:name", [s.name for s in page.items])
    page = c.list_service_accounts(description="contains:first")
    check([s.id for s in page.items] == [alpha.id], "filter description=contains:first", [s.name for s in page.items])
    page = c.list_service_accounts(id=str(beta.id))
    check(page.total == 1 and page.items[0].name == "zk-py-beta", "filter by id")

    check(c.get_service_account("zk-py-alpha").id == alpha.id, "get by name")
    check(c.get_service_account(alpha.id).name == "zk-py-alpha", "get by id")
    check(c.get_service_account(str(alpha.id)[:13]).id == alpha.id, "get by id prefix")
    check(c.get_service_account("zk-py-al").id == alpha.id, "get by name prefix")

    renamed = c.update_service_account("zk-py-gamma", updated_name="zk-py-delta", description="renamed")
    check(renamed.id == gamma.id and renamed.name == "zk-py-delta" and renamed.description == "renamed", "rename and describe")
    raises(lambda: c.get_service_account("zk-py-gamma", allow_name_prefix_match=False), KeyError, "the old name is gone")
    check(not c.update_service_account("zk-py-beta", active=False).active, "deactivate an account")
    check(c.list_service_accounts(name="startswith:zk-py-", active=False).total == 1, "filter active=False finds it")
    check(c.update_service_account(beta.id, active=True).active, "activate it again by id")
    return alpha


alpha = step("service accounts", service_accounts)


# ---- API keys, logins with them, sessions ----

def api_keys():
    k1 = c.create_api_key("zk-py-alpha", "k1", description="key one")
    k2 = c.create_api_key("zk-py-alpha", "k2")
    check(k1.key and k1.key.startswith("ZENKEY_"), "create returns the key value once", k1.key)
    raises(lambda: c.create_api_key("zk-py-alpha", "k1"), EntityExistsError, "a taken key name is EntityExistsError (409)")
    check(k1.service_account.id == alpha.id and k1.active and k1.last_login is None and k1.last_rotated is None, "create: owner, active, never used")

    page = c.list_api_keys("zk-py-alpha")
    check(page.total == 2 and all(k.key is None for k in page.items), "list: two keys, no values")
    check(c.list_api_keys("zk-py-alpha", name="k1").total == 1, "filter name=k1")
    # Keyward's test clock stands still, so both keys have the same `created`: page by name.
    check(c.list_api_keys("zk-py-alpha", name="contains:k", sort_by="name", size=1, page=2).items[0].name == "k2", "page 2 of size 1 by name is k2")
    got = c.get_api_key("zk-py-alpha", "k1")
    check(got.id == k1.id and got.key is None and got.description == "key one", "get by name: no value")
    check(c.get_api_key(alpha.id, k1.id).name == "k1", "get by account id and key id")

    # Login with a key, and the session it makes.
    check(logs_in(api_key=k1.key), "login with k1")
    check(not logs_in(api_key=k1.key[:-8] + "AAAAAA=="), "a wrong secret is refused")
    check(c.get_api_key("zk-py-alpha", "k1").last_login is not None, "last_login is set by the login")
    keyed = store(api_key=k1.key)
    check(keyed.get_user().id == alpha.id, "the key's session is the service account")
    jwt = keyed.config.api_token
    session = store(api_token=jwt)  # the session token alone, no key: it cannot re-login
    check(still_works(session), "the session token works on its own")

    c.update_api_key("zk-py-alpha", "k1", active=False)
    check(not still_works(session), "deactivating the key ends its session")
    check(not logs_in(api_key=k1.key), "an inactive key cannot log in")
    check(c.update_api_key("zk-py-alpha", "k1", active=True).active, "activate the key")
    check(still_works(session), "the same session works again after reactivation")
    c.update_service_account("zk-py-alpha", active=False)
    check(not still_works(session), "deactivating the account ends the session")
    c.update_service_account("zk-py-alpha", active=True)
    check(still_works(session), "and reactivating it restores it")

    # Rotation with a retain period keeps the previous value for that long; a second rotation
    # ends the first value at once.
    r1 = c.rotate_api_key("zk-py-alpha", "k1", retain_period_minutes=1)
    check(r1.key and r1.key != k1.key, "rotate returns a new value")
    check(logs_in(api_key=k1.key) and logs_in(api_key=r1.key), "old and new values both log in within the retain period")
    hydrated = c.get_api_key("zk-py-alpha", "k1")
    check(hydrated.retain_period_minutes == 1 and hydrated.last_rotated is not None, "retain period and last_rotated shown", (hydrated.retain_period_minutes, hydrated.last_rotated))
    r2 = c.rotate_api_key("zk-py-alpha", "k1", retain_period_minutes=1)
    check(logs_in(api_key=r2.key) and logs_in(api_key=r1.key), "after a second rotation the newest and the previous value log in")
    check(not logs_in(api_key=k1.key), "the original value is dead after the second rotation")
    check(still_works(session), "rotation keeps existing sessions")
    RESULT.update(k1_original=k1.key, k1_previous=r1.key, k1_current=r2.key)

    # Rename, describe, delete.
    u = c.update_api_key("zk-py-alpha", "k2", name="k2b", description="second key")
    check((u.name, u.description) == ("k2b", "second key"), "rename and describe a key")
    raises(lambda: c.get_api_key("zk-py-alpha", "k2", allow_name_prefix_match=False), KeyError, "the old key name is gone")
    c.delete_api_key("zk-py-alpha", "k2b")
    raises(lambda: c.get_api_key("zk-py-alpha", k2.id), KeyError, "a deleted key is gone")
    check(not logs_in(api_key=k2.key), "a deleted key cannot log in")
    RESULT["k2_deleted"] = k2.key

    c.delete_service_account("zk-py-delta")
    raises(lambda: c.get_service_account("zk-py-delta", allow_name_prefix_match=False), KeyError, "a deleted account is gone")


if alpha is not None:
    step("api keys", api_keys)
else:
    check(False, "api keys skipped: the service accounts step failed")

finish()

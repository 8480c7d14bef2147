"""ZenML 0.58.0's `zenml` command line against Keyward, from a fresh client configuration.

    cli.py apikey    connect with an API key, then every `zenml service-account` and
                     `zenml service-account api-key` command
    cli.py password  (a new process on the same configuration) the stored connection still works;
                     connect with a role-less service account's key, then with a username and password

Run by test/clients/zenml.test.ts; see zk_common.py.
"""
import json
import os
import sys

from zk_common import RESULT, URL, Cli, check, finish, keys_in, step

ADMIN_EMAIL = os.environ["ZK_ADMIN_EMAIL"]
ADMIN_PASSWORD = os.environ["ZK_ADMIN_PASSWORD"]
ADMIN_SA = os.environ["ZK_ADMIN_SA"]
ADMIN_KEY = os.environ["ZK_ADMIN_KEY"]

zenml = Cli()


def has(out, *parts):
    for p in parts:
        check(p in out, f"output contains {p!r}", out[-400:])


def one_key(out, what):
    ks = keys_in(out)
    check(len(ks) >= 1, f"{what}: the key value is printed", out[-400:])
    return ks[0] if ks else None


def apikey_phase():
    zenml(f"connect --url {URL} --api-key {ADMIN_KEY}")
    has(zenml("status"), f"The active user is: '{ADMIN_SA}'", "The active workspace is: 'default'", "The active stack is: 'default'")

    out = zenml('service-account create zk-cli -d "made by the cli"')
    has(out, "Created service account 'zk-cli'", "Successfully created API key `default`")
    RESULT["cli_default_key"] = one_key(out, "service-account create")
    zenml("service-account create zk-cli-2 --create-api-key false")
    has(zenml("service-account create zk-cli", expect_exit=1), "Found an existing service account with the same name")

    out = zenml("service-account list --name startswith:zk-cli")
    has(out, "zk-cli ", "zk-cli-2", "made by the cli", "`2` items found")
    # Keyward's test clock stands still, so both accounts have the same `created`: page by name.
    out = zenml("service-account list --name startswith:zk-cli --sort_by name --size 1 --page 2")
    has(out, "zk-cli-2", "Page `(2/2)`")
    check("made by the cli" not in out, "page 2 of size 1 holds only the second account", out[-300:])
    has(zenml("service-account describe zk-cli"), "made by the cli", "ACTIVE")

    zenml("service-account update zk-cli-2 -n zk-cli-3 -d renamed --active false")
    out = zenml("service-account describe zk-cli-3")
    has(out, "renamed", "False")
    zenml("service-account describe zk-cli-2", expect_exit=1)
    zenml("service-account update zk-cli-3 --active true")
    has(zenml("service-account describe zk-cli-3"), "True")

    out = zenml('service-account api-key zk-cli create second -d "second key"')
    has(out, "Successfully created API key `second`")
    second = one_key(out, "api-key create")
    out = zenml("service-account api-key zk-cli list")
    has(out, "default", "second", "`2` items found")
    out = zenml("service-account api-key zk-cli list --name second")
    has(out, "`1` items found")
    has(zenml("service-account api-key zk-cli describe second"), "second key", "RETAIN_PERIOD_MINUTES")
    zenml("service-account api-key zk-cli update second --name second2 --description d2 --active false")
    out = zenml("service-account api-key zk-cli describe second2")
    has(out, "d2", "False")
    zenml("service-account api-key zk-cli update second2 --active true")
    out = zenml("service-account api-key zk-cli rotate second2 --retain 5")
    has(out, "Successfully rotated API key `second2`", "remain valid for 5 minutes")
    rotated = one_key(out, "api-key rotate")
    check(rotated and rotated != second, "rotate prints a new value")
    has(zenml("service-account api-key zk-cli describe second2"), "RETAIN_PERIOD_MINUTES │ 5")
    RESULT.update(cli_second_old=second, cli_second_new=rotated)

    out = zenml("service-account api-key zk-cli create third")
    RESULT["cli_third_deleted"] = one_key(out, "api-key create third")
    has(zenml("service-account api-key zk-cli delete third -y"), "Deleted API key `third`")
    zenml("service-account api-key zk-cli describe third", expect_exit=1)

    has(zenml("service-account delete zk-cli-3"), "Deleted service account 'zk-cli-3'")
    zenml("service-account describe zk-cli-3", expect_exit=1)


def password_phase():
    # A new process reads the connection the first phase stored.
    has(zenml("status"), f"The active user is: '{ADMIN_SA}'")
    has(zenml("service-account list --name zk-cli"), "`1` items found")

    # A service account with no role can connect and start the client (the default workspace and
    # stack need only a login), but Keyward refuses it the list (docs/compat/zenml.md).
    key = os.environ["ZK_CLI_DEFAULT_KEY"]
    zenml(f"connect --url {URL} --api-key {key}")
    has(zenml("status"), "The active user is: 'zk-cli'")
    has(zenml("service-account list", expect_exit=1), "Missing permission core_serviceaccount_view")

    zenml(f"connect --url {URL} --username {ADMIN_EMAIL} --password {ADMIN_PASSWORD}")
    has(zenml("status"), f"The active user is: '{ADMIN_EMAIL}'")
    has(zenml("service-account list --name startswith:zk-cli"), "zk-cli", "`1` items found")
    has(zenml("service-account api-key zk-cli list"), "second2", "default")


phase = sys.argv[1]
step(phase, {"apikey": apikey_phase, "password": password_phase}[phase])
finish()

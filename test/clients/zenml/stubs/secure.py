"""Stand-in for the `secure` package (HTTP security headers for ZenML's *server*).

ZenML's CLI imports `zenml.zen_server.utils`, which imports `secure` and names these classes in
annotations at load time. The client never calls them; Debian does not package `secure`, so the
tests put this module on PYTHONPATH. Using any of them is a bug in the test setup: they refuse.
"""


class _ServerOnly:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("secure is a ZenML server dependency; this stand-in only satisfies the client's imports")


class Secure(_ServerOnly): pass
class Server(_ServerOnly): pass
class StrictTransportSecurity(_ServerOnly): pass
class XFrameOptions(_ServerOnly): pass
class XXSSProtection(_ServerOnly): pass
class ContentSecurityPolicy(_ServerOnly): pass
class XContentTypeOptions(_ServerOnly): pass
class ReferrerPolicy(_ServerOnly): pass
class CacheControl(_ServerOnly): pass
class PermissionsPolicy(_ServerOnly): pass

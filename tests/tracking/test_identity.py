"""The client's address behind proxies, and a visitor identity that a port or an
invented cookie cannot multiply."""

from datetime import date
from types import SimpleNamespace

import pytest
from django.test import override_settings

from djinsight.tracking import identity

TODAY = date(2026, 3, 1)


def request(remote="203.0.113.5", forwarded=None, cookie=None, host="example.com", ua="ua"):
    meta = {"REMOTE_ADDR": remote, "HTTP_HOST": host, "HTTP_USER_AGENT": ua}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return SimpleNamespace(META=meta, COOKIES={"sessionid": cookie} if cookie else {})


def client_ip(proxies, **kwargs) -> str:
    with override_settings(DJINSIGHT_TRUSTED_PROXIES=proxies):
        return identity.client_ip(request(**kwargs))


# A client that writes X-Forwarded-For itself ("6.6.6.6") before each proxy appends.
SPOOFED = "6.6.6.6"


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "client"),
    [
        # no proxy declared (None) or none (0): X-Forwarded-For is the client's own text
        (None, "203.0.113.5", SPOOFED, "203.0.113.5"),
        (0, "203.0.113.5", SPOOFED, "203.0.113.5"),
        ([], "203.0.113.5", SPOOFED, "203.0.113.5"),
        # one proxy at 10.0.0.1 appended the client's address
        (1, "10.0.0.1", f"{SPOOFED}, 198.51.100.7", "198.51.100.7"),
        (1, "10.0.0.1", "198.51.100.7", "198.51.100.7"),
        (1, "10.0.0.1", None, "10.0.0.1"),  # no header: the nearest address known
        # two proxies: the outer one (10.0.0.2) appended the client, the inner one the outer
        (2, "10.0.0.1", f"{SPOOFED}, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (2, "10.0.0.1", f"{SPOOFED}, {SPOOFED}, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (2, "10.0.0.1", "198.51.100.7, 10.0.0.2", "198.51.100.7"),
        # proxies by network: the right-most address outside them
        (["10.0.0.0/8"], "10.0.0.1", f"{SPOOFED}, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (["10.0.0.0/8", "192.0.2.0/24"], "10.0.0.1", "198.51.100.7, 192.0.2.9", "198.51.100.7"),
        (["10.0.0.0/8"], "203.0.113.9", SPOOFED, "203.0.113.9"),  # came direct: header ignored
        (["10.0.0.0/8"], "10.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3"),  # all trusted
        (["2001:db8::/32"], "2001:db8::1", f"{SPOOFED}, 2001:db9::5", "2001:db9::5"),
    ],
)
def test_client_is_the_right_most_address_no_trusted_proxy_added(
    proxies, remote, forwarded, client
):
    assert client_ip(proxies, remote=remote, forwarded=forwarded) == client


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded"),
    [
        (None, "unknown", None),
        (None, "203.0.113.5 ", None),
        (None, "", None),
        (1, "10.0.0.1", "not-an-address"),
        (1, "10.0.0.1", "198.51.100.7, 1.2.3.999"),
        (2, "10.0.0.1", "198.51.100.7:5000, 10.0.0.2"),
        (1, "10.0.0.1", "198.51.100.7,"),
        # left of a malformed hop nothing can be trusted, even a well-formed address
        (["10.0.0.0/8"], "10.0.0.1", "198.51.100.7, junk, 10.0.0.2"),
        (1, "10.0.0.1", "01.2.3.4"),
    ],
)
def test_a_malformed_address_is_unknown(proxies, remote, forwarded):
    assert client_ip(proxies, remote=remote, forwarded=forwarded) == ""


def test_deprecated_ip_meta_key_reads_the_right_most_entry():
    meta = request(remote="10.0.0.1", forwarded=f"{SPOOFED}, 198.51.100.7")
    with override_settings(DJINSIGHT_IP_META_KEY="HTTP_X_FORWARDED_FOR"):
        assert identity.client_ip(meta) == "198.51.100.7"
        with override_settings(DJINSIGHT_TRUSTED_PROXIES=0):  # the new setting wins
            assert identity.client_ip(meta) == "10.0.0.1"


def visitor(**kwargs) -> str:
    req = request(**kwargs)
    ip = identity.client_ip(req)
    return identity.visitor_hash(req, TODAY, ip, identity.anonymise_ip(ip) or "")


def test_cookieless_visitor_does_not_change_with_the_host_port():
    hosts = ["example.com", "example.com:8000", "EXAMPLE.com:9000", "example.com:80"]
    assert len({visitor(host=host) for host in hosts}) == 1
    assert visitor(host="[::1]:8000") == visitor(host="[::1]")
    assert visitor(host="example.org") != visitor(host="example.com")


def test_session_visitor_is_the_cookie_within_its_network():
    same_network = {visitor(cookie="abc", remote=f"198.51.100.{n}") for n in (1, 2, 200)}
    assert len(same_network) == 1  # a real session moving inside its /24 stays one visitor
    assert visitor(cookie="abc", remote="198.51.101.1") != visitor(cookie="abc")
    assert visitor(cookie="abc", ua="other", host="x:1") == visitor(cookie="abc")
    # invented cookies are new visitors only inside the client's own network (and its budget)
    assert visitor(cookie="abc") != visitor(cookie="abd")

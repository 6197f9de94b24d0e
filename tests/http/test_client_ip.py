"""The client's address behind trusted proxies: which forwarding header hops are believed."""

from __future__ import annotations

import pytest

from authd.config import ConfigError, load_settings
from authd.http.client_ip import client_address, trusted_networks

PROXY = "127.0.0.1"
LB = trusted_networks(("127.0.0.1", "10.0.0.0/8", "fd00::/8"))


def xff(*values: str, peer: str | None = PROXY, trusted: tuple[str, ...] | None = None) -> str | None:
    """The client address authd derives from X-Forwarded-For values sent through ``peer``."""
    networks = LB if trusted is None else trusted_networks(trusted)
    return client_address(peer, networks, forwarded_for=values)


def fwd(*values: str, peer: str | None = PROXY) -> str | None:
    """The client address authd derives from RFC 7239 Forwarded values sent through ``peer``."""
    return client_address(peer, LB, forwarded=values)


def test_without_trusted_proxies_the_headers_are_ignored() -> None:
    """The default: whatever a client writes in X-Forwarded-For or Forwarded, its address is
    the connection's."""
    assert client_address(PROXY, (), forwarded_for=["203.0.113.5"],
                          forwarded=["for=203.0.113.5"]) == PROXY


def test_headers_from_an_untrusted_peer_are_ignored() -> None:
    """A client that connects directly cannot name another address."""
    assert xff("203.0.113.5", peer="198.51.100.9") == "198.51.100.9"
    assert fwd("for=203.0.113.5", peer="198.51.100.9") == "198.51.100.9"


@pytest.mark.parametrize(("values", "client"), [
    (("203.0.113.5",), "203.0.113.5"),
    # A client's own X-Forwarded-For is kept by the proxy, which appends the real address:
    # the right-most untrusted hop is the client, the forged part to its left is not.
    (("6.6.6.6, 203.0.113.5",), "203.0.113.5"),
    (("6.6.6.6", "203.0.113.5"), "203.0.113.5"),           # several header lines, in order
    (("6.6.6.6, 203.0.113.5, 10.1.2.3",), "203.0.113.5"),  # through two trusted proxies
    (("10.0.0.3, 10.0.0.2",), "10.0.0.3"),                 # every hop trusted: the left-most
    ((" 203.0.113.5 ",), "203.0.113.5"),
    (("203.0.113.5:4711",), "203.0.113.5"),
    (("[2001:db8::1]:443",), "2001:db8::1"),
    (("2001:DB8:0::1",), "2001:db8::1"),
    (("::ffff:203.0.113.5",), "203.0.113.5"),              # IPv4-mapped: one client, one key
])
def test_the_right_most_untrusted_hop_is_the_client(values: tuple[str, ...], client: str) -> None:
    """Behind trusted proxies each client has its own address for limits, sessions and audit."""
    assert xff(*values) == client


@pytest.mark.parametrize(("values", "client"), [
    (("for=192.0.2.60;proto=http;by=203.0.113.43",), "192.0.2.60"),
    (('for="[2001:db8:cafe::17]:4711"',), "2001:db8:cafe::17"),
    (('For="192.0.2.43:47011", for=198.51.100.17',), "198.51.100.17"),
    (("for=6.6.6.6", "for=198.51.100.17;proto=https"), "198.51.100.17"),
    (("for=198.51.100.17, for=10.0.0.2",), "198.51.100.17"),
    (('for=6.6.6.6;note="a, b; c", for=198.51.100.17',), "198.51.100.17"),
    (("FOR = 198.51.100.17",), "198.51.100.17"),
])
def test_rfc_7239_forwarded_is_understood(values: tuple[str, ...], client: str) -> None:
    """The standard Forwarded header (RFC 7239 §4 and §7 examples) names the same client."""
    assert fwd(*values) == client


@pytest.mark.parametrize("value", [
    "", " ", ",", ",,,", "garbage", "unknown", "_hidden", "1.2.3.4.5", "999.1.1.1", "1.2.3.04",
    "127.1", "0x7f.0.0.1", "\uff11.\uff12.\uff13.\uff14", "fe80::1%eth0", "[2001:db8::1", "[::1]x",
    "1.2.3.4:port", "1.2.3.4:99999999", "1" * 5000, "203.0.113.5\x00", "203.0.113.5, ",
])
def test_a_garbage_hop_stops_at_the_proxy_that_wrote_it(value: str) -> None:
    """What is not an address is never believed, and nothing to its left is either: the
    request counts against the trusted proxy that sent it."""
    assert xff(value) == PROXY
    assert xff("203.0.113.5, " + value) == PROXY
    assert xff(value + ", 203.0.113.5") == "203.0.113.5"


@pytest.mark.parametrize("value", [
    "for", "for=", "=1.2.3.4", "for=1.2.3.4;for=5.6.7.8", 'for="1.2.3.4', 'for=1.2.3.4"',
    "for=1.2.3.4 for=5.6.7.8", "proto=https", 'for="[::1]', "for=unknown", "for=_hidden",
    "bad name=1.2.3.4;for=1.2.3.4", ";;;", '"', '\\', "for=" + "1" * 5000,
])
def test_a_malformed_forwarded_element_stops_at_the_proxy(value: str) -> None:
    """A Forwarded element without exactly one readable `for` is a hop that cannot be believed."""
    assert fwd(value) == PROXY
    assert fwd("for=203.0.113.5, " + value) == PROXY


def test_both_headers_must_name_the_same_client() -> None:
    """A proxy appends to one of the headers; the client may have written the other whole.
    When they disagree, neither is believed and the request counts against the proxy."""
    same = client_address(PROXY, LB, forwarded_for=["203.0.113.5"], forwarded=["for=203.0.113.5"])
    assert same == "203.0.113.5"
    forged = client_address(PROXY, LB, forwarded_for=["203.0.113.5"], forwarded=["for=6.6.6.6"])
    assert forged == PROXY


def test_trusted_peers_of_either_family() -> None:
    """IPv6 proxies, and IPv4 proxies seen on a dual-stack socket, are recognised."""
    assert xff("203.0.113.5", peer="fd00::7") == "203.0.113.5"
    assert xff("203.0.113.5", peer="::ffff:127.0.0.1") == "203.0.113.5"
    assert xff("2001:db8::9", peer="::1", trusted=("::1",)) == "2001:db8::9"


def test_a_peer_that_is_not_an_ip_address_is_kept() -> None:
    """Unix sockets and in-process clients have no IP address: nothing is read from headers."""
    assert xff("203.0.113.5", peer=None) is None
    assert xff("203.0.113.5", peer="unix-socket") == "unix-socket"


# -- the setting


def test_trusted_proxies_accepts_addresses_and_networks_of_both_families() -> None:
    """Entries are addresses or CIDR networks, shown normalised by `authd config check`."""
    settings = load_settings(trusted_proxies=["127.0.0.1", "10.0.0.0/8", " fd00::/8", "::1"])
    assert settings.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "fd00::/8", "::1/128")
    assert load_settings().trusted_proxies == ()


def test_trusted_proxies_from_the_environment_as_a_json_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """AUTHD_TRUSTED_PROXIES is a JSON list, like the other list settings."""
    monkeypatch.setenv("AUTHD_TRUSTED_PROXIES", '["10.0.0.0/8", "2001:db8::/32"]')
    assert load_settings().trusted_proxies == ("10.0.0.0/8", "2001:db8::/32")


@pytest.mark.parametrize(("entry", "says"), [
    ("10.0.0.300", "not an IP address or CIDR network"),
    ("10.0.0.1/8", "host bits"),
    ("nginx", "not an IP address or CIDR network"),
    ("0.0.0.0/0", "every address"),
    ("::/0", "every address"),
])
def test_a_bad_trusted_proxy_is_one_clear_error(entry: str, says: str) -> None:
    """A wrong entry is reported in one sentence naming the setting, never a traceback."""
    with pytest.raises(ConfigError) as caught:
        load_settings(trusted_proxies=["127.0.0.1", entry])
    assert len(caught.value.problems) == 1
    problem = caught.value.problems[0]
    assert problem.startswith("trusted_proxies") and says in problem and entry in problem

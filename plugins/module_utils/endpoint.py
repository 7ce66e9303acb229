# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The URLs of the PBX and of the Devices app before the first request, and what a failed connection says.

Refused before any request: a URL that is not one (scheme, host), one with credentials in it (`user:pw@`), one
with a query or a fragment. Warned: plain `http://` or `ws://` to any host that is not loopback as written
(`localhost`, 127.0.0.0/8, ::1); the name is not resolved, since what it resolves to may change and differs
between the machines an inventory runs on. Hints: a base URL with a path, `https://` against plain HTTP and
`http://` against TLS, an untrusted or mismatched certificate. No message ever holds the credentials of a URL.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import socket
import ssl
from http.client import BadStatusLine

from ansible.module_utils.six.moves.urllib.parse import unquote, urlsplit

# How the options that set a URL, a CA and certificate checks are called in the role's inventory.
ROLE_VARIABLES = {
    "url": "hotdesking_pbx_url",
    "devices_url": "hotdesking_devices_url",
    "ca_path": "hotdesking_ca_path",
    "validate_certs": "hotdesking_validate_certs",
    "allow_basic_auth": "hotdesking_allow_basic_auth",
    "username": "hotdesking_pbx_username",
    "password": "hotdesking_pbx_password",
    "devices_password": "hotdesking_devices_password",
    "devices_domain": "hotdesking_devices_domain",
    "app_name": "hotdesking_pbx_app_name",
    "app_password": "hotdesking_pbx_app_password",
}
# What a URL of each kind must start with, the encrypted scheme last.
PBX_SCHEMES = ("http", "https")
DEVICES_SCHEMES = ("ws", "wss")
# The URL options, with the schemes each takes.
URL_OPTIONS = (("url", PBX_SCHEMES), ("devices_url", DEVICES_SCHEMES))
PLAIN = {"http": "https", "ws": "wss"}
UNENCRYPTED = dict((encrypted, plain) for plain, encrypted in PLAIN.items())
# ssl's words for a TLS handshake that met a server speaking something else (plain HTTP).
NOT_TLS = ("wrong version number", "wrong_version_number", "record layer failure", "packet length too long",
           "unknown protocol", "http request")
# How long the check whether a port speaks TLS waits at most.
TLS_PROBE_SECONDS = 5.0


class EndpointError(Exception):
    """A URL refused before any request. The message never holds `secrets`, which the caller also keeps out of
    everything the module returns (the invocation echoes the option)."""

    def __init__(self, message, secrets=()):
        super(EndpointError, self).__init__(message)
        self.secrets = [secret for secret in secrets if secret]


def option_named(option, value=None):
    """`url (hotdesking_pbx_url in the role)`, or with a value `allow_basic_auth: true (hotdesking_allow_basic_auth:
    true in the role)`: the module option and the role variable that sets it."""
    variable = ROLE_VARIABLES.get(option)
    if value is not None:
        option, variable = "%s: %s" % (option, value), variable and "%s: %s" % (variable, value)
    return "%s (%s in the role)" % (option, variable) if variable else option


def _credentials(url):
    """The secrets of a URL's credentials (between `//` and the last `@`), URL-decoded too: all of them, and the
    password after the first `:` (the user before it is no secret, unless there is no `:`, as in a token); [] if
    there are none, None for a URL without `@`."""
    rest = url.partition("://")[2] if "://" in url else url
    if "@" not in rest:
        return None
    userinfo = rest.rpartition("@")[0]
    pieces = [userinfo, userinfo.partition(":")[2]]
    return sorted(set(pieces + [unquote(piece) for piece in pieces]) - set([""]), key=len, reverse=True)


class Endpoint:
    """A checked URL of `option`: scheme, host, port, path; `url` without a trailing slash."""

    def __init__(self, option, url, schemes, label=None):
        # How messages name the option: `label` (a caller's own name for it), else the option and its role variable.
        label = label or option_named(option)
        secrets = _credentials(url)
        if secrets is not None:
            if option == "url":
                where = "the user goes in %s and the password in %s" % (
                    option_named("username"), option_named("password"))
            else:
                where = "the login's password goes in %s" % option_named("devices_password")
            host = url.rpartition("@")[2].split("/")[0]
            message = ("%s must not carry credentials (user:password@ before the host %s): %s, which Ansible keeps "
                       "out of its output; nothing was sent" % (label, host, where))
            raise EndpointError(message, secrets)
        self.option = option
        expected = " or ".join("%s://" % scheme for scheme in schemes)
        parts = urlsplit(url.strip())
        shown = "%s://%s%s" % (parts.scheme, parts.netloc, parts.path)  # never a query: it may hold anything
        try:
            self.port = parts.port
        except ValueError:
            raise EndpointError("%s: %s has no valid port (%shost:port)" % (label, shown, expected))
        self.scheme = parts.scheme.lower()
        self.host = parts.hostname or ""
        if self.scheme not in schemes or not self.host:
            raise EndpointError("%s must start with %s and name a host, got %r" % (
                label, expected, shown if parts.scheme else url.split("?")[0]))
        if parts.query or parts.fragment or url.strip().endswith(("?", "#")):
            raise EndpointError("%s must not have a query or fragment (after ? or #): %s" % (label, shown))
        self.path = parts.path.rstrip("/")
        self.url = url.strip().rstrip("/")
        self.encrypted = self.scheme == schemes[-1]

    @property
    def default_port(self):
        return self.port or (443 if self.encrypted else 80)

    def netloc(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s:%d" % (host, self.port) if self.port else host

    def plain_warning(self, basic=False):
        """The warning for an unencrypted URL to a host that is not loopback as written, or None."""
        if self.encrypted or is_loopback(self.host):
            return None
        if self.scheme == "http":
            what = ("the admin requests and the PBX's answers (digest keeps the admin password off the wire, not "
                    "what the requests carry), and the user passwords the modules write (in clear text unless the "
                    "PBX key encrypts them as pwdx)")
            if basic:
                what += ", and with HTTP Basic the admin password itself"
        else:
            what = ("the Devices app's messages, the expert configuration's update script with the base user's "
                    "password and the provisioning codes included")
        return ("%s %s is not encrypted: everything between this host and %s travels readable, %s. Use %s:// (with "
                "ca_path for a private CA); plain %s:// is for a lab or a loopback address only" % (
                    option_named(self.option), self.url, self.host, what, PLAIN[self.scheme], self.scheme))

    def path_hint(self):
        """A hint for a base URL with a path, or ""."""
        if not self.path:
            return ""
        return (" (hint: %s has the path %s, but it is the PBX's base URL, scheme, host and port such as %s://%s; "
                "the modules add /PBX0/user.soap and their other paths themselves. Keep a path only for a reverse "
                "proxy that serves the PBX under it)" % (self.option, self.path, self.scheme, self.netloc()))

    def tls_error(self, exc):
        """The message of a failed TLS handshake: what went wrong and what to do. Nothing was sent."""
        detail = ssl_reason(exc)
        lowered = detail.lower()
        if any(words in lowered for words in NOT_TLS):
            return ("TLS error connecting to %s: %s answers without TLS (%s); use %s:// for it, or enable TLS on the "
                    "%s" % (self.url, self.netloc(), detail, UNENCRYPTED[self.scheme],
                            "PBX" if self.option == "url" else "server of the Devices app"))
        if "mismatch" in lowered or "doesn't match" in lowered or "not valid for" in lowered:
            return ("TLS error connecting to %s: its certificate is not issued for %s (%s); use the name it is issued "
                    "for in %s; %s" % (self.url, self.host, detail, option_named(self.option), _lab_only()))
        if "certificate verify failed" in lowered or "certificate_verify_failed" in lowered:
            return ("TLS error connecting to %s: its certificate is not trusted (%s); give %s, the certificate (PEM) "
                    "of the CA that issued it; %s" % (self.url, detail, option_named("ca_path"), _lab_only()))
        return "TLS error connecting to %s: %s" % (self.url, detail)

    def speaks_tls(self, timeout):
        """Whether the port of an unencrypted URL completes a TLS handshake (no certificate check; nothing is sent
        but the handshake)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            with socket.create_connection((self.host, self.default_port), min(timeout, TLS_PROBE_SECONDS)) as sock:
                with context.wrap_socket(sock, server_hostname=self.host):
                    return True
        except (OSError, ValueError):
            return False

    def tls_port_error(self, detail):
        """The message for an unencrypted URL whose port speaks TLS."""
        return ("%s closed the connection without an answer (%s): %s speaks TLS, so use %s://%s%s for %s" % (
            self.url, detail, self.netloc(), PLAIN[self.scheme], self.netloc(), self.path, option_named(self.option)))


def _lab_only():
    return "for a lab only, %s skips the check" % option_named("validate_certs", "false")


def is_loopback(host):
    """Whether a host as written in a URL is this machine: localhost, 127.0.0.0/8, ::1 (or ::ffff:127.x.x.x)."""
    host = host.lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def _chain(exc):
    """An exception and every exception it wraps (arguments, urllib3's `reason`, cause, context), outermost first."""
    seen, queue, chain = set(), [exc], []
    while queue:
        current = queue.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        chain.append(current)
        queue.extend(getattr(current, "args", ()))
        queue.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
    return chain


def ssl_reason(exc):
    """The text of the innermost ssl error of an exception chain (requests wraps it twice), else the text."""
    found = [current for current in _chain(exc) if isinstance(current, ssl.SSLError)]
    if not found:
        return str(exc)
    error = found[-1]
    reason = str(error.args[1]) if len(error.args) > 1 else str(error)
    message = getattr(error, "verify_message", None)
    if message and message not in reason:
        reason = "%s: %s" % (reason, message)
    return reason.split(" (_ssl.c")[0]


def closed_without_answer(exc):
    """The name of an http.client.BadStatusLine (RemoteDisconnected is one) in an exception chain, else None: the
    server took the connection and closed it, or answered what is not HTTP, as a TLS port does."""
    for current in _chain(exc):
        if isinstance(current, BadStatusLine):
            return type(current).__name__
    return None

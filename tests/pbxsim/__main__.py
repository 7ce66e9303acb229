# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line: PYTHONPATH=tests python -m pbxsim --port 0 --ready-file PATH [options]."""

import argparse
import asyncio
import logging
import os
import secrets

from . import devices, pbxapps, server, wire_names

DEMO_PASSWORDS = {"admin": "pbxsim-admin", "pbx": "pbxsim-pbx", "devices": "pbxsim-devices", "app": "pbxsim-app"}


def domain_password(text):
    domain, sep, password = text.partition("=")
    if not sep or not domain or not password:
        raise argparse.ArgumentTypeError("expected DOMAIN=PASSWORD")
    return domain, password


def reverse_proxy(text):
    try:
        return pbxapps.reverse_proxy(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def parser():
    args = argparse.ArgumentParser(prog="pbxsim", description="innovaphone PBX and Devices app simulator")
    args.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    args.add_argument("--port", type=int, default=0, help="first port; 0 picks free ports (default)")
    args.add_argument("--count", type=int, default=1, help="number of independent PBXs, one port each")
    args.add_argument("--state", help="state file (a directory with --count > 1); default: memory only")
    args.add_argument("--ready-file", help="write the ready JSON line here once listening")
    args.add_argument("--tls", action="store_true", help="serve HTTPS/WSS with a throwaway CA")
    args.add_argument("--ca-file", help="where --tls writes the CA certificate (default: a temp file)")
    args.add_argument("--latency-ms", type=int, default=0, help="delay added to every request and message")
    args.add_argument("--control", action="store_true", help="enable the /_sim/ control API")
    args.add_argument("--control-token", default=os.environ.get("PBXSIM_CONTROL_TOKEN"),
                      help="control token (env PBXSIM_CONTROL_TOKEN; default: random)")
    for name, default in DEMO_PASSWORDS.items():
        env = "PBXSIM_%s_PASSWORD" % name.upper()
        args.add_argument("--%s-password" % name, default=os.environ.get(env, default),
                          help="%s password (env %s; default %s)" % (name, env, default))
    args.add_argument("--app-name", default=os.environ.get("PBXSIM_APP_NAME", pbxapps.DEFAULT_APP_NAME),
                      help="name of the App object granted PbxAdminApi and PbxTableUsers (env PBXSIM_APP_NAME; "
                           "default %s); its password is --app-password" % pbxapps.DEFAULT_APP_NAME)
    args.add_argument("--port-licenses", type=int, default=20,
                      help="port licenses GetPbxLicenses reports (default 20); -1: none, the PBX's test mode")
    args.add_argument("--reverse-proxy", type=reverse_proxy, action="append", default=[], metavar="ADDR[,CERT[,CERT2]]",
                      help="a reverse proxy GetRPs lists (repeatable)")
    args.add_argument("--domain", help="Devices domain (default example.com; siteN.<domain> with --count)")
    args.add_argument("--domain-password", type=domain_password, action="append", default=[],
                      metavar="DOMAIN=PASSWORD", help="a Devices domain and its domain password (repeatable)")
    args.add_argument("--devices-app", action="append", default=[], metavar="NAME",
                      help="the only `app` name a Devices login may give (repeatable; default: both, %s and %s)"
                           % (devices.UI_APP, devices.API_APP))
    args.add_argument("--basic", action="store_true", help="also accept HTTP basic authentication")
    args.add_argument("--basic-only", action="store_true",
                      help="offer and accept only HTTP basic authentication (a PBX with digest turned off)")
    args.add_argument("--nonce-ttl", type=float, default=300.0, help="digest nonce lifetime in seconds")
    args.add_argument("--wire-names", metavar="PATH",
                      help="JSON file {section: {key: name}} with the collection's wire name keys: pbxsim speaks "
                           "those names instead of its defaults (every PBX of --count)")
    args.add_argument("--verbose", action="store_true", help="log at INFO level")
    return args


def main():
    args = parser()
    options = args.parse_args()
    if options.count < 1:
        args.error("--count must be at least 1")
    if options.port_licenses < -1:
        args.error("--port-licenses must be -1 (none) or more")
    options.port_licenses = None if options.port_licenses == -1 else options.port_licenses
    if options.wire_names:
        try:
            wire_names.load_overrides(options.wire_names)
            devices.DevicesApp.check_message_names()
        except ValueError as exc:       # WireNamesError is one; argparse's error() exits with status 2
            args.error("--wire-names %s: %s" % (options.wire_names, exc))
    if options.control:
        options.control_token = options.control_token or secrets.token_hex(16)
    else:
        options.control_token = None
    logging.basicConfig(level=logging.INFO if options.verbose else logging.WARNING,
                        format="pbxsim %(levelname)s %(name)s: %(message)s")
    asyncio.run(server.serve(options))


if __name__ == "__main__":
    main()

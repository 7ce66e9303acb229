# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The connection options of every module, PBX and Devices app alike (contract section 8); a module adds
    # PBX (below) or innovaphone.pbx.devices for where it connects to.
    DOCUMENTATION = r"""
options:
  validate_certs:
    description:
      - Whether to verify the TLS certificate of an C(https) PBX URL or a C(wss) Devices app URL.
      - A certificate the system's CAs (or O(ca_path)) do not vouch for, such as a self-signed one, fails the task
        before anything is sent, with what to do. Give O(ca_path) for a private CA; set V(false) only in a lab.
      - If not set, the environment variable E(INNOVAPHONE_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file, or directory of hashed PEM files, of the certificate authorities to trust for an C(https) or
        C(wss) URL, instead of the system's. The way to trust a PBX with a self-signed certificate or one of a
        private CA.
      - If not set, the environment variable E(INNOVAPHONE_CA_PATH) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for the connection and for each answer.
      - A request the PBX or the Devices app cannot have received (the connection was refused, an HTTP 429 or 503
        answer, a stale digest nonce) is sent again, up to 5 times with a capped exponential backoff that honours
        C(Retry-After).
      - A request that got no answer (the connection was reset or closed, no answer within O(timeout), an HTTP
        502 or 504 answer) is sent again only when that is harmless (reads, writes of a whole object or setting),
        after a timeout once; another write fails with a message saying that it may or may not have been carried
        out, and a re-run converges.
      - If not set, the environment variable E(INNOVAPHONE_TIMEOUT) is used.
    type: int
    default: 30
  wire_names:
    description:
      - Names on the wire that innovaphone does not document, spelt as your PBX or Devices app spells them, laid
        over the collection's defaults. A dict with the nested keys of the table in C(docs/wire-names.md), section
        then entry, for example C(config) then C(registrations_without_password) with the value V(no-pwd-regs).
      - An unknown section or key fails the task before any request. Playbook C(innovaphone.pbx.probe) suggests
        the overrides a PBX contradicts.
      - If not set, the environment variable E(INNOVAPHONE_WIRE_NAMES) (JSON) is used.
    type: dict
"""

    # Where a PBX module connects to, and the action group that sets it once.
    PBX = r"""
options:
  url:
    description:
      - Base URL of the PBX, scheme, host and port without a path, for example V(https://pbx.example.com).
      - SOAP goes to C(<url>/PBX0/user.soap), the bulk reads and commands to other paths of the same URL. A path is
        only right for a reverse proxy that serves the PBX under it; an error answer then hints at it.
      - A URL with credentials (V(https://admin:secret@pbx)), a query or a fragment fails the task before any
        request, without repeating the credentials. The user goes in O(username), the password in O(password).
      - A plain V(http://) URL to a host other than V(localhost), 127.0.0.0/8 or V(::1) (as written; the name is not
        resolved) gets a warning, since the requests, the answers and the passwords the modules write travel
        unencrypted.
      - If not set, the environment variable E(INNOVAPHONE_URL) is used.
    type: str
    required: true
  password:
    description:
      - Password of O(username), the admin password or the PBX password.
      - If not set, the environment variable E(INNOVAPHONE_PASSWORD) is used.
    type: str
    required: true
requirements:
  - requests
attributes:
  action_group:
    description: Use C(group/innovaphone.pbx.pbx) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - innovaphone.pbx.pbx
"""

    # The PBX of a Devices module that also reads it (registrations); without url the module reads no PBX.
    PBX_OPTIONAL = r"""
options:
  url:
    description:
      - Base URL of the PBX whose registrations the module reads, for example V(https://pbx.example.com).
      - Checked as for the PBX modules, credentials refused, plain V(http://) to another host warned.
      - If not set, the environment variable E(INNOVAPHONE_URL) is used.
    type: str
  password:
    description:
      - Password of O(username), the admin password or the PBX password; needed with O(url).
      - If not set, the environment variable E(INNOVAPHONE_PASSWORD) is used.
    type: str
requirements:
  - requests
"""

    # How a module with PBX or PBX_OPTIONAL logs in: the HTTP user and its Basic authentication, and the App object
    # that makes it speak PbxAdminApi and PbxTableUsers.
    PBX_LOGIN = r"""
options:
  username:
    description:
      - HTTP user of the PBX administration.
      - If not set, the environment variable E(INNOVAPHONE_USERNAME) is used.
    type: str
    default: admin
  allow_basic_auth:
    description:
      - Whether to answer a PBX that offers only HTTP Basic authentication with Basic, which sends the password
        itself (readable, base64) with every request; over plain V(http://) anyone on the way reads it.
      - With V(false) such a PBX fails the task before the password is sent, with what to do. A PBX that offers
        digest always gets digest.
      - If not set, the environment variable E(INNOVAPHONE_ALLOW_BASIC_AUTH) is used.
    type: bool
    default: false
  force_basic_auth:
    description:
      - Send HTTP Basic credentials with the first request instead of waiting for the PBX's challenge, as
        C(ansible.builtin.uri)'s option of that name does; only for a PBX configured for Basic.
      - Needs O(allow_basic_auth=true); without it the task fails before any request.
      - If not set, the environment variable E(INNOVAPHONE_FORCE_BASIC_AUTH) is used.
    type: bool
    default: false
  app_name:
    description:
      - Name of the PBX's App object for automation, to speak to the PBX objects over innovaphone's documented
        AppWebsocket APIs, PbxAdminApi and PbxTableUsers, at C(<url>/PBX0/APPS/websocket) (V(ws://) for
        V(http://), V(wss://) for V(https://)), instead of SOAP.
      - The App object needs the API grants C(Admin) and C(TableUsers) (PBX Manager, "Grant access to APIs");
        C(docs/guide.md) says how to create it.
      - If not set, the environment variable E(INNOVAPHONE_APP_NAME) is used.
    type: str
  app_password:
    description:
      - Password of the App object O(app_name).
      - If not set, the environment variable E(INNOVAPHONE_APP_PASSWORD) is used.
    type: str
  pbx_api:
    description:
      - How the PBX objects (users, config templates, hot-desking registrations, registrations) are read and
        written.
      - V(auto) uses PbxAdminApi and PbxTableUsers when O(app_name) and O(app_password) are given, else SOAP.
      - V(soap) uses SOAP C(Admin()) and the bulk reads over HTTP with O(username) and O(password).
      - V(pbxadminapi) uses PbxAdminApi and PbxTableUsers, and fails before any request without O(app_name) and
        O(app_password).
      - The PBX0 settings and C(!) commands always go over HTTP with O(username) and O(password).
      - If not set, the environment variable E(INNOVAPHONE_PBX_API) is used.
    type: str
    choices: [auto, soap, pbxadminapi]
    default: auto
requirements:
  - websocket-client (with O(app_name))
"""

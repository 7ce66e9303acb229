# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The connection options every PBX module shares (contract section 8).
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the PBX, scheme, host and port without a path, for example V(https://pbx.example.com).
      - SOAP goes to C(<url>/PBX0/user.soap), the bulk reads and commands to other paths of the same URL.
      - If not set, the environment variable E(INNOVAPHONE_URL) is used.
    type: str
    required: true
  username:
    description:
      - HTTP user of the PBX administration.
      - If not set, the environment variable E(INNOVAPHONE_USERNAME) is used.
    type: str
    default: admin
  password:
    description:
      - Password of O(username), the admin password or the PBX password.
      - If not set, the environment variable E(INNOVAPHONE_PASSWORD) is used.
    type: str
    required: true
  validate_certs:
    description:
      - Whether to verify the TLS certificate of an C(https) URL.
      - Only set to V(false) on trusted networks with self-signed certificates.
      - If not set, the environment variable E(INNOVAPHONE_VALIDATE_CERTS) is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities to trust for an C(https) URL, instead of the system's.
      - If not set, the environment variable E(INNOVAPHONE_CA_PATH) is used.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
      - Connection errors and HTTP 429, 502, 503 and 504 answers are retried with a capped exponential
        backoff that honours C(Retry-After).
      - If not set, the environment variable E(INNOVAPHONE_TIMEOUT) is used.
    type: int
    default: 30
  force_basic_auth:
    description:
      - Use HTTP basic authentication instead of digest; only for a PBX configured to allow it.
      - If not set, the environment variable E(INNOVAPHONE_FORCE_BASIC_AUTH) is used.
    type: bool
    default: false
requirements:
  - requests
"""

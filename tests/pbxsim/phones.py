# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Simulated innovaphone desk phones of pbxsim (interface 6 of issue 2)."""


class PhoneError(Exception):
    """A phone control call that cannot be done (HTTP 409 on the control API)."""


class PhoneFleet:
    def __init__(self, instance):
        self.instance = instance

    def provision(self, hw_id, code, address):
        raise NotImplementedError

    def get(self, hw_id):
        raise NotImplementedError

    def list(self):
        raise NotImplementedError

    def hotdesk_login(self, hw_id, user, password):
        raise NotImplementedError

    def hotdesk_logout(self, hw_id):
        raise NotImplementedError

    def reboot_phone(self, hw_id):
        raise NotImplementedError

    def on_pbx_reboot(self):
        raise NotImplementedError

    def to_dict(self):
        raise NotImplementedError

    def load_dict(self, data):
        raise NotImplementedError

    def reset(self):
        raise NotImplementedError

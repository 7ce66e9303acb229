# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Devices app of pbxsim: AppWebsocket server for one domain (interface 5 of issue 2)."""


class DevicesApp:
    def __init__(self, instance, domain, instance_password, domain_passwords=None):
        self.instance = instance
        self.domain = domain
        self.instance_password = instance_password
        self.domain_passwords = dict(domain_passwords or {})

    async def handle_websocket(self, request):
        raise NotImplementedError

    def to_dict(self):
        raise NotImplementedError

    def load_dict(self, data):
        raise NotImplementedError

    def reset(self):
        raise NotImplementedError

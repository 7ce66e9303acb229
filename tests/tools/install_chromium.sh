#!/usr/bin/env bash
# Debian's Chromium and ChromeDriver for the browser tests (tests/ecosystem): installed when missing. The tests
# never download a browser of their own; root installs with apt-get, anyone else is told what to install.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install_chromium: run as root, or install the Debian packages chromium and chromium-driver" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q chromium chromium-driver >/dev/null
chromium --version

#!/usr/bin/env bash
# A Java 17 runtime for ansible-rulebook (its rule engine, drools, runs on the JVM), from Debian's
# openjdk-17-jre-headless, installed when missing, as install_chromium.sh does for the browser tests.
set -euo pipefail
if command -v java >/dev/null && java -version 2>&1 | grep -qE 'version "(1[7-9]|2[0-9])'; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install_java: run as root, or install the Debian package openjdk-17-jre-headless" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q openjdk-17-jre-headless >/dev/null
java -version

# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pbxsim benchmark (`make bench`): SOAP show requests/s with keep-alive, and the bulk read of N users.

Starts pbxsim (with --state, the worst case for writes) as a subprocess like the tests do and talks to
it with requests + digest auth, the way the collection does. Prints one line per figure and a final
JSON line. A script, not a test.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import requests
from requests.auth import HTTPDigestAuth

TESTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENVELOPE = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            '<Admin xmlns="http://innovaphone.com/pbx"><xml>%s</xml></Admin></soap:Body></soap:Envelope>')
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"http://innovaphone.com/pbx/Admin"'}
ADMIN_PASSWORD = os.environ.get("PBXSIM_ADMIN_PASSWORD", "pbxsim-admin")
BATCH = 500


def start_pbxsim(workdir, extra):
    ready = os.path.join(workdir, "ready.json")
    command = [sys.executable, "-m", "pbxsim", "--port", "0", "--ready-file", ready] + extra
    process = subprocess.Popen(command, env=dict(os.environ, PYTHONPATH=TESTS_DIR))
    deadline = time.monotonic() + 20
    while not os.path.exists(ready):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit("pbxsim did not start")
        time.sleep(0.02)
    with open(ready, encoding="utf-8") as stream:
        return process, json.load(stream)


def session():
    http = requests.Session()
    http.auth = HTTPDigestAuth("admin", ADMIN_PASSWORD)
    http.trust_env = False
    return http


def admin(http, url, inner):
    response = http.post(url + "/PBX0/user.soap", data=ENVELOPE % escape(inner), headers=HEADERS, timeout=60)
    response.raise_for_status()
    return response.text


def populate(url, users):
    http = session()
    for start in range(0, users, BATCH):
        objects = "".join('<user cn="User %d" h323="user%d" e164="%d" pwd="pw%d"><device hw="user%d"/></user>'
                          % (n, n, 10000 + n, n, n) for n in range(start, min(start + BATCH, users)))
        answer = admin(http, url, "<add>%s</add>" % objects)
        if "&lt;ok/&gt;" not in answer:
            raise SystemExit("populating failed: %s" % answer[:300])


def cpu_seconds(pid):
    """CPU time (user + system) a process has used so far, from /proc (Linux); None elsewhere."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as stream:
            fields = stream.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def show_rate(url, users, requests_per_client, clients):
    """SOAP show requests/s over `clients` keep-alive sessions, each doing requests_per_client shows."""
    errors = []

    def client(number):
        http = session()
        admin(http, url, '<show><user cn="User 0"/></show>')  # the digest handshake, not timed
        barrier.wait()
        for index in range(requests_per_client):
            user = (number * requests_per_client + index) % users
            if 'h323="user%d"' % user not in admin(http, url, '<show><user h323="user%d"/></show>' % user)\
                    .replace("&quot;", '"'):
                errors.append(user)

    barrier = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit("wrong show answers for %d users" % len(errors))
    return clients * requests_per_client / elapsed


def write_rate(url, writes):
    """Single-user SOAP adds per second (each one rewrites the whole state file)."""
    http = session()
    admin(http, url, '<show><user cn="User 0"/></show>')
    start = time.perf_counter()
    for number in range(writes):
        if "&lt;ok/&gt;" not in admin(http, url, '<add><user cn="Extra %d" h323="extra%d"/></add>' % (number, number)):
            raise SystemExit("add refused")
    return writes / (time.perf_counter() - start)


def bulk_seconds(url, users, rounds):
    http = session()
    query = url + "/PBX0/ADMIN/mod_cmd_login.xml?cmd=show&user=*"
    http.get(query, timeout=60)
    times = []
    for _round in range(rounds):
        start = time.perf_counter()
        response = http.get(query, timeout=60)
        times.append(time.perf_counter() - start)
        if len(ET.fromstring(response.content)) != users:
            raise SystemExit("bulk read returned the wrong number of users")
    return statistics.median(times), len(response.content)


def main():
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--users", type=int, default=5000)
    args.add_argument("--requests", type=int, default=3000, help="SOAP shows per measurement")
    args.add_argument("--rounds", type=int, default=10, help="bulk reads (the median is reported)")
    args.add_argument("--writes", type=int, default=200, help="single-user adds to time")
    options = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="pbxsim-bench-") as workdir:
        process, ready = start_pbxsim(workdir, ["--state", os.path.join(workdir, "state.json")])
        try:
            start = time.perf_counter()
            populate(ready["url"], options.users)
            populate_s = time.perf_counter() - start
            results = {"users": options.users, "populate_s": round(populate_s, 2)}
            for clients in (1, 4):
                before = cpu_seconds(process.pid)
                rate = show_rate(ready["url"], options.users, options.requests // clients, clients)
                key = "%d_client%s" % (clients, "s" if clients > 1 else "")
                results["soap_show_per_s_" + key] = round(rate)
                if before is not None:
                    server_ms = (cpu_seconds(process.pid) - before) * 1000 / (options.requests // clients * clients)
                    results["server_cpu_ms_per_show_" + key] = round(server_ms, 3)
            bulk_s, size = bulk_seconds(ready["url"], options.users, options.rounds)
            results.update(bulk_read_s=round(bulk_s, 3), bulk_read_bytes=size)
            results["writes_per_s_with_state"] = round(write_rate(ready["url"], options.writes))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait()
    print("pbxsim benchmark (%d users, %d CPUs)" % (options.users, os.cpu_count()))
    print("  populate with %d-object <add> commands: %.2f s" % (BATCH, results["populate_s"]))
    for key, label in (("1_client", "1 keep-alive client: "), ("4_clients", "4 keep-alive clients:")):
        print("  SOAP show, %s %6d requests/s (aim >= 1000)%s" % (
            label, results["soap_show_per_s_" + key],
            ", pbxsim CPU %.3f ms per request" % results["server_cpu_ms_per_show_" + key]
            if "server_cpu_ms_per_show_" + key in results else ""))
    print("  bulk read of %d users: %.3f s median, %d bytes (aim <= 0.3 s)"
          % (options.users, results["bulk_read_s"], results["bulk_read_bytes"]))
    print("  single-user adds with --state (whole file rewritten each time): %d writes/s"
          % results["writes_per_s_with_state"])
    print(json.dumps(results))


if __name__ == "__main__":
    main()

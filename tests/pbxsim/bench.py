# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""pbxsim benchmark (`make bench-pbxsim`): SOAP show requests/s with keep-alive, and the bulk read of N users.

Starts pbxsim (with --state, the worst case for writes) through pbxsim.launcher like the tests do and
talks to it with requests + digest auth, the way the collection does. Prints one line per figure and a
final JSON line. A script, not a test: PYTHONPATH=tests python -m pbxsim.bench.
"""

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import requests
from requests.auth import HTTPDigestAuth

from .launcher import Pbxsim

ENVELOPE = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            '<Admin xmlns="http://innovaphone.com/pbx"><xml>%s</xml></Admin></soap:Body></soap:Envelope>')
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"http://innovaphone.com/pbx/Admin"'}
ADMIN_PASSWORD = os.environ.get("PBXSIM_ADMIN_PASSWORD", "pbxsim-admin")
BATCH = 500


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


def measure(pid, operations, run):
    """(operations per second, pbxsim CPU ms per operation or None) while run() does them."""
    before, start = cpu_seconds(pid), time.perf_counter()
    run()
    elapsed, after = time.perf_counter() - start, cpu_seconds(pid)
    return round(operations / elapsed), None if before is None else round((after - before) * 1000 / operations, 3)


def shows(url, users, requests_per_client, clients):
    """`clients` keep-alive sessions in threads, each doing requests_per_client SOAP shows."""
    errors = []

    def client(number):
        http = session()
        for index in range(requests_per_client):
            user = (number * requests_per_client + index) % users
            answer = admin(http, url, '<show><user h323="user%d"/></show>' % user)
            if 'h323="user%d"' % user not in answer:
                errors.append(user)

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit("wrong show answers for %d users" % len(errors))


def adds(url, writes):
    """Single-user SOAP adds (with --state, each one rewrites the whole state file)."""
    http = session()
    for number in range(writes):
        if "&lt;ok/&gt;" not in admin(http, url, '<add><user cn="Extra %d" h323="extra%d"/></add>' % (number, number)):
            raise SystemExit("add refused")


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
        sim = Pbxsim(workdir, ["--state", os.path.join(workdir, "state.json")], control=False).start()
        try:
            start = time.perf_counter()
            populate(sim.url, options.users)
            populate_s = time.perf_counter() - start
            results = {"users": options.users, "populate_s": round(populate_s, 2)}
            for clients in (1, 4):
                count = options.requests // clients * clients
                results["show_%d" % clients] = measure(sim.process.pid, count, lambda n=clients: shows(
                    sim.url, options.users, options.requests // n, n))
            bulk_s, size = bulk_seconds(sim.url, options.users, options.rounds)
            results.update(bulk_read_s=round(bulk_s, 3), bulk_read_bytes=size)
            results["add_with_state"] = measure(sim.process.pid, options.writes,
                                                lambda: adds(sim.url, options.writes))
        finally:
            sim.stop()
    print("pbxsim benchmark (%d users, %d CPUs)" % (options.users, os.cpu_count()))
    print("  populate with %d-object <add> commands: %.2f s" % (BATCH, results["populate_s"]))
    for clients in (1, 4):
        print("  SOAP show, %d keep-alive client(s): %5d requests/s (aim >= 1000), pbxsim CPU %s ms per request"
              % ((clients,) + tuple(results["show_%d" % clients])))
    print("  bulk read of %d users: %.3f s median, %d bytes (aim <= 0.3 s)"
          % (options.users, results["bulk_read_s"], results["bulk_read_bytes"]))
    print("  single-user adds with --state (whole file rewritten each time): %d writes/s, pbxsim CPU %s ms per write"
          % tuple(results["add_with_state"]))
    print(json.dumps(results))


if __name__ == "__main__":
    main()

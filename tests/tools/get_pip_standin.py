# Stand-in for get-pip.py, written by tests/tools/sanity.sh when ansible-test's cache lacks it.
# ansible-test downloads get-pip from a host this network cannot reach; ensurepip does the same job offline.
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)

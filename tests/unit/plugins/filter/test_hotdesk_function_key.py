# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from urllib.parse import unquote_plus

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.innovaphone.pbx.plugins.filter.hotdesk_function_key import hotdesk_function_key

# The line of the Step-by-Step Hot Desking how-to's expert configuration, verbatim.
SEED_LINE = ("vars create PHONE/USER-CFG/00000 p %3cuser%3e%3cf+id='0'+label='hot-desking'%3e"
             "%3chotdesk+label='log+out'+pbx='1'/%3e%3c/f%3e%3c/user%3e")


def test_seed_values_give_the_seed_line():
    assert hotdesk_function_key(0, "hot-desking", "log out") == SEED_LINE


def test_other_key_and_labels_round_trip_through_url_decoding():
    line = hotdesk_function_key(3, "Desk 7", "Abmelden & gehen", pbx=False, user_config=2)
    prefix = "vars create PHONE/USER-CFG/00002 p "
    assert line.startswith(prefix)
    assert " " not in line[len(prefix):]
    assert unquote_plus(line[len(prefix):]) == (
        "<user><f id='3' label='Desk 7'><hotdesk label='Abmelden &amp; gehen' pbx='0'/></f></user>")


def test_quote_in_label_cannot_break_the_attribute():
    decoded = unquote_plus(hotdesk_function_key(0, "it's me", "bye").split(" p ", 1)[1])
    assert "label='it&apos;s me'" in decoded


@pytest.mark.parametrize("args", [("x", "a", "b"), (-1, "a", "b"), (0, "", "b"), (0, "a", None)])
def test_bad_input_is_a_filter_error(args):
    with pytest.raises(AnsibleFilterError):
        hotdesk_function_key(*args)


@pytest.mark.parametrize("pbx, flag", [(False, "0"), ("false", "0"), ("no", "0"), (True, "1"), ("yes", "1")])
def test_pbx_takes_the_boolean_words_of_ansible(pbx, flag):
    assert unquote_plus(hotdesk_function_key(0, pbx=pbx)).endswith("pbx='%s'/></f></user>" % flag)


def test_pbx_that_is_no_boolean_is_a_filter_error():
    with pytest.raises(AnsibleFilterError, match="pbx must be a boolean"):
        hotdesk_function_key(0, pbx="maybe")

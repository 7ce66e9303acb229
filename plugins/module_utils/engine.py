# -*- coding: utf-8 -*-
# Copyright: contributors to innovaphone.pbx
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one engine under every module: read -> validate -> compare given keys -> plan -> apply -> re-read.

It knows nothing of HTTP, XML or JSON. A backend gives it records (dicts of module field names) and
carries out the plan:

    read_all() -> {key: record}     one (bulk) read of the current state
    create(record)                  a new object from the wanted fields
    update(key, changes)            the object `key` with `changes` ({field: value}) applied, all else kept
    delete(key)

A secret field of a current record holds the clear value when the backend could read it, or UNKNOWN.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.innovaphone.pbx.plugins.module_utils.resources import Group, State
from ansible_collections.innovaphone.pbx.plugins.module_utils.validation import ValidationError
from ansible_collections.innovaphone.pbx.plugins.module_utils.wire_names import named, see_docs

CREATE = "create"
UPDATE = "update"
DELETE = "delete"


class _Unknown:
    """A singleton, also through copies."""

    def __repr__(self):
        return "UNKNOWN"

    def __copy__(self):
        return self

    def __deepcopy__(self, _memo):
        return self


# A current value the backend cannot read (a password while the PBX key is unknown).
UNKNOWN = _Unknown()


# What a diff shows for a secret a change writes.
SECRET_CHANGED = "changed"


class NotKept(Exception):
    """The re-read after a write lacks what was written: the PBX or app dropped it, as it does with a name it does
    not know. The message names the object, the field and the wire name."""


class Change:
    def __init__(self, key, action, fields, before, after):
        self.key = key
        self.action = action
        self.fields = fields
        self.before = before
        self.after = after


class Engine:
    def __init__(self, resource, backend, check_mode=False, diff_mode=False, update_secrets="always",
                 unreadable_hint="", report_unchanged=True, parallel=1):
        self.resource = resource
        self.backend = backend
        self.check_mode = check_mode
        self.diff_mode = diff_mode
        self.update_secrets = update_secrets
        self.unreadable_hint = unreadable_hint
        # A list module may return only the entries it changed: thousands of unchanged records cost every run.
        self.report_unchanged = report_unchanged
        # Writes at once (a backend whose writes are independent HTTP requests); 1 = one after the other.
        self.parallel = parallel
        self.unreadable = []

    def read(self):
        return self.backend.read_all()

    def converge(self, entries, current=None, validate=None):
        """Bring every entry ({field: value or None, "state": present|absent}) to its wanted state.

        `validate(entries, current)` runs after the read and before the first write; it raises to stop and
        may return warnings. Returns the module result: changed, the end state of the entries, the changes,
        warnings if any, and a diff in diff mode.
        """
        if current is None:
            current = self.read()
        warnings = list(validate(entries, current) or []) if validate is not None else []
        changes = [c for c in (self.plan(entry, current) for entry in entries) if c is not None]
        if changes and not self.check_mode:
            self.apply_all(changes, dict(current))
            current = self.read()
            self.verify(changes, current)
        else:
            current = self.predict(current, changes)
        keys = [entry[self.resource.key] for entry in entries]
        if not self.report_unchanged:
            changed = set(c.key for c in changes)
            keys = [key for key in keys if key in changed]
        result = {
            "changed": bool(changes),
            self.resource.name: [self.public(current[k]) for k in keys if k in current],
            "changes": [{self.resource.key: c.key, "action": c.action, "fields": c.fields} for c in changes],
        }
        if self.unreadable:
            warnings.append("the current %s of %d %s cannot be read, so it is written on every run%s: %s" % (
                "/".join(sorted(self.resource.secret_fields)), len(self.unreadable), self.resource.name,
                self.unreadable_hint, ", ".join(self.unreadable)))
        if warnings:
            result["warnings"] = warnings
        if self.diff_mode:
            result["diff"] = {
                "before": dict((c.key, self.public(c.before)) for c in changes if c.before is not None),
                "after": dict((c.key, self.public_after(c)) for c in changes if c.after is not None),
            }
        return result

    def plan(self, entry, current):
        key = entry[self.resource.key]
        have = current.get(key)
        if entry.get("state", "present") == "absent":
            return Change(key, DELETE, [], have, None) if have is not None else None
        want = self.resource.normalised(dict((k, v) for k, v in entry.items() if v is not None and k != "state"))
        if have is None:
            return Change(key, CREATE, sorted(want), None, want)
        fields = sorted(name for name, value in want.items() if self.differs(key, name, have.get(name), value))
        if not fields:
            return None
        after = dict(have)
        after.update((name, want[name]) for name in fields)
        return Change(key, UPDATE, fields, have, after)

    def differs(self, key, name, have, want):
        if name in self.resource.secret_fields:
            if self.update_secrets == "on_create":
                return False
            if have is UNKNOWN:
                self.unreadable.append(key)
                return True
        return have != want

    def apply_all(self, changes, current):
        """Every change, in waves that free a unique value before another object takes it; within a wave, with
        `parallel`, that many at once. The first error is raised once its wave is done (the changes were validated
        together, so one failing does not make the others of its wave wrong; a re-run converges)."""
        for wave in self.waves(changes, current):
            if self.parallel <= 1 or len(wave) < 2:
                for change in wave:
                    self.apply(change)
                continue
            with ThreadPoolExecutor(max_workers=self.parallel) as pool:
                futures = [pool.submit(self.apply, change) for change in wave]
            for future in futures:
                future.result()

    def waves(self, changes, current):
        """The changes in order: one that takes a unique value (an extension, a long name) that another change
        gives up comes after it; in a cycle (two users swapping extensions) one object first lets its value go
        (its field's vacant value), and a cycle over a field that cannot be vacant is an error."""
        changing = set(c.key for c in changes)
        # Who holds each unique value now, among the objects that change: the only ones that can give one up.
        holders = dict((f.name, dict((f.unique(record[f.name]), key) for key, record in current.items()
                                     if key in changing and record.get(f.name)))
                       for f in self.resource.unique_fields)
        pending, done, waves = list(changes), set(), []
        while pending:
            ready = [c for c in pending if all(key in done for key, _f, _v in self.waits_for(c, holders))]
            if not ready:
                ready = [self.vacate(pending, holders)]
            waves.append(ready)
            # By identity: comparing changes (`in` a list) took time N x N for thousands of them.
            pending_ids, ready_ids = set(id(c) for c in pending), set(id(c) for c in ready)
            done.update(c.key for c in ready if id(c) in pending_ids)
            pending = [c for c in pending if id(c) not in ready_ids]
        return waves

    def waits_for(self, change, holders):
        """(key, field, value) of each unique value `change` takes that another changing object holds now."""
        if change.after is None:
            return []
        waits = []
        for field in self.resource.unique_fields:
            value = change.after.get(field.name) if field.name in change.fields else None
            folded = field.unique(value) if value else None
            holder = holders[field.name].get(folded) if value else None
            if holder is not None and holder != change.key:
                waits.append((holder, field, folded))
        return waits

    def vacate(self, pending, holders):
        """A first write of one object of a cycle that lets go of the unique values the others wait for."""
        wanted = [wait for c in pending for wait in self.waits_for(c, holders)]
        key = wanted[0][0]
        held = [(field, value) for holder, field, value in wanted if holder == key]
        blocked = sorted(set(field.name for field, _value in held if field.vacant is None))
        if blocked:
            raise ValidationError(["%s %r: %s cannot be passed around in a cycle; change one of them on its own "
                                   "first" % (self.resource.name, key, ", ".join(blocked))])
        for field, value in held:
            holders[field.name].pop(value, None)
        vacated = dict((field.name, field.vacant) for field, _value in held)
        return Change(key, UPDATE, sorted(vacated), None, vacated)

    def apply(self, change):
        if change.action == CREATE:
            self.backend.create(change.after)
        elif change.action == UPDATE:
            self.backend.update(change.key, dict((name, change.after[name]) for name in change.fields))
        else:
            self.backend.delete(change.key)

    def verify(self, changes, current):
        """Every value written reads back; else NotKept, instead of reporting a success the PBX did not keep."""
        what, peer = self.resource.name, getattr(self.backend, "peer", "the PBX")
        for change in changes:
            have = current.get(change.key)
            if change.action == DELETE:
                if have is not None:
                    deleted_by = self.backend.deleted_by
                    raise NotKept("%s %r is still there after %s deleted it with %s%s" % (
                        what, change.key, peer, named(deleted_by), see_docs(deleted_by)))
            elif have is None:
                raise NotKept("%s %r is not there after %s was asked to create it" % (what, change.key, peer))
            else:
                for name in sorted(change.fields, key=lambda n: getattr(self.resource.field(n), "follows", False)):
                    if have.get(name) is not UNKNOWN and have.get(name) != change.after[name]:
                        raise NotKept(self.not_kept(change.key, name, have.get(name), change.after[name], peer))

    def not_kept(self, key, name, have, want, peer):
        field = self.resource.field(name)
        where = "%s %r, field %s" % (self.resource.name, key, name)
        if isinstance(field, State):
            # A state derived from stored fields (a layer pending a change of them) names them, as the backend tells.
            lacking = getattr(self.backend, "lacking", None)
            fields = [self.resource.field(lacked) for lacked in (lacking(key, name) if lacking else [])]
            detail = "".join("; it differs in %s, %s" % (lacked.name, ", ".join(named(w) for w in lacked.wire_refs))
                             for lacked in fields)
            wires = [wire for lacked in fields for wire in lacked.wire_refs]
            return "%s: %s did not keep what was written (%s%s)%s" % (
                where, peer, field.meaning, detail, see_docs(*wires))
        wires = field.wire_refs
        if isinstance(field, Group):  # the wire names of the suboptions that differ
            wires = [wire for option, wire in field.wires if (have or {}).get(option) != want.get(option)]
        return "%s: %s was not kept by %s%s" % (where, ", ".join(named(w) for w in wires), peer, see_docs(*wires))

    @staticmethod
    def predict(current, changes):
        """The state the changes would leave (check mode)."""
        state = dict(current)
        for change in changes:
            if change.after is None:
                state.pop(change.key, None)
            else:
                state[change.key] = change.after
        return state

    def public(self, record):
        """A record fit for results and diffs (resources.Resource.public)."""
        return self.resource.public(record)

    def public_after(self, change):
        """The diff's after side: a secret the change writes reads "changed", so that a change of a password
        alone shows (both sides would show the same placeholder)."""
        after = self.public(change.after)
        if change.before is not None:
            after.update((name, SECRET_CHANGED) for name in change.fields if name in self.resource.secret_fields)
        return after

# Copyright (c) innovaphone.pbx contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PbxTableUsers: the PBX's user table, replicated over the AppWebsocket (reference 6.3; SDK pages
doc/appwebsocket/Replication.htm and PbxTableUsers.htm).

ReplicateStart names the columns the replicator wants (`{name: {update?: true}}`), ReplicateStartResult the ones the
PBX offers; ReplicateNext returns one row per ReplicateNextResult (`columns`) and, when the table is through, an
answer without `columns`. From then on every change of a row, through any interface, reaches the session as
ReplicateAdd / ReplicateUpdate / ReplicateDel; a ReplicateUpdate from the replicator changes the PBX in the columns
it marked `update`. Rows are read from the model when they are sent, so each row arrives once, as it is then.
"""

import collections

from . import crypto, model, soap, wire_names as W
from .appservice import ServiceError

API = "PbxTableUsers"
# The users table (DOC): strings unless listed as booleans; cfpr / t-cfpr are tristates pbxsim does not keep.
USER_COLUMNS = ("guid", "h323", "pwd", "cn", "dn", "apps-my", "config", "node", "loc", "hide", "e164", "cfpr",
                "t-cfpr", "pseudo", "h323-email", "apps", "fax")
BOOLEAN_COLUMNS = ("hide", "h323-email", "fax")
# Sub-tables per row (DOC); sub_tables() gives the child element pbxsim keeps their rows in.
SUB_TABLES = ("emails", "allows", "t-allows", "grps", "devices", "cds", "forks", "wakeups")
SUB_TABLE_BOOLEANS = ("admin", "no-filter", "tls", "no-mob", "trusted", "sreg", "mr")
# The columns a ReplicateUpdate can change on pbxsim: what it keeps, but the guid and the inherited ones.
UPDATABLE = ("h323", "pwd", "cn", "dn", "config", "node", "loc", "hide", "e164", "h323-email", "apps", "fax",
             "emails", "grps", "devices")


def all_columns():
    return USER_COLUMNS + SUB_TABLES


def sub_tables():
    """Sub-table -> the child element holding its rows (<grp>, <device> DOC; emails as the wire name table guesses);
    None for the ones pbxsim does not keep."""
    return {"emails": W.EMAIL_ELEMENT, "grps": "grp", "devices": "device"}


def pseudo_type(obj):
    """The pseudo type of an object; "" for a user."""
    pseudo = next((child for child in obj["children"] if child["tag"] == "pseudo"), None)
    return None if pseudo is None else pseudo["attrs"].get("type", "")


class Replication:
    """What one session replicates: its columns, which of them it may update, and where its first pass stands."""

    def __init__(self, columns, updates, pseudo, add, delete, guids):
        self.columns = columns
        self.updates = updates
        self.pseudo = pseudo
        self.add = add
        self.delete = delete
        self.pending = collections.deque(guids)     # rows of the first pass not sent yet, in order
        self.waiting = set(guids)
        self.sent = set()                # rows the replicator has

    def wants(self, obj):
        kind = pseudo_type(obj)
        return kind is None or kind in self.pseudo


class TableUsers:
    def __init__(self, service):
        self.service = service

    @property
    def pbx(self):
        return self.service.instance.pbx

    def row(self, obj, columns):
        """The row of an object in the columns asked for (the guid always): pwd encrypted with the PBX key as
        in the SDK's example (48 hex digits, the SOAP pwdx), pseudo as its XML, booleans as JSON booleans."""
        attrs, row = obj["attrs"], {"guid": obj["attrs"]["guid"]}
        tags = sub_tables()
        for column in columns:
            if column in SUB_TABLES:
                tag = tags.get(column)
                rows = [self.sub_row(child) for child in obj["children"] if tag and child["tag"] == tag]
                if rows:
                    row[column] = rows
            elif column == "pwd":
                if "pwd" in attrs:
                    row["pwd"] = crypto.pwdx(self.pbx.pbx_key, attrs["pwd"])
            elif column == "pseudo":
                pseudo = next((child for child in obj["children"] if child["tag"] == "pseudo"), None)
                if pseudo is not None:
                    row["pseudo"] = soap.to_xml(pseudo)
            elif column in BOOLEAN_COLUMNS:
                row[column] = attrs.get(column) == W.BOOLEAN_TRUE
            elif column in attrs:
                row[column] = attrs[column]
        return row

    @staticmethod
    def sub_row(child):
        return {name: (value == W.BOOLEAN_TRUE) if name in SUB_TABLE_BOOLEANS else value
                for name, value in child["attrs"].items()
                if not (name in SUB_TABLE_BOOLEANS and value != W.BOOLEAN_TRUE)}

    def event(self, session, mt, row):
        self.service.emit(session, {"api": API, "mt": mt, "columns": row})

    # --- changes from any interface -------------------------------------------------------------
    def on_change(self, changes):
        for session in list(self.service.sessions):
            replication = session.replication
            if replication is None:
                continue
            for old, new in changes:
                guid = (new or old)["attrs"]["guid"]
                if guid in replication.waiting:
                    continue                     # the first pass sends it as it is then (or skips it, deleted)
                before = guid in replication.sent
                after = new is not None and replication.wants(new)
                if after and not before:
                    if replication.add:
                        replication.sent.add(guid)
                        self.event(session, "ReplicateAdd", self.row(new, replication.columns))
                elif before and not after:
                    replication.sent.discard(guid)
                    if replication.delete:
                        self.event(session, "ReplicateDel", self.row(old, replication.columns))
                elif before and after:
                    row = self.row(new, replication.columns)
                    if row != self.row(old, replication.columns):
                        self.event(session, "ReplicateUpdate", row)

    # --- messages -------------------------------------------------------------------------------
    def granted(self, session):
        self.service.granted(session, API)
        return session.replication

    def replicate_start(self, session, message):
        self.granted(session)
        asked = message.get("columns")
        if isinstance(asked, list):
            asked = {name: {} for name in asked if isinstance(name, str)}
        if asked is not None and not isinstance(asked, dict):
            raise ServiceError("columns must be an object {name: {update?}}")
        asked = asked or {name: {} for name in all_columns()}
        columns = [name for name in asked if name in all_columns()]
        updates = {name for name in columns
                   if name in UPDATABLE and isinstance(asked[name], dict) and asked[name].get("update") is True}
        pseudo = message.get("pseudo") or []
        if not isinstance(pseudo, list) or not all(isinstance(kind, str) for kind in pseudo):
            raise ServiceError("pseudo must be a list of pseudo types")
        session.replication = Replication(columns, updates, set(pseudo), message.get("add") is True,
                                          message.get("del") is True, list(self.pbx.objects))
        return {"columns": {name: ({"update": True} if name in updates else {}) for name in columns}}

    def replicate_next(self, session, _message):
        replication = self.granted(session)
        if replication is None:
            raise ServiceError("no replication started (ReplicateStart)")
        while replication.pending:
            guid = replication.pending.popleft()
            replication.waiting.discard(guid)
            obj = self.pbx.objects.get(guid)
            if obj is not None and replication.wants(obj):
                replication.sent.add(guid)
                return {"columns": self.row(obj, replication.columns)}
        return {}

    def replicate_update(self, session, message):
        """A row changed by the replicator: its columns marked `update` change the PBX object (the others are
        ignored); the changed row then reaches every replicating session, this one too. No answer when it
        worked (Replication.htm has none); a refusal answers ReplicateUpdateResult with `error`."""
        replication = self.granted(session)
        if replication is None:
            raise ServiceError("no replication started (ReplicateStart)")
        columns = message.get("columns")
        if not isinstance(columns, dict) or not isinstance(columns.get("guid"), str):
            raise ServiceError("columns with the row's guid are required")
        obj = self.pbx.objects.get(columns["guid"].lower())
        if obj is None or not replication.wants(obj):
            raise ServiceError("no row with guid %s" % columns["guid"])
        attrs, children = dict(obj["attrs"]), list(obj["children"])
        for name, value in columns.items():
            if name not in replication.updates:
                continue
            if name in SUB_TABLES:
                tag = sub_tables().get(name)
                if tag is None:
                    continue
                rows = [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
                children = [child for child in children if child["tag"] != tag] + [
                    model.element(tag, {key: (W.BOOLEAN_TRUE if item is True else "false") if isinstance(item, bool)
                                        else str(item) for key, item in row.items()}) for row in rows]
            elif name == "pwd":
                attrs.pop("pwd", None)           # the row's pwd is encrypted, as the PBX sends it
                attrs["pwdx"] = str(value)
                self.service.instance.stats.passwords[soap.PWDX_PASSWORDS] += 1
            elif name in BOOLEAN_COLUMNS:
                attrs[name] = W.BOOLEAN_TRUE if value is True else "false"
            elif isinstance(value, str):
                attrs[name] = value
        try:
            self.pbx.modify(model.element(obj["tag"], attrs, children))
        except model.PbxError as exc:
            raise ServiceError(str(exc)) from exc
        return []

    def replicate_refused(self, session, message):
        self.granted(session)
        raise ServiceError("pbxsim does not take %s from a replicator" % message["mt"])


def handler(name):
    """A PbxTableUsers message handler for PbxApps' dispatch: the method `name` of the service's table."""
    return lambda service, session, message: getattr(service.table, name)(session, message)


HANDLERS = {
    "ReplicateStart": (handler("replicate_start"), False),
    "ReplicateNext": (handler("replicate_next"), False),
    "ReplicateUpdate": (handler("replicate_update"), True),
    "ReplicateAdd": (handler("replicate_refused"), False),
    "ReplicateDel": (handler("replicate_refused"), False),
}

#!/usr/bin/env python3
"""A stand-in for IAM Identity Center on 127.0.0.1, for awsenv's tests.

moto has neither the SSO OIDC service nor the SSO portal, so this one process
serves both, on one port, with the wire format of the real services as
botocore's models describe them (data/sso-oidc/2019-06-10 and
data/sso/2019-06-10): the same paths, methods, JSON member names, header names
and error shapes. It also serves what a browser sees: the authorize endpoint of
the authorization code flow (the URL the aws CLI v2 builds: the OIDC endpoint's
scheme and host, then /authorize) and a device verification page. Role
credentials come from moto's STS AssumeRole, so moto accepts them.

Control endpoints live under /_fake/ (see tests/fakes/README.md). They never
return a token, a secret, a code or a verifier.
"""

import argparse
import base64
import collections
import hashlib
import html
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
KNOWN_GRANTS = (DEVICE_GRANT, "authorization_code", "refresh_token")
PORTAL_SCOPE = "sso:account:access"
# The x-amzn-ErrorType suffix the real OIDC service sends (seen in aws-cli
# debug logs); SDKs keep only the part before ':'. The portal's suffix is a
# guess of the same form, there so a client that does not strip it fails here.
OIDC_ERROR_SUFFIX = ":http://internal.amazon.com/coral/com.amazonaws.sso.oidc/"
PORTAL_ERROR_SUFFIX = ":http://internal.amazon.com/coral/com.amazonaws.switchboard.portal/"

# Error shapes of sso-oidc: HTTP status and the value of the "error" member.
OIDC_ERRORS = {
    "AccessDeniedException": (400, "access_denied"),
    "AuthorizationPendingException": (400, "authorization_pending"),
    "ExpiredTokenException": (400, "expired_token"),
    "InternalServerException": (500, "server_error"),
    "InvalidClientException": (401, "invalid_client"),
    "InvalidClientMetadataException": (400, "invalid_client_metadata"),
    "InvalidGrantException": (400, "invalid_grant"),
    "InvalidRedirectUriException": (400, "invalid_redirect_uri"),
    "InvalidRequestException": (400, "invalid_request"),
    "InvalidScopeException": (400, "invalid_scope"),
    "SlowDownException": (400, "slow_down"),
    "UnauthorizedClientException": (400, "unauthorized_client"),
    "UnsupportedGrantTypeException": (400, "unsupported_grant_type"),
}
# Error shapes of the portal. ForbiddenException is not in the model, but it is
# what the real GetRoleCredentials answers for a role the user is not assigned
# ("ForbiddenException ... No access", HTTP 403, in many public reports).
PORTAL_ERRORS = {
    "ForbiddenException": 403,
    "InternalServerException": 500,
    "InvalidRequestException": 400,
    "ResourceNotFoundException": 404,
    "TooManyRequestsException": 429,
    "UnauthorizedException": 401,
}

# (method, path) -> (service, operation)
ROUTES = {
    ("POST", "/client/register"): ("oidc", "RegisterClient"),
    ("POST", "/device_authorization"): ("oidc", "StartDeviceAuthorization"),
    ("POST", "/token"): ("oidc", "CreateToken"),
    ("GET", "/federation/credentials"): ("portal", "GetRoleCredentials"),
    ("GET", "/assignment/accounts"): ("portal", "ListAccounts"),
    ("GET", "/assignment/roles"): ("portal", "ListAccountRoles"),
    ("POST", "/logout"): ("portal", "Logout"),
}
BEARER_HEADER = "x-amz-sso_bearer_token"

DEFAULT_ACCOUNTS = {
    "userName": "fake-user@example.com",
    "accounts": [
        {
            "accountId": "111111111111",
            "accountName": "dev",
            "emailAddress": "dev@example.com",
            "roles": ["ReadOnly", "Admin"],
        },
        {
            "accountId": "222222222222",
            "accountName": "prod",
            "emailAddress": "prod@example.com",
            "roles": ["ReadOnly"],
        },
    ],
}

# Values /_fake/config may change; the command line sets the first four.
CONFIG_KEYS = {
    "token_ttl": (int, float),
    "registration_ttl": (int, float),
    "device_auto_approve_after": (int,),
    "session_ttl": (int, float),
    "device_interval": (int,),
    "device_expires_in": (int,),
    "code_ttl": (int, float),
    "role_ttl": (int,),
    "page_size": (int,),
    "history_size": (int,),
    "deny": (bool,),
    "slow_down": (bool,),
    "delays": (dict,),
    "fail": (dict,),
}


class ApiError(Exception):
    """An error answer in the shape of the operation's service."""

    def __init__(self, name, message, params=None):
        super().__init__(message)
        self.name = name
        self.message = message
        self.params = params


def now():
    return time.time()


def new_secret(prefix, nbytes=48):
    return prefix + secrets.token_urlsafe(nbytes)


def new_user_code():
    letters = "BCDFGHJKLMNPQRSTVWXZ"
    pick = "".join(secrets.choice(letters) for _ in range(8))
    return f"{pick[:4]}-{pick[4:]}"


def pkce_s256(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_loopback_host(host):
    return host in ("127.0.0.1", "localhost", "[::1]", "::1")


def redirect_uri_allowed(registered, requested):
    """RFC 8252 7.3: for a loopback redirect the port may differ from the
    registered one; everything else must be equal."""
    if registered == requested:
        return True
    reg = urllib.parse.urlsplit(registered)
    req = urllib.parse.urlsplit(requested)
    if reg.scheme != "http" or not is_loopback_host(reg.hostname or ""):
        return False
    return (
        req.scheme == reg.scheme
        and req.hostname == reg.hostname
        and req.path == reg.path
        and req.query == reg.query
        and req.port is not None
    )


def load_accounts(path):
    """Read and check the accounts file; exit 2 with one line when it is bad."""
    if path is None:
        data = DEFAULT_ACCOUNTS
    else:
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as err:
            sys.exit(f"sso.py: cannot read accounts file {path}: {err}")
    problem = accounts_problem(data)
    if problem:
        sys.exit(f"sso.py: accounts file {path}: {problem}")
    return data


def accounts_problem(data):
    if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
        return 'the top level must be an object with an "accounts" list'
    for key in ("startUrl", "userName"):
        if key in data and not isinstance(data[key], str):
            return f"{key} must be a string"
    seen = set()
    for entry in data["accounts"]:
        if not isinstance(entry, dict):
            return "each account must be an object"
        account_id = entry.get("accountId")
        if not isinstance(account_id, str) or not re.fullmatch(r"\d{12}", account_id):
            return f"accountId {account_id!r} is not 12 digits"
        if account_id in seen:
            return f"accountId {account_id} appears twice"
        seen.add(account_id)
        for key in ("accountName", "emailAddress"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                return f"account {account_id}: {key} must be a non-empty string"
        roles = entry.get("roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
            return f"account {account_id}: roles must be a list of non-empty strings"
    return None


class State:
    """Everything the fake remembers; every access holds self.lock."""

    def __init__(self, args, accounts):
        self.lock = threading.Lock()
        self.startup_config = {
            "token_ttl": args.token_ttl,
            "registration_ttl": args.registration_ttl,
            "device_auto_approve_after": args.device_auto_approve_after,
            "session_ttl": 28800,
            "device_interval": 1,
            "device_expires_in": 600,
            "code_ttl": 300,
            "role_ttl": 3600,
            "page_size": 20,
            "history_size": 100,
            "deny": False,
            "slow_down": True,
            "delays": {},
            "fail": {},
        }
        self.accounts = accounts
        self.moto_url = args.moto
        self._sts = None
        self.reset()

    def reset(self):
        self.config = json.loads(json.dumps(self.startup_config))
        self.clients = {}
        self.devices = {}
        self.codes = {}
        self.sessions = {}
        self.access_tokens = {}
        self.refresh_tokens = {}
        self.operations = collections.Counter()
        self.grant_types = collections.Counter()
        self.granted = collections.Counter()
        self.errors = collections.Counter()
        self.history = collections.deque(maxlen=self.config["history_size"])

    def sts(self):
        """moto's STS, created once (boto3 clients are thread safe)."""
        if self._sts is None:
            import boto3  # pylint: disable=import-outside-toplevel
            from botocore.config import Config  # pylint: disable=import-outside-toplevel

            # Validation off so role_ttl may go below STS's 900 s minimum:
            # the tests want short-lived role credentials.
            self._sts = boto3.client(
                "sts",
                endpoint_url=self.moto_url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=Config(parameter_validation=False, retries={"max_attempts": 2}),
            )
        return self._sts

    def record(self, op, params, status, error=None):
        self.operations[op] += 1
        if error:
            self.errors[f"{op}:{error}"] += 1
        entry = {"time": round(now(), 3), "operation": op, "status": status}
        if params:
            entry["params"] = params
        if error:
            entry["error"] = error
        self.history.append(entry)

    def calls(self):
        return {
            "operations": dict(self.operations),
            "grantTypes": dict(self.grant_types),
            "granted": dict(self.granted),
            "errors": dict(self.errors),
            "recent": list(self.history),
        }

    def check_fail(self, op):
        """An error queued with /_fake/config {"fail": {op: ...}}."""
        rule = self.config["fail"].get(op)
        if not rule:
            return None
        times = rule.get("times", 1)
        if times <= 1:
            del self.config["fail"][op]
        else:
            rule["times"] = times - 1
        return ApiError(rule["error"], rule.get("message", "injected by /_fake/config"))


# ---------------------------------------------------------------- SSO OIDC


def require_fields(body, names):
    for name in names:
        if name not in body or body[name] in ("", None):
            raise ApiError("InvalidRequestException", f"{name} is required")


def check_types(body, strings=(), lists=()):
    for name in strings:
        if name in body and not isinstance(body[name], str):
            raise ApiError("InvalidRequestException", f"{name} must be a string")
    for name in lists:
        value = body.get(name)
        if name in body and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise ApiError("InvalidRequestException", f"{name} must be a list of strings")


def authenticate_client(state, body):
    """The client must exist, present its secret, and not have expired."""
    client = state.clients.get(body["clientId"])
    if client is None or not secrets.compare_digest(client["secret"], body["clientSecret"]):
        raise ApiError("InvalidClientException", "Invalid client credentials")
    if now() >= client["expires_at"]:
        raise ApiError("InvalidClientException", "Client registration has expired")
    return client


def client_allows(client, grant):
    """With no grantTypes registered, a client may use the device code and
    refresh token grants (what botocore's device flow registers and later
    refreshes with); otherwise only the grants it registered."""
    if client["grant_types"] is None:
        return grant in (DEVICE_GRANT, "refresh_token")
    return grant in client["grant_types"]


def register_client(state, body, _base):
    check_types(body, strings=("clientName", "clientType", "issuerUrl", "entitledApplicationArn"),
                lists=("scopes", "redirectUris", "grantTypes"))
    require_fields(body, ("clientName", "clientType"))
    if body["clientType"] != "public":
        raise ApiError("InvalidClientMetadataException", "clientType must be public")
    scopes = body.get("scopes") or []
    for scope in scopes:
        if not re.fullmatch(r"[a-z0-9-]+(:[a-z0-9_-]+)+", scope):
            raise ApiError("InvalidScopeException", f"Invalid scope: {scope}")
    grant_types = body.get("grantTypes")
    for grant in grant_types or []:
        if grant not in KNOWN_GRANTS:
            raise ApiError("UnsupportedGrantTypeException", f"Unsupported grant type: {grant}")
    redirect_uris = body.get("redirectUris") or []
    for uri in redirect_uris:
        parts = urllib.parse.urlsplit(uri)
        loopback = parts.scheme == "http" and is_loopback_host(parts.hostname or "")
        if not (loopback or parts.scheme == "https") or parts.fragment:
            raise ApiError("InvalidRedirectUriException", f"Invalid redirect URI: {uri}")
    if grant_types and "authorization_code" in grant_types:
        if not redirect_uris:
            raise ApiError("InvalidRedirectUriException",
                           "redirectUris is required for the authorization_code grant")
        if not body.get("issuerUrl"):
            raise ApiError("InvalidClientMetadataException",
                           "issuerUrl is required for the authorization_code grant")
    expected = state.accounts.get("startUrl")
    if expected and body.get("issuerUrl") and body["issuerUrl"] != expected:
        raise ApiError("InvalidClientMetadataException", "issuerUrl does not match this instance")
    issued = now()
    client_id = secrets.token_urlsafe(16)
    secret = new_secret("fake-client-secret-")
    state.clients[client_id] = {
        "secret": secret,
        "name": body["clientName"],
        "scopes": list(scopes),
        "grant_types": list(grant_types) if grant_types else None,
        "redirect_uris": list(redirect_uris),
        "issuer_url": body.get("issuerUrl"),
        "issued_at": issued,
        "expires_at": issued + state.config["registration_ttl"],
    }
    params = {"clientName": body["clientName"], "clientId": client_id, "scopes": list(scopes),
              "grantTypes": grant_types, "redirectUris": list(redirect_uris),
              "issuerUrl": body.get("issuerUrl")}
    return {
        "clientId": client_id,
        "clientSecret": secret,
        "clientIdIssuedAt": int(issued),
        "clientSecretExpiresAt": int(issued + state.config["registration_ttl"]),
    }, params


def start_device_authorization(state, body, base):
    check_types(body, strings=("clientId", "clientSecret", "startUrl"))
    require_fields(body, ("clientId", "clientSecret", "startUrl"))
    client = authenticate_client(state, body)
    if client["grant_types"] is not None and DEVICE_GRANT not in client["grant_types"]:
        raise ApiError("UnauthorizedClientException", "Client is not registered for the device code grant")
    expected = state.accounts.get("startUrl")
    if expected and body["startUrl"] != expected:
        raise ApiError("InvalidRequestException", "Invalid start URL")
    device_code = new_secret("fake-device-code-")
    user_code = new_user_code()
    cfg = state.config
    state.devices[device_code] = {
        "client_id": body["clientId"],
        "user_code": user_code,
        "start_url": body["startUrl"],
        "expires_at": now() + cfg["device_expires_in"],
        "interval": cfg["device_interval"],
        "status": "pending",
        "pending_answers": 0,
        "last_poll": None,
    }
    verification_uri = f"{base}/device"
    params = {"clientId": body["clientId"], "startUrl": body["startUrl"], "userCode": user_code}
    return {
        "deviceCode": device_code,
        "userCode": user_code,
        "verificationUri": verification_uri,
        "verificationUriComplete": f"{verification_uri}?user_code={user_code}",
        "expiresIn": cfg["device_expires_in"],
        "interval": cfg["device_interval"],
    }, params


def open_session(state, client_id, scopes):
    session_id = uuid.uuid4().hex
    ttl = state.config["session_ttl"]
    state.sessions[session_id] = {
        "client_id": client_id,
        "scopes": list(scopes),
        "expires_at": now() + ttl if ttl else None,
        "revoked": False,
    }
    return session_id


def session_live(state, session_id):
    session = state.sessions.get(session_id)
    if session is None or session["revoked"]:
        return False
    return session["expires_at"] is None or now() < session["expires_at"]


def issue_tokens(state, client, client_id, session_id):
    """A new access token, and a refresh token when the client registered
    scopes (the service gives none to a client registered without scopes)."""
    ttl = state.config["token_ttl"]
    access = new_secret("fake-access-token-")
    state.access_tokens[access] = {
        "session": session_id,
        "client_id": client_id,
        "scopes": list(client["scopes"]),
        "expires_at": now() + ttl,
    }
    answer = {"accessToken": access, "tokenType": "Bearer", "expiresIn": int(ttl)}
    if client["scopes"] and client_allows(client, "refresh_token"):
        refresh = new_secret("fake-refresh-token-")
        state.refresh_tokens[refresh] = {"session": session_id, "client_id": client_id}
        answer["refreshToken"] = refresh
    return answer


def grant_device_code(state, client, body):
    require_fields(body, ("deviceCode",))
    device = state.devices.get(body["deviceCode"])
    if device is None or device["client_id"] != body["clientId"]:
        raise ApiError("InvalidGrantException", "Invalid device code provided")
    if device["status"] == "redeemed":
        raise ApiError("InvalidGrantException", "Device code has already been used")
    at = now()
    if at >= device["expires_at"]:
        raise ApiError("ExpiredTokenException", "Device code has expired")
    last, device["last_poll"] = device["last_poll"], at
    if (state.config["slow_down"] and last is not None and device["status"] == "pending"
            and at - last < device["interval"] - 0.05):
        # RFC 8628 3.5: the client must add 5 s to its interval from now on.
        device["interval"] += 5
        raise ApiError("SlowDownException", "Client is polling too quickly")
    if device["status"] == "denied":
        raise ApiError("AccessDeniedException", "Authorization was denied by the user")
    if device["status"] == "pending":
        auto = state.config["device_auto_approve_after"]
        if auto and device["pending_answers"] >= auto:
            device["status"] = "approved"
        else:
            device["pending_answers"] += 1
            raise ApiError("AuthorizationPendingException", "Authorization is still pending")
    device["status"] = "redeemed"
    session_id = open_session(state, body["clientId"], client["scopes"])
    return issue_tokens(state, client, body["clientId"], session_id)


def grant_authorization_code(state, client, body):
    require_fields(body, ("code", "redirectUri", "codeVerifier"))
    grant = state.codes.pop(body["code"], None)  # one use, even a failed one
    if grant is None or grant["client_id"] != body["clientId"]:
        raise ApiError("InvalidGrantException", "Invalid authorization code provided")
    if now() >= grant["expires_at"]:
        raise ApiError("InvalidGrantException", "Authorization code has expired")
    if body["redirectUri"] != grant["redirect_uri"]:
        raise ApiError("InvalidGrantException", "redirectUri does not match the authorization request")
    if not secrets.compare_digest(pkce_s256(body["codeVerifier"]), grant["challenge"]):
        raise ApiError("InvalidGrantException", "Code verifier does not match the code challenge")
    session_id = open_session(state, body["clientId"], grant["scopes"])
    return issue_tokens(state, client, body["clientId"], session_id)


def grant_refresh_token(state, client, body):
    require_fields(body, ("refreshToken",))
    held = state.refresh_tokens.get(body["refreshToken"])
    if held is None or held["client_id"] != body["clientId"]:
        raise ApiError("InvalidGrantException", "Invalid refresh token provided")
    if not session_live(state, held["session"]):
        del state.refresh_tokens[body["refreshToken"]]
        raise ApiError("InvalidGrantException", "The session has ended; sign in again")
    # Rotation: the old refresh token stops working, a new one comes back.
    del state.refresh_tokens[body["refreshToken"]]
    return issue_tokens(state, client, body["clientId"], held["session"])


GRANTS = {
    DEVICE_GRANT: grant_device_code,
    "authorization_code": grant_authorization_code,
    "refresh_token": grant_refresh_token,
}


def create_token(state, body, _base):
    check_types(body, strings=("clientId", "clientSecret", "grantType", "deviceCode", "code",
                               "refreshToken", "redirectUri", "codeVerifier"), lists=("scope",))
    require_fields(body, ("clientId", "clientSecret", "grantType"))
    grant = body["grantType"]
    state.grant_types[grant] += 1
    params = {"clientId": body["clientId"], "grantType": grant}
    if body.get("redirectUri"):
        params["redirectUri"] = body["redirectUri"]
    try:
        client = authenticate_client(state, body)
        if grant not in GRANTS:
            raise ApiError("UnsupportedGrantTypeException", f"Unsupported grant type: {grant}")
        if not client_allows(client, grant):
            raise ApiError("UnauthorizedClientException", f"Client is not registered for {grant}")
        answer = GRANTS[grant](state, client, body)
    except ApiError as err:
        err.params = params
        raise
    state.granted[grant] += 1
    return answer, params


# ---------------------------------------------------------------- SSO portal


def bearer(state, headers):
    token = headers.get(BEARER_HEADER)
    if not token:
        raise ApiError("InvalidRequestException", f"{BEARER_HEADER} header is required")
    held = state.access_tokens.get(token)
    if held is None or now() >= held["expires_at"] or not session_live(state, held["session"]):
        raise ApiError("UnauthorizedException", "Session token not found or invalid")
    if held["scopes"] and PORTAL_SCOPE not in held["scopes"]:
        raise ApiError("UnauthorizedException", f"Access token lacks the {PORTAL_SCOPE} scope")
    return token, held


def one_param(query, name, required=False):
    values = query.get(name)
    if not values or values[0] == "":
        if required:
            raise ApiError("InvalidRequestException", f"{name} is required")
        return None
    if len(values) > 1:
        raise ApiError("InvalidRequestException", f"{name} was given more than once")
    return values[0]


def account(state, account_id):
    for entry in state.accounts["accounts"]:
        if entry["accountId"] == account_id:
            return entry
    return None


def paginate(state, query, items, kind):
    """max_result 1..100 (the model's bounds) and an opaque next_token."""
    raw_max = one_param(query, "max_result")
    size = state.config["page_size"]
    if raw_max is not None:
        if not re.fullmatch(r"\d{1,3}", raw_max) or not 1 <= int(raw_max) <= 100:
            raise ApiError("InvalidRequestException", "max_result must be between 1 and 100")
        size = int(raw_max)
    start = 0
    raw_next = one_param(query, "next_token")
    if raw_next is not None:
        try:
            decoded = base64.urlsafe_b64decode(raw_next.encode("ascii")).decode("ascii")
            prefix, offset = decoded.split(":")
            start = int(offset)
            if prefix != kind or not 0 < start < len(items):
                raise ValueError(decoded)
        except (ValueError, UnicodeError) as err:
            raise ApiError("InvalidRequestException", "Invalid next_token") from err
    page = items[start:start + size]
    following = None
    if start + size < len(items):
        following = base64.urlsafe_b64encode(f"{kind}:{start + size}".encode()).decode("ascii")
    return page, following


def list_accounts(state, query, headers):
    bearer(state, headers)
    items = [{k: a[k] for k in ("accountId", "accountName", "emailAddress")}
             for a in state.accounts["accounts"]]
    page, following = paginate(state, query, items, "accounts")
    answer = {"accountList": page}
    if following:
        answer["nextToken"] = following
    return answer, {"maxResults": one_param(query, "max_result"),
                    "paged": one_param(query, "next_token") is not None}


def list_account_roles(state, query, headers):
    bearer(state, headers)
    account_id = one_param(query, "account_id", required=True)
    params = {"accountId": account_id, "maxResults": one_param(query, "max_result"),
              "paged": one_param(query, "next_token") is not None}
    entry = account(state, account_id)
    if entry is None:
        raise ApiError("ResourceNotFoundException", "Account not found", params)
    items = [{"roleName": r, "accountId": account_id} for r in entry["roles"]]
    page, following = paginate(state, query, items, f"roles-{account_id}")
    answer = {"roleList": page}
    if following:
        answer["nextToken"] = following
    return answer, params


def get_role_credentials(state, query, headers):
    bearer(state, headers)
    role_name = one_param(query, "role_name", required=True)
    account_id = one_param(query, "account_id", required=True)
    params = {"accountId": account_id, "roleName": role_name}
    entry = account(state, account_id)
    if entry is None or role_name not in entry["roles"]:
        raise ApiError("ForbiddenException", "No access", params)
    return {"assume": (account_id, role_name)}, params


def logout(state, _query, headers):
    _token, held = bearer(state, headers)
    session_id = held["session"]
    state.sessions[session_id]["revoked"] = True
    for token in [t for t, h in state.access_tokens.items() if h["session"] == session_id]:
        del state.access_tokens[token]
    for token in [t for t, h in state.refresh_tokens.items() if h["session"] == session_id]:
        del state.refresh_tokens[token]
    return None, {}


OIDC_HANDLERS = {
    "RegisterClient": register_client,
    "StartDeviceAuthorization": start_device_authorization,
    "CreateToken": create_token,
}
PORTAL_HANDLERS = {
    "GetRoleCredentials": get_role_credentials,
    "ListAccounts": list_accounts,
    "ListAccountRoles": list_account_roles,
    "Logout": logout,
}


# ---------------------------------------------------------------- browser side


def page(title, text):
    body = (f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>")
    return body.encode("utf-8")


def with_query(uri, pairs):
    parts = urllib.parse.urlsplit(uri)
    extra = urllib.parse.urlencode([(k, v) for k, v in pairs if v is not None])
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urllib.parse.urlunsplit(parts._replace(query=query))


def authorize(state, query):
    """GET /authorize as the browser sees it. Answers (status, location, page,
    params, error). Problems with the client or the redirect URI are shown,
    never redirected (RFC 6749 4.1.2.1); the others go back to the client."""
    def first(name):
        values = query.get(name)
        return values[0] if values else None

    client_id, redirect_uri, state_param = first("client_id"), first("redirect_uri"), first("state")
    params = {"clientId": client_id, "redirectUri": redirect_uri, "scopes": first("scopes"),
              "responseType": first("response_type"),
              "codeChallengeMethod": first("code_challenge_method")}
    client = state.clients.get(client_id or "")
    if client is None or now() >= client["expires_at"]:
        return 400, None, page("Error", "Unknown or expired client"), params, "invalid_client"
    if not redirect_uri or not any(redirect_uri_allowed(r, redirect_uri)
                                   for r in client["redirect_uris"]):
        return 400, None, page("Error", "redirect_uri is not registered"), params, "invalid_redirect_uri"

    def back(error, description):
        location = with_query(redirect_uri, [("error", error), ("error_description", description),
                                             ("state", state_param)])
        return 302, location, page("Redirecting", "Back to the application"), params, error

    if first("response_type") != "code":
        return back("unsupported_response_type", "response_type must be code")
    if not client_allows(client, "authorization_code"):
        return back("unauthorized_client", "Client is not registered for authorization_code")
    if first("code_challenge_method") != "S256":
        return back("invalid_request", "code_challenge_method must be S256")
    challenge = first("code_challenge") or ""
    if not re.fullmatch(r"[A-Za-z0-9_-]{43}", challenge):
        return back("invalid_request", "code_challenge must be 43 base64url characters")
    scopes = (first("scopes") or "").split()
    if not scopes:
        scopes = list(client["scopes"])
    if any(scope not in client["scopes"] for scope in scopes):
        return back("invalid_scope", "scopes must be among the registered scopes")
    if state.config["deny"]:
        return back("access_denied", "The user denied the request")
    code = new_secret("fake-auth-code-", 24)
    state.codes[code] = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "challenge": challenge,
        "scopes": scopes,
        "expires_at": now() + state.config["code_ttl"],
    }
    location = with_query(redirect_uri, [("code", code), ("state", state_param)])
    return 302, location, page("Signed in", "Back to the application"), params, None


def device_page(state, query):
    """GET /device[?user_code=..]: the user's visit to the verification page.
    Visiting it with a user code stands for the user pressing Allow (or Deny,
    with the deny switch on)."""
    user_code = (query.get("user_code") or [""])[0]
    params = {"userCode": user_code or None}
    if not user_code:
        return 200, page("Authorize request", "Enter the code shown by your application"), params, None
    for device in state.devices.values():
        if device["user_code"] == user_code and device["status"] == "pending" \
                and now() < device["expires_at"]:
            if state.config["deny"]:
                device["status"] = "denied"
                return 200, page("Request denied", "You may close this window"), params, "access_denied"
            device["status"] = "approved"
            return 200, page("Request approved", "You may close this window"), params, None
    return 404, page("Error", "Unknown or expired code"), params, "unknown_user_code"


# ---------------------------------------------------------------- control


def decide_devices(state, body, status):
    if body.get("all") is True:
        chosen = [d for d in state.devices.values() if d["status"] == "pending"]
    elif isinstance(body.get("userCode"), str):
        chosen = [d for d in state.devices.values()
                  if d["user_code"] == body["userCode"] and d["status"] == "pending"]
        if not chosen:
            return 404, {"message": "no pending device authorization has that userCode"}
    else:
        return 400, {"message": 'give {"userCode": ".."} or {"all": true}'}
    for device in chosen:
        device["status"] = status
    return 200, {status: len(chosen)}


def config_problem(state, body):
    for key, value in body.items():
        if key not in CONFIG_KEYS:
            return f"unknown config key {key}"
        wanted = CONFIG_KEYS[key]
        if not isinstance(value, wanted) or (bool not in wanted and isinstance(value, bool)):
            return f"{key} has the wrong type"
        if key in ("token_ttl", "registration_ttl", "code_ttl", "role_ttl", "device_interval",
                   "device_expires_in", "page_size", "history_size") and value <= 0:
            return f"{key} must be positive"
        if key in ("session_ttl", "device_auto_approve_after") and value < 0:
            return f"{key} must not be negative"
    for op, delay in body.get("delays", {}).items():
        if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
            return f"delay for {op} must be a number of seconds"
    for op, rule in body.get("fail", {}).items():
        known = OIDC_ERRORS if op in OIDC_HANDLERS else PORTAL_ERRORS if op in PORTAL_HANDLERS else None
        if known is None:
            return f"fail: unknown operation {op}"
        if not isinstance(rule, dict) or rule.get("error") not in known:
            return f"fail: {op} needs an error the service has"
        if not isinstance(rule.get("times", 1), int) or rule.get("times", 1) < 1:
            return f"fail: {op} times must be a positive integer"
    return None


def expire(state, body):
    """Make chosen credentials stop working now, as time passing would."""
    past = now() - 1
    done = {}
    if body.get("accessTokens"):
        for held in state.access_tokens.values():
            held["expires_at"] = past
        done["accessTokens"] = len(state.access_tokens)
    if body.get("refreshTokens"):
        done["refreshTokens"] = len(state.refresh_tokens)
        state.refresh_tokens.clear()
    if body.get("registrations"):
        for client in state.clients.values():
            client["expires_at"] = past
        done["registrations"] = len(state.clients)
    if body.get("sessions"):
        for session in state.sessions.values():
            session["expires_at"] = past
        done["sessions"] = len(state.sessions)
    if body.get("devices"):
        for device in state.devices.values():
            device["expires_at"] = past
        done["devices"] = len(state.devices)
    return done


def control(state, method, path, body):
    if method == "GET" and path == "/_fake/calls":
        return 200, state.calls()
    if method == "GET" and path == "/_fake/config":
        return 200, state.config
    if method != "POST":
        return 404, {"message": f"no control endpoint {method} {path}"}
    if not isinstance(body, dict):
        return 400, {"message": "the body must be a JSON object"}
    if path == "/_fake/reset":
        state.reset()
        return 200, {"reset": True}
    if path == "/_fake/config":
        problem = config_problem(state, body)
        if problem:
            return 400, {"message": problem}
        state.config.update(json.loads(json.dumps(body)))
        if "history_size" in body:
            state.history = collections.deque(state.history, maxlen=body["history_size"])
        return 200, state.config
    if path == "/_fake/approve":
        return decide_devices(state, body, "approved")
    if path == "/_fake/deny":
        return decide_devices(state, body, "denied")
    if path == "/_fake/expire":
        return 200, expire(state, body)
    return 404, {"message": f"no control endpoint {method} {path}"}


# ---------------------------------------------------------------- HTTP


def role_session_name(state):
    name = re.sub(r"[^\w+=,.@-]", "-", state.accounts.get("userName") or "fake-user")
    return (name + "--")[:64] if len(name) < 2 else name[:64]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-sso/1"
    # Headers and body go out in two writes; without this, Nagle's algorithm
    # and a client's delayed ACK add 40 ms to keep-alive requests.
    disable_nagle_algorithm = True
    state = None
    base = None
    verbose = False

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.verbose:
            sys.stderr.write("sso.py: " + (format % args) + "\n")

    def do_GET(self):  # pylint: disable=invalid-name
        self.dispatch()

    def do_POST(self):  # pylint: disable=invalid-name
        self.dispatch()

    def do_PUT(self):  # pylint: disable=invalid-name
        self.dispatch()

    def do_DELETE(self):  # pylint: disable=invalid-name
        self.dispatch()

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, body, content_type, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, headers=()):
        self.send(status, json.dumps(obj).encode("utf-8"), "application/json", headers)

    def dispatch(self):
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        raw = self.read_body()
        state = self.state
        if path.startswith("/_fake/"):
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = None
            with state.lock:
                status, answer = control(state, self.command, path, body)
            self.send_json(status, answer)
            return
        if self.command == "GET" and path in ("/authorize", "/device"):
            self.browser(path, query)
            return
        route = ROUTES.get((self.command, path))
        if route is None:
            self.send_json(404, {"message": f"No operation at {self.command} {path}"},
                           [("x-amzn-ErrorType", "UnknownOperationException")])
            return
        service, op = route
        with state.lock:
            delay = state.config["delays"].get(op, 0)
        if delay:
            time.sleep(delay)
        status, answer, params, error = self.api(service, op, query, raw)
        with state.lock:
            state.record(op, params, status, error)
        request_id = ("x-amzn-RequestId", str(uuid.uuid4()))
        if error is None:
            if answer is None:
                self.send(200, b"", "application/json", [request_id])
            else:
                self.send_json(200, answer, [request_id])
            return
        suffix = OIDC_ERROR_SUFFIX if service == "oidc" else PORTAL_ERROR_SUFFIX
        self.send_json(status, answer, [request_id, ("x-amzn-ErrorType", error + suffix)])

    def api(self, service, op, query, raw):
        """Run one operation: (status, answer, params, error name or None)."""
        state = self.state
        params = None
        try:
            with state.lock:
                injected = state.check_fail(op)
            if injected:
                raise injected
            if service == "oidc":
                content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if content_type != "application/json":
                    raise ApiError("InvalidRequestException", "Content-Type must be application/json")
                try:
                    body = json.loads(raw)
                except ValueError as err:
                    raise ApiError("InvalidRequestException", "The body is not valid JSON") from err
                if not isinstance(body, dict):
                    raise ApiError("InvalidRequestException", "The body must be a JSON object")
                with state.lock:
                    answer, params = OIDC_HANDLERS[op](state, body, self.base)
            else:
                with state.lock:
                    answer, params = PORTAL_HANDLERS[op](state, query, self.headers)
                    role_ttl = state.config["role_ttl"]
                if op == "GetRoleCredentials":
                    answer = self.role_credentials(*answer["assume"], role_ttl)
            return 200, answer, params, None
        except ApiError as err:
            params = err.params if err.params is not None else params
            if service == "oidc":
                status, code = OIDC_ERRORS[err.name]
                return status, {"error": code, "error_description": err.message}, params, err.name
            return PORTAL_ERRORS[err.name], {"message": err.message}, params, err.name

    def role_credentials(self, account_id, role_name, role_ttl):
        state = self.state
        try:
            creds = state.sts().assume_role(
                RoleArn=f"arn:aws:iam::{account_id}:role/{role_name}",
                RoleSessionName=role_session_name(state),
                DurationSeconds=role_ttl,
            )["Credentials"]
        except Exception as err:  # pylint: disable=broad-except
            raise ApiError("InternalServerException",
                           f"moto STS AssumeRole failed: {type(err).__name__}") from err
        return {"roleCredentials": {
            "accessKeyId": creds["AccessKeyId"],
            "secretAccessKey": creds["SecretAccessKey"],
            "sessionToken": creds["SessionToken"],
            "expiration": int(creds["Expiration"].timestamp() * 1000),
        }}

    def browser(self, path, query):
        state = self.state
        op = "Authorize" if path == "/authorize" else "DevicePage"
        with state.lock:
            delay = state.config["delays"].get(op, 0)
        if delay:
            time.sleep(delay)
        with state.lock:
            if op == "Authorize":
                status, location, body, params, error = authorize(state, query)
            else:
                status, body, params, error = device_page(state, query)
                location = None
            state.record(op, params, status, error)
        headers = [("Location", location)] if location else []
        self.send(status, body, "text/html; charset=utf-8", headers)


def main():
    parser = argparse.ArgumentParser(description="Fake IAM Identity Center (SSO OIDC + portal)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    parser.add_argument("--moto", required=True, help="moto server URL, for STS AssumeRole")
    parser.add_argument("--accounts", help="accounts JSON file (see README.md)")
    parser.add_argument("--token-ttl", type=int, default=3600, help="access token lifetime, seconds")
    parser.add_argument("--registration-ttl", type=int, default=90 * 86400,
                        help="client registration lifetime, seconds")
    parser.add_argument("--device-auto-approve-after", type=int, default=0,
                        help="approve a device authorization after N pending polls; 0 = never")
    parser.add_argument("--verbose", action="store_true", help="log request lines to stderr")
    args = parser.parse_args()
    for name in ("token_ttl", "registration_ttl"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    if args.device_auto_approve_after < 0:
        parser.error("--device-auto-approve-after must not be negative")
    moto = urllib.parse.urlsplit(args.moto)
    if moto.scheme != "http" or not is_loopback_host(moto.hostname or ""):
        parser.error("--moto must be an http URL on 127.0.0.1")

    state = State(args, load_accounts(args.accounts))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    Handler.state = state
    Handler.base = f"http://127.0.0.1:{port}"
    Handler.verbose = args.verbose
    print(f"listening on 127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

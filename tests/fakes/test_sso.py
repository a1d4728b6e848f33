#!/usr/bin/env python3
"""Self-test of tests/fakes/sso.py and tests/fakes/browser.sh.

Starts moto's server and the fake on 127.0.0.1 and drives them with boto3's
own clients (sso-oidc, sso, sts), a small independent PKCE client, browser.sh,
raw HTTP, and boto3's SSO credential provider reading a token cache written in
the aws CLI v2 format. Plain asserts; prints "N passed, M failed"; exits 1 on
any failure.

    python3 tests/fakes/test_sso.py
"""

import base64
import datetime
import hashlib
import http.client
import http.server
import json
import os
import pathlib
import re
import secrets
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

HERE = pathlib.Path(__file__).resolve().parent
FAKE = HERE / "sso.py"
BROWSER = HERE / "browser.sh"
START_URL = "https://d-9067000000.awsapps.com/start"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CACHE_TIME = "%Y-%m-%dT%H:%M:%SZ"  # how the aws CLI v2 and botocore write times
ACCOUNTS = {
    "startUrl": START_URL,
    "userName": "alice@example.com",
    "accounts": [
        {"accountId": "111111111111", "accountName": "dev",
         "emailAddress": "dev@example.com", "roles": ["ReadOnly", "Admin"]},
        {"accountId": "222222222222", "accountName": "prod",
         "emailAddress": "prod@example.com", "roles": ["ReadOnly"]},
        {"accountId": "333333333333", "accountName": "sandbox",
         "emailAddress": "sandbox@example.com", "roles": ["Admin", "PowerUser", "ReadOnly"]},
    ],
}

# Every secret the fake hands out; none may show up in /_fake/calls.
SECRETS = set()
TESTS = []


def test(func):
    TESTS.append(func)
    return func


# ---------------------------------------------------------------- plumbing


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_call(url, method, path, body=None, headers=None):
    """One request with http.client (never a proxy). Answers
    (status, headers, parsed JSON or raw bytes)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        conn.request(method, path, body=data, headers=headers or {})
        resp = conn.getresponse()
        raw = resp.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, parsed
    finally:
        conn.close()


class Servers:
    def __init__(self, tmp):
        self.tmp = tmp
        self.moto_proc = None
        self.fake_proc = None
        self.moto = None
        self.url = None

    def start(self):
        port = free_port()
        self.moto_proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=open(self.tmp / "moto.log", "wb"))
        self.moto = f"http://127.0.0.1:{port}"
        deadline = time.time() + 20
        while True:
            try:
                if http_call(self.moto, "GET", "/moto-api/data.json")[0] == 200:
                    break
            except OSError:
                pass
            assert time.time() < deadline, "moto did not start within 20 s"
            assert self.moto_proc.poll() is None, "moto exited at start"
            time.sleep(0.1)
        accounts = self.tmp / "accounts.json"
        accounts.write_text(json.dumps(ACCOUNTS))
        self.fake_stderr = open(self.tmp / "fake.stderr", "wb")
        self.fake_proc = subprocess.Popen(
            [sys.executable, str(FAKE), "--port", "0", "--moto", self.moto,
             "--accounts", str(accounts)],
            stdout=subprocess.PIPE, stderr=self.fake_stderr)
        ready, _, _ = select.select([self.fake_proc.stdout], [], [], 20)
        assert ready, "the fake printed nothing within 20 s"
        line = self.fake_proc.stdout.readline().decode()
        match = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", line)
        assert match, f"unexpected first line {line!r}"
        self.url = f"http://127.0.0.1:{match.group(1)}"

    def stop(self):
        for proc in (self.fake_proc, self.moto_proc):
            if proc and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()


SRV = None


def control(path, body=None):
    status, _, answer = http_call(SRV.url, "POST" if body is not None else "GET",
                                  f"/_fake/{path}", body,
                                  {"Content-Type": "application/json"} if body is not None else {})
    assert status == 200, (path, status, answer)
    return answer


def configure(**values):
    return control("config", values)


def calls():
    return control("calls")


def client(service, endpoint=None):
    """boto3's own client for a service, unsigned as botocore's SSO code makes
    them, with no retries so that the fake's counts are exact."""
    return boto3.client(
        service, endpoint_url=endpoint or SRV.url, region_name="us-east-1",
        config=Config(signature_version=botocore.UNSIGNED, retries={"total_max_attempts": 1}))


def sts_with(creds):
    return boto3.client(
        "sts", endpoint_url=SRV.moto, region_name="us-east-1",
        aws_access_key_id=creds["accessKeyId"], aws_secret_access_key=creds["secretAccessKey"],
        aws_session_token=creds["sessionToken"])


def error_of(func, **kwargs):
    """Calls func, which must fail; answers botocore's parsed error response."""
    try:
        func(**kwargs)
    except ClientError as err:
        return err.response
    raise AssertionError(f"{func.__name__} succeeded but should have failed")


def remember(*values):
    for value in values:
        if value:
            SECRETS.add(value)


def register(oidc, **extra):
    kwargs = {"clientName": "botocore-client-test", "clientType": "public",
              "scopes": ["sso:account:access"]}
    kwargs.update(extra)
    reg = oidc.register_client(**{k: v for k, v in kwargs.items() if v is not None})
    remember(reg["clientSecret"])
    return reg


def device_sign_in(oidc, reg):
    """Device flow with the user approving through /_fake/approve."""
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL)
    remember(auth["deviceCode"])
    control("approve", {"userCode": auth["userCode"]})
    token = oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                              grantType=DEVICE_GRANT, deviceCode=auth["deviceCode"])
    remember(token["accessToken"], token.get("refreshToken"))
    return token


def run_browser(url, log, mode="follow", timeout=30):
    env = dict(os.environ, FAKE_BROWSER_LOG=str(log), FAKE_BROWSER_MODE=mode)
    return subprocess.run(["bash", str(BROWSER), url], env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


# ---------------------------------------------------------------- device flow


@test
def device_flow_end_to_end():
    oidc = client("sso-oidc")
    reg = register(oidc)
    assert reg["clientSecretExpiresAt"] - reg["clientIdIssuedAt"] == 90 * 86400, reg
    assert abs(reg["clientIdIssuedAt"] - time.time()) < 5
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL)
    remember(auth["deviceCode"])
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", auth["userCode"]), auth["userCode"]
    assert auth["verificationUri"] == f"{SRV.url}/device"
    assert auth["verificationUriComplete"] == f"{SRV.url}/device?user_code={auth['userCode']}"
    assert auth["expiresIn"] == 600 and auth["interval"] == 1
    poll = {"clientId": reg["clientId"], "clientSecret": reg["clientSecret"],
            "grantType": DEVICE_GRANT, "deviceCode": auth["deviceCode"]}
    err = error_of(oidc.create_token, **poll)
    assert err["Error"]["Code"] == "AuthorizationPendingException", err
    assert err["error"] == "authorization_pending" and err["ResponseMetadata"]["HTTPStatusCode"] == 400
    control("approve", {"userCode": auth["userCode"]})
    time.sleep(1.05)
    token = oidc.create_token(**poll)
    remember(token["accessToken"], token["refreshToken"])
    assert token["tokenType"] == "Bearer" and token["expiresIn"] == 3600, token
    assert token["accessToken"] and token["refreshToken"]
    time.sleep(1.05)
    err = error_of(oidc.create_token, **poll)
    assert err["Error"]["Code"] == "InvalidGrantException", "a device code is redeemed once"
    # The token reaches the portal.
    accounts = client("sso").list_accounts(accessToken=token["accessToken"])["accountList"]
    assert [a["accountId"] for a in accounts] == ["111111111111", "222222222222", "333333333333"]
    seen = calls()
    assert seen["operations"]["RegisterClient"] == 1
    assert seen["operations"]["StartDeviceAuthorization"] == 1
    assert seen["operations"]["CreateToken"] == 3
    assert seen["grantTypes"] == {DEVICE_GRANT: 3}
    assert seen["granted"] == {DEVICE_GRANT: 1}


@test
def device_page_through_browser():
    """The user opens verificationUriComplete in the browser and allows."""
    oidc = client("sso-oidc")
    reg = register(oidc)
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL)
    remember(auth["deviceCode"])
    log = SRV.tmp / "device-browser.log"
    done = run_browser(auth["verificationUriComplete"], log)
    assert done.returncode == 0, done.stderr
    lines = log.read_text().splitlines()
    assert len(lines) == 1 and lines[0].endswith(f" follow {auth['verificationUriComplete']}")
    token = oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                              grantType=DEVICE_GRANT, deviceCode=auth["deviceCode"])
    remember(token["accessToken"], token["refreshToken"])
    assert calls()["operations"]["DevicePage"] == 1


@test
def device_flow_refusals():
    oidc = client("sso-oidc")
    reg = register(oidc)
    creds = {"clientId": reg["clientId"], "clientSecret": reg["clientSecret"]}

    def start():
        auth = oidc.start_device_authorization(startUrl=START_URL, **creds)
        remember(auth["deviceCode"])
        return auth, dict(creds, grantType=DEVICE_GRANT, deviceCode=auth["deviceCode"])

    auth, poll = start()  # denied by the user
    control("deny", {"userCode": auth["userCode"]})
    err = error_of(oidc.create_token, **poll)
    assert err["Error"]["Code"] == "AccessDeniedException" and err["error"] == "access_denied"

    auth, poll = start()  # polled faster than the interval: slow_down, +5 s
    error_of(oidc.create_token, **poll)
    err = error_of(oidc.create_token, **poll)
    assert err["Error"]["Code"] == "SlowDownException" and err["error"] == "slow_down", err
    time.sleep(1.1)
    err = error_of(oidc.create_token, **poll)
    assert err["Error"]["Code"] == "SlowDownException", "the interval grew by 5 s"

    configure(device_expires_in=1)  # the user never came
    auth, poll = start()
    assert auth["expiresIn"] == 1
    time.sleep(1.1)
    err = error_of(oidc.create_token, **poll)
    assert err["Error"]["Code"] == "ExpiredTokenException" and err["error"] == "expired_token"
    configure(device_expires_in=600)

    configure(device_auto_approve_after=2)  # approved after two pending answers
    auth, poll = start()
    for _ in range(2):
        err = error_of(oidc.create_token, **poll)
        assert err["Error"]["Code"] == "AuthorizationPendingException"
        time.sleep(1.05)
    token = oidc.create_token(**poll)
    remember(token["accessToken"], token["refreshToken"])

    err = error_of(oidc.start_device_authorization, startUrl=START_URL,
                   clientId=reg["clientId"], clientSecret="wrong")
    assert err["Error"]["Code"] == "InvalidClientException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 401 and err["error"] == "invalid_client"
    err = error_of(oidc.create_token, clientId="no-such-client", clientSecret="x",
                   grantType=DEVICE_GRANT, deviceCode="x")
    assert err["Error"]["Code"] == "InvalidClientException"
    err = error_of(oidc.start_device_authorization, startUrl="https://other.awsapps.com/start",
                   **creds)
    assert err["Error"]["Code"] == "InvalidRequestException", "wrong start URL"
    err = error_of(oidc.create_token, grantType=DEVICE_GRANT, deviceCode="made-up", **creds)
    assert err["Error"]["Code"] == "InvalidGrantException"

    bare = register(oidc, scopes=None)  # no scopes: a token without refresh token
    token = device_sign_in(oidc, bare)
    assert "refreshToken" not in token, "no refresh token without registered scopes"
    auth_only = register(oidc, grantTypes=["authorization_code", "refresh_token"],
                         redirectUris=["http://127.0.0.1/oauth/callback"], issuerUrl=START_URL)
    err = error_of(oidc.start_device_authorization, startUrl=START_URL,
                   clientId=auth_only["clientId"], clientSecret=auth_only["clientSecret"])
    assert err["Error"]["Code"] == "UnauthorizedClientException"


@test
def registration_expires():
    configure(registration_ttl=1)
    oidc = client("sso-oidc")
    reg = register(oidc)
    assert reg["clientSecretExpiresAt"] - reg["clientIdIssuedAt"] == 1
    token = device_sign_in(oidc, reg)
    time.sleep(1.1)
    err = error_of(oidc.start_device_authorization, startUrl=START_URL,
                   clientId=reg["clientId"], clientSecret=reg["clientSecret"])
    assert err["Error"]["Code"] == "InvalidClientException"
    err = error_of(oidc.create_token, clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                   grantType="refresh_token", refreshToken=token["refreshToken"])
    assert err["Error"]["Code"] == "InvalidClientException", "no refresh past the registration"


# ---------------------------------------------------------------- strictness


def raw_oidc(path, body, content_type="application/json"):
    headers = {"Content-Type": content_type} if content_type else {}
    return http_call(SRV.url, "POST", path, body, headers)


@test
def strict_requests():
    status, headers, body = raw_oidc("/token", {"clientId": "a", "clientSecret": "b"})
    assert status == 400 and body == {"error": "invalid_request",
                                      "error_description": "grantType is required"}, body
    assert headers["x-amzn-errortype"].startswith("InvalidRequestException:"), headers
    assert "x-amzn-requestid" in headers
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        status, headers, body = raw_oidc(
            "/client/register", {"clientName": "a", "clientType": "public"}, content_type)
        assert status == 400 and body["error"] == "invalid_request", (content_type, body)
    status, _, body = raw_oidc("/device_authorization", b"[]")
    assert status == 400 and body["error"] == "invalid_request"
    status, _, body = raw_oidc("/device_authorization", b"{not json")
    assert status == 400 and body["error"] == "invalid_request"
    status, _, body = raw_oidc("/device_authorization", {"clientId": 5, "clientSecret": "b",
                                                          "startUrl": START_URL})
    assert status == 400 and body["error"] == "invalid_request", "clientId must be a string"

    oidc = client("sso-oidc")
    for kwargs, code in [
        ({"clientType": "confidential"}, "InvalidClientMetadataException"),
        ({"scopes": ["not a scope"]}, "InvalidScopeException"),
        ({"grantTypes": ["password"]}, "UnsupportedGrantTypeException"),
        ({"grantTypes": ["authorization_code"], "issuerUrl": START_URL},
         "InvalidRedirectUriException"),
        ({"grantTypes": ["authorization_code"], "issuerUrl": START_URL,
          "redirectUris": ["http://example.com/cb"]}, "InvalidRedirectUriException"),
        ({"grantTypes": ["authorization_code"], "redirectUris": ["http://127.0.0.1/cb"]},
         "InvalidClientMetadataException"),
        ({"grantTypes": ["authorization_code"], "redirectUris": ["http://127.0.0.1/cb"],
          "issuerUrl": "https://other.awsapps.com/start"}, "InvalidClientMetadataException"),
    ]:
        args = {"clientName": "x", "clientType": "public"}
        args.update(kwargs)
        err = error_of(oidc.register_client, **args)
        assert err["Error"]["Code"] == code, (kwargs, err["Error"])
    reg = register(oidc)
    err = error_of(oidc.create_token, clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                   grantType="password")
    assert err["Error"]["Code"] == "UnsupportedGrantTypeException"
    err = error_of(oidc.create_token, clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                   grantType="authorization_code", code="x", redirectUri="http://127.0.0.1:1/cb",
                   codeVerifier="x" * 43)
    assert err["Error"]["Code"] == "UnauthorizedClientException", "not registered for it"

    status, headers, body = http_call(SRV.url, "GET",
                                      "/federation/credentials?role_name=A&account_id=111111111111")
    assert status == 400 and headers["x-amzn-errortype"].startswith("InvalidRequestException:")
    assert body == {"message": "x-amz-sso_bearer_token header is required"}
    token = device_sign_in(oidc, reg)["accessToken"]
    auth = {"x-amz-sso_bearer_token": token}
    for path in ("/federation/credentials?account_id=111111111111",
                 "/federation/credentials?role_name=ReadOnly",
                 "/assignment/roles",
                 "/assignment/accounts?max_result=0",
                 "/assignment/accounts?max_result=101",
                 "/assignment/accounts?next_token=bogus"):
        status, headers, body = http_call(SRV.url, "GET", path, headers=auth)
        assert status == 400 and body["message"], (path, status, body)
    status, headers, _ = http_call(SRV.url, "GET", "/no/such/path")
    assert status == 404 and headers["x-amzn-errortype"] == "UnknownOperationException"
    status, _, _ = http_call(SRV.url, "GET", "/token")
    assert status == 404, "CreateToken is POST only"


# ---------------------------------------------------------------- PKCE


class CallbackCatcher:
    """The client side of the loopback redirect: one listener on 127.0.0.1."""

    def __init__(self):
        self.queries = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # pylint: disable=invalid-name
                parts = urllib.parse.urlsplit(self.path)
                outer.queries.append((parts.path, urllib.parse.parse_qs(parts.query)))
                body = b"Signed in. You may close this window."
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.redirect_uri = f"http://127.0.0.1:{self.port}/oauth/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class PkceClient:
    """An independent authorization code + PKCE client, built the way the aws
    CLI v2 (SSOTokenFetcherAuth) builds its requests."""

    def __init__(self, oidc, reg):
        self.oidc = oidc
        self.reg = reg
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
        self.verifier = "".join(secrets.choice(alphabet) for _ in range(64))
        digest = hashlib.sha256(self.verifier.encode()).digest()
        self.challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        self.state = str(uuid.uuid4())
        self.catcher = CallbackCatcher()
        remember(self.verifier)

    def url(self, redirect_uri=None, **override):
        query = {"response_type": "code", "client_id": self.reg["clientId"],
                 "redirect_uri": redirect_uri or self.catcher.redirect_uri,
                 "state": self.state, "code_challenge_method": "S256",
                 "scopes": "sso:account:access"}
        query.update(override)
        return (f"{SRV.url}/authorize?"
                f"{urllib.parse.urlencode(query, quote_via=urllib.parse.quote)}"
                f"&code_challenge={self.challenge}")

    def sign_in(self, log):
        done = run_browser(self.url(), log)
        assert done.returncode == 0, done.stderr
        path, query = self.catcher.queries[-1]
        assert path == "/oauth/callback"
        assert query["state"] == [self.state], "state comes back unchanged"
        remember(query["code"][0])
        return query["code"][0]

    def token(self, code, verifier=None, redirect_uri=None):
        answer = self.oidc.create_token(
            clientId=self.reg["clientId"], clientSecret=self.reg["clientSecret"],
            grantType="authorization_code", code=code,
            redirectUri=redirect_uri or self.catcher.redirect_uri,
            codeVerifier=verifier or self.verifier)
        remember(answer["accessToken"], answer.get("refreshToken"))
        return answer


def pkce_registration(oidc):
    return register(oidc, clientName="botocore-client-corp",
                    grantTypes=["authorization_code", "refresh_token"],
                    redirectUris=["http://127.0.0.1/oauth/callback"], issuerUrl=START_URL)


@test
def pkce_flow():
    oidc = client("sso-oidc")
    pkce = PkceClient(oidc, pkce_registration(oidc))
    log = SRV.tmp / "pkce-browser.log"
    try:
        code = pkce.sign_in(log)  # a wrong verifier is refused, and burns the code
        err = error_of(pkce.token, code=code, verifier="W" * 64)
        assert err["Error"]["Code"] == "InvalidGrantException" and err["error"] == "invalid_grant"
        err = error_of(pkce.token, code=code)
        assert err["Error"]["Code"] == "InvalidGrantException", "a code is used once"

        code = pkce.sign_in(log)  # a redirect_uri other than the authorize one is refused
        other = f"http://127.0.0.1:{pkce.catcher.port + 1}/oauth/callback"
        err = error_of(pkce.token, code=code, redirect_uri=other)
        assert err["Error"]["Code"] == "InvalidGrantException"

        code = pkce.sign_in(log)  # the right verifier and redirect_uri
        token = pkce.token(code)
        assert token["tokenType"] == "Bearer" and token["refreshToken"]
        assert client("sso").list_accounts(accessToken=token["accessToken"])["accountList"]
        err = error_of(pkce.token, code=code)
        assert err["Error"]["Code"] == "InvalidGrantException", "a redeemed code is spent"

        lines = log.read_text().splitlines()
        assert len(lines) == 3 and all(re.fullmatch(r"\d+ \d+ follow http://127\.0\.0\.1:\d+/"
                                                    r"authorize\?\S+", ln) for ln in lines), lines
        seen = calls()
        assert seen["operations"]["Authorize"] == 3
        assert seen["grantTypes"] == {"authorization_code": 5}
        assert seen["granted"] == {"authorization_code": 1}
        assert seen["errors"]["CreateToken:InvalidGrantException"] == 4
    finally:
        pkce.catcher.close()


@test
def pkce_authorize_refusals():
    oidc = client("sso-oidc")
    pkce = PkceClient(oidc, pkce_registration(oidc))
    log = SRV.tmp / "refusals-browser.log"
    try:
        configure(deny=True)  # the user presses Deny: the error goes back to the client
        done = run_browser(pkce.url(), log)
        assert done.returncode == 0, done.stderr
        _, query = pkce.catcher.queries[-1]
        assert query["error"] == ["access_denied"] and query["state"] == [pkce.state]
        assert "code" not in query
        configure(deny=False)

        done = run_browser(pkce.url(scopes="sso:account:access other:scope"), log)
        assert done.returncode == 0
        assert pkce.catcher.queries[-1][1]["error"] == ["invalid_scope"]
        done = run_browser(pkce.url(code_challenge_method="plain"), log)
        assert pkce.catcher.queries[-1][1]["error"] == ["invalid_request"]
        count = len(pkce.catcher.queries)

        # An unregistered redirect_uri is never redirected to: an error page.
        bad = f"http://127.0.0.1:{pkce.catcher.port}/elsewhere"
        done = run_browser(pkce.url(redirect_uri=bad), log)
        assert done.returncode == 4 and "HTTP 400" in done.stderr, (done.returncode, done.stderr)
        status, headers, _ = http_call(SRV.url, "GET", pkce.url(redirect_uri=bad)[len(SRV.url):])
        assert status == 400 and "location" not in headers
        status, headers, _ = http_call(
            SRV.url, "GET", pkce.url(client_id="unknown")[len(SRV.url):])
        assert status == 400 and "location" not in headers
        assert len(pkce.catcher.queries) == count, "no redirect reached the client"

        # A device-flow client (no authorization_code grant) is refused.
        device_reg = register(oidc, redirectUris=["http://127.0.0.1/oauth/callback"])
        other = PkceClient(oidc, device_reg)
        try:
            assert run_browser(other.url(), log).returncode == 0
            assert other.catcher.queries[-1][1]["error"] == ["unauthorized_client"]
        finally:
            other.catcher.close()
    finally:
        pkce.catcher.close()


@test
def browser_modes():
    log = SRV.tmp / "modes-browser.log"
    catcher = CallbackCatcher()
    try:
        done = run_browser(catcher.redirect_uri + "?code=x", log, mode="ignore")
        assert done.returncode == 0 and done.stdout == ""
        time.sleep(0.3)
        assert catcher.queries == [], "ignore fetches nothing"
        start = time.monotonic()
        done = run_browser(catcher.redirect_uri + "?code=y", log, mode="background")
        assert done.returncode == 0
        deadline = time.time() + 10
        while not catcher.queries and time.time() < deadline:
            time.sleep(0.05)
        assert catcher.queries and catcher.queries[0][1]["code"] == ["y"]
        assert time.monotonic() - start < 10
        done = run_browser("http://example.com/authorize", log)
        assert done.returncode == 3 and "off loopback" in done.stderr
        done = run_browser("https://127.0.0.1:1/", log)
        assert done.returncode == 3
        done = run_browser("http://127.0.0.1:1/", log, mode="sideways")
        assert done.returncode == 2
        lines = log.read_text().splitlines()
        assert [ln.split()[2] for ln in lines] == ["ignore", "background", "follow", "follow"], lines
        env = {k: v for k, v in os.environ.items() if k != "FAKE_BROWSER_LOG"}
        done = subprocess.run(["bash", str(BROWSER), "http://127.0.0.1:1/"], env=env,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 2 and "FAKE_BROWSER_LOG" in done.stderr
    finally:
        catcher.close()


# ---------------------------------------------------------------- tokens


@test
def refresh_token_rotation():
    oidc = client("sso-oidc")
    sso = client("sso")
    reg = register(oidc)
    first = device_sign_in(oidc, reg)
    refresh = {"clientId": reg["clientId"], "clientSecret": reg["clientSecret"],
               "grantType": "refresh_token"}
    second = oidc.create_token(refreshToken=first["refreshToken"], **refresh)
    remember(second["accessToken"], second["refreshToken"])
    assert second["accessToken"] != first["accessToken"]
    assert second["refreshToken"] != first["refreshToken"]
    assert second["expiresIn"] == 3600
    err = error_of(oidc.create_token, refreshToken=first["refreshToken"], **refresh)
    assert err["Error"]["Code"] == "InvalidGrantException", "the old refresh token is spent"
    third = oidc.create_token(refreshToken=second["refreshToken"], **refresh)
    remember(third["accessToken"], third["refreshToken"])
    assert sso.list_accounts(accessToken=third["accessToken"])["accountList"]
    assert sso.list_accounts(accessToken=first["accessToken"])["accountList"], \
        "an earlier access token lives until it expires"
    other = register(oidc)
    err = error_of(oidc.create_token, clientId=other["clientId"],
                   clientSecret=other["clientSecret"], grantType="refresh_token",
                   refreshToken=third["refreshToken"])
    assert err["Error"]["Code"] == "InvalidGrantException", "another client's refresh token"
    seen = calls()
    assert seen["grantTypes"]["refresh_token"] == 4 and seen["granted"]["refresh_token"] == 2

    configure(token_ttl=1)  # access tokens expire; a refresh brings a working one
    short = device_sign_in(oidc, reg)
    assert short["expiresIn"] == 1
    time.sleep(1.1)
    err = error_of(sso.list_accounts, accessToken=short["accessToken"])
    assert err["Error"]["Code"] == "UnauthorizedException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 401
    fresh = oidc.create_token(refreshToken=short["refreshToken"], **refresh)
    remember(fresh["accessToken"], fresh["refreshToken"])
    assert sso.list_accounts(accessToken=fresh["accessToken"])["accountList"]

    configure(token_ttl=3600, session_ttl=1)  # past the session, no refresh
    ending = device_sign_in(oidc, reg)
    time.sleep(1.1)
    err = error_of(oidc.create_token, refreshToken=ending["refreshToken"], **refresh)
    assert err["Error"]["Code"] == "InvalidGrantException"
    err = error_of(sso.list_accounts, accessToken=ending["accessToken"])
    assert err["Error"]["Code"] == "UnauthorizedException"


@test
def expire_control():
    oidc = client("sso-oidc")
    reg = register(oidc)
    token = device_sign_in(oidc, reg)
    done = control("expire", {"accessTokens": True})
    assert done == {"accessTokens": 1}
    err = error_of(client("sso").list_accounts, accessToken=token["accessToken"])
    assert err["Error"]["Code"] == "UnauthorizedException"
    control("expire", {"registrations": True})
    err = error_of(oidc.create_token, clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                   grantType="refresh_token", refreshToken=token["refreshToken"])
    assert err["Error"]["Code"] == "InvalidClientException"


# ---------------------------------------------------------------- portal


@test
def portal_lists_and_credentials():
    oidc = client("sso-oidc")
    sso = client("sso")
    token = device_sign_in(oidc, register(oidc))["accessToken"]
    page = sso.list_accounts(accessToken=token, maxResults=2)
    assert len(page["accountList"]) == 2 and page["nextToken"]
    assert page["accountList"][0] == {"accountId": "111111111111", "accountName": "dev",
                                      "emailAddress": "dev@example.com"}
    rest = sso.list_accounts(accessToken=token, maxResults=2, nextToken=page["nextToken"])
    assert [a["accountId"] for a in rest["accountList"]] == ["333333333333"]
    assert "nextToken" not in rest
    everything = []
    for one in sso.get_paginator("list_accounts").paginate(
            accessToken=token, PaginationConfig={"PageSize": 1}):
        everything += one["accountList"]
    assert len(everything) == 3
    roles = []
    for one in sso.get_paginator("list_account_roles").paginate(
            accessToken=token, accountId="333333333333", PaginationConfig={"PageSize": 2}):
        roles += one["roleList"]
    assert roles == [{"roleName": r, "accountId": "333333333333"}
                     for r in ("Admin", "PowerUser", "ReadOnly")], roles
    err = error_of(sso.list_account_roles, accessToken=token, accountId="999999999999")
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404

    before = time.time()
    creds = sso.get_role_credentials(accessToken=token, accountId="222222222222",
                                     roleName="ReadOnly")["roleCredentials"]
    remember(creds["secretAccessKey"], creds["sessionToken"])
    assert isinstance(creds["expiration"], int)
    assert abs(creds["expiration"] / 1000 - (before + 3600)) < 60, "epoch milliseconds"
    who = sts_with(creds).get_caller_identity()
    assert who["Account"] == "222222222222", who
    assert who["Arn"] == "arn:aws:sts::222222222222:assumed-role/ReadOnly/alice@example.com", who

    configure(role_ttl=120)
    creds = sso.get_role_credentials(accessToken=token, accountId="111111111111",
                                     roleName="Admin")["roleCredentials"]
    remember(creds["secretAccessKey"], creds["sessionToken"])
    assert abs(creds["expiration"] / 1000 - (time.time() + 120)) < 30
    assert sts_with(creds).get_caller_identity()["Account"] == "111111111111"

    for account_id, role in (("222222222222", "Admin"), ("999999999999", "ReadOnly")):
        err = error_of(sso.get_role_credentials, accessToken=token, accountId=account_id,
                       roleName=role)
        assert err["Error"]["Code"] == "ForbiddenException", err["Error"]
        assert err["Error"]["Message"] == "No access"
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 403
    err = error_of(sso.get_role_credentials, accessToken="not-a-token",
                   accountId="111111111111", roleName="Admin")
    assert err["Error"]["Code"] == "UnauthorizedException"

    narrow = register(oidc, scopes=["codewhisperer:completions"])
    other = device_sign_in(oidc, narrow)["accessToken"]
    err = error_of(sso.list_accounts, accessToken=other)
    assert err["Error"]["Code"] == "UnauthorizedException", "a token without sso:account:access"
    seen = calls()
    assert seen["operations"]["GetRoleCredentials"] == 5
    assert seen["operations"]["ListAccounts"] >= 5
    recent = [c for c in seen["recent"] if c["operation"] == "GetRoleCredentials"]
    assert recent[0]["params"] == {"accountId": "222222222222", "roleName": "ReadOnly"}


@test
def logout_revokes():
    oidc = client("sso-oidc")
    sso = client("sso")
    reg = register(oidc)
    token = device_sign_in(oidc, reg)
    kept = device_sign_in(oidc, reg)  # another sign-in, not logged out
    answer = sso.logout(accessToken=token["accessToken"])
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    err = error_of(sso.list_accounts, accessToken=token["accessToken"])
    assert err["Error"]["Code"] == "UnauthorizedException"
    err = error_of(oidc.create_token, clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                   grantType="refresh_token", refreshToken=token["refreshToken"])
    assert err["Error"]["Code"] == "InvalidGrantException", "logout ends the session"
    err = error_of(sso.logout, accessToken=token["accessToken"])
    assert err["Error"]["Code"] == "UnauthorizedException"
    assert sso.list_accounts(accessToken=kept["accessToken"])["accountList"]
    status, _, body = http_call(SRV.url, "POST", "/logout",
                                headers={"x-amz-sso_bearer_token": kept["accessToken"]})
    assert status == 200 and body is None, "an empty 200 answer"


# ---------------------------------------------------------------- boto3's provider


def write_json(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def aws_home(tmp):
    home = tmp / "home"
    config = home / ".aws" / "config"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "[profile via-session]\n"
        "sso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Admin\n"
        "region = us-east-1\n\n"
        "[sso-session corp]\n"
        f"sso_start_url = {START_URL}\nsso_region = us-east-1\n"
        "sso_registration_scopes = sso:account:access\n\n"
        "[profile legacy]\n"
        f"sso_start_url = {START_URL}\nsso_region = us-east-1\n"
        "sso_account_id = 222222222222\nsso_role_name = ReadOnly\nregion = us-east-1\n")
    (home / ".aws" / "credentials").write_text("")
    return home


def boto3_as_user(home, profile):
    """boto3's default chain in a child with HOME set (botocore computes
    ~/.aws/sso/cache when it is imported)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k.lower() not in ("http_proxy", "https_proxy")}
    env.update(HOME=str(home), AWS_CONFIG_FILE=str(home / ".aws" / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
               AWS_EC2_METADATA_DISABLED="true",
               # The global variable points at moto: the SSO calls reaching the
               # fake show that the service variables win over it.
               AWS_ENDPOINT_URL=SRV.moto,
               AWS_ENDPOINT_URL_SSO=SRV.url, AWS_ENDPOINT_URL_SSO_OIDC=SRV.url)
    script = ("import boto3, json, sys\n"
              "s = boto3.Session(profile_name=sys.argv[1])\n"
              "print(json.dumps({'method': s.get_credentials().method,"
              " 'who': s.client('sts').get_caller_identity()['Arn']}))\n")
    done = subprocess.run([sys.executable, "-c", script, profile], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def cli_token_file(reg, token, expires_in):
    """A token cache entry as the aws CLI v2 writes it after a sign-in."""
    at = datetime.datetime.now(datetime.timezone.utc)
    issued_for = datetime.timedelta(seconds=expires_in)
    registration = datetime.datetime.fromtimestamp(reg["clientSecretExpiresAt"],
                                                   datetime.timezone.utc)
    return {
        "startUrl": START_URL,
        "region": "us-east-1",
        "accessToken": token["accessToken"],
        "expiresAt": (at + issued_for).strftime(CACHE_TIME),
        "clientId": reg["clientId"],
        "clientSecret": reg["clientSecret"],
        "registrationExpiresAt": registration.strftime(CACHE_TIME),
        "refreshToken": token["refreshToken"],
    }


@test
def boto3_sso_provider_reads_cli_cache():
    oidc = client("sso-oidc")
    reg = register(oidc)
    token = device_sign_in(oidc, reg)
    home = aws_home(SRV.tmp)
    cache = home / ".aws" / "sso" / "cache"
    session_file = cache / f"{hashlib.sha1(b'corp').hexdigest()}.json"
    write_json(session_file, cli_token_file(reg, token, 3600))

    seen = boto3_as_user(home, "via-session")
    assert seen == {"method": "sso",
                    "who": "arn:aws:sts::111111111111:assumed-role/Admin/alice@example.com"}, seen
    counts = calls()
    assert counts["operations"]["GetRoleCredentials"] == 1
    assert counts["granted"].get("refresh_token", 0) == 0, "a fresh token is not refreshed"
    recent = counts["recent"][-1]
    assert recent["operation"] == "GetRoleCredentials" and recent["status"] == 200

    # Five minutes left (botocore refreshes inside fifteen): boto3 refreshes
    # through AWS_ENDPOINT_URL_SSO_OIDC and rewrites the cache file.
    write_json(session_file, cli_token_file(reg, token, 300))
    seen = boto3_as_user(home, "via-session")
    assert seen["who"].startswith("arn:aws:sts::111111111111:assumed-role/Admin/")
    counts = calls()
    assert counts["granted"]["refresh_token"] == 1
    assert counts["operations"]["GetRoleCredentials"] == 2
    written = json.loads(session_file.read_text())
    remember(written["accessToken"], written["refreshToken"])
    assert set(written) == {"startUrl", "region", "accessToken", "expiresAt", "clientId",
                            "clientSecret", "registrationExpiresAt", "refreshToken"}, written
    assert written["accessToken"] != token["accessToken"]
    assert written["refreshToken"] != token["refreshToken"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", written["expiresAt"]), written
    left = (datetime.datetime.strptime(written["expiresAt"], CACHE_TIME)
            .replace(tzinfo=datetime.timezone.utc).timestamp() - time.time())
    assert 3500 < left <= 3600, left
    mode = session_file.stat().st_mode & 0o777
    err = error_of(oidc.create_token, clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                   grantType="refresh_token", refreshToken=token["refreshToken"])
    assert err["Error"]["Code"] == "InvalidGrantException", "botocore spent the old one"

    # The legacy form: file named by the SHA-1 of the start URL, fewer fields.
    legacy = cache / f"{hashlib.sha1(START_URL.encode()).hexdigest()}.json"
    other = device_sign_in(oidc, reg)
    write_json(legacy, {"startUrl": START_URL, "region": "us-east-1",
                        "accessToken": other["accessToken"],
                        "expiresAt": cli_token_file(reg, other, 3600)["expiresAt"]})
    seen = boto3_as_user(home, "legacy")
    assert seen["who"] == "arn:aws:sts::222222222222:assumed-role/ReadOnly/alice@example.com"
    print(f"  (botocore rewrote the token cache with mode {mode:o})")


# ---------------------------------------------------------------- control side


@test
def concurrent_redemption_gives_one_token():
    oidc = client("sso-oidc")
    reg = register(oidc)
    auth = oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL)
    remember(auth["deviceCode"])
    control("approve", {"all": True})
    results = []

    def poll():
        try:
            answer = client("sso-oidc").create_token(
                clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                grantType=DEVICE_GRANT, deviceCode=auth["deviceCode"])
            remember(answer["accessToken"], answer["refreshToken"])
            results.append("token")
        except ClientError as err:
            results.append(err.response["Error"]["Code"])

    threads = [threading.Thread(target=poll) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("token") == 1, results
    assert set(results) <= {"token", "InvalidGrantException"}, results
    assert calls()["granted"] == {DEVICE_GRANT: 1}


@test
def config_delays_failures_and_reset():
    oidc = client("sso-oidc")
    sso = client("sso")
    token = device_sign_in(oidc, register(oidc))["accessToken"]
    configure(fail={"ListAccounts": {"error": "TooManyRequestsException", "times": 2}},
              delays={"ListAccountRoles": 0.4})
    for _ in range(2):
        err = error_of(sso.list_accounts, accessToken=token)
        assert err["Error"]["Code"] == "TooManyRequestsException"
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert sso.list_accounts(accessToken=token)["accountList"]
    start = time.monotonic()
    sso.list_account_roles(accessToken=token, accountId="111111111111")
    assert time.monotonic() - start >= 0.4
    for bad in ({"no_such": 1}, {"token_ttl": "x"}, {"token_ttl": 0}, {"deny": 1},
                {"fail": {"ListAccounts": {"error": "AuthorizationPendingException"}}},
                {"fail": {"Nope": {"error": "InvalidRequestException"}}}):
        status, _, body = http_call(SRV.url, "POST", "/_fake/config", bad,
                                    {"Content-Type": "application/json"})
        assert status == 400 and body["message"], bad
    status, _, body = http_call(SRV.url, "POST", "/_fake/approve", {"userCode": "NONE-NONE"})
    assert status == 404
    control("reset", {})
    assert calls() == {"operations": {}, "grantTypes": {}, "granted": {}, "errors": {},
                       "recent": []}
    assert control("config")["fail"] == {} and control("config")["delays"] == {}
    err = error_of(sso.list_accounts, accessToken=token)
    assert err["Error"]["Code"] == "UnauthorizedException", "reset forgets every token"


@test
def nothing_secret_in_calls():
    dump = json.dumps(calls())
    assert SECRETS, "the earlier tests handed out secrets"
    leaked = [s for s in SECRETS if s in dump]
    assert not leaked, f"{len(leaked)} secrets in /_fake/calls"


@test
def command_line_errors():
    bad = SRV.tmp / "bad-accounts.json"
    for content, needle in ((json.dumps({"accounts": [{"accountId": "12"}]}), "12 digits"),
                            ("{", "cannot read"),
                            (json.dumps({"accounts": [dict(ACCOUNTS["accounts"][0], roles="x")]}),
                             "roles")):
        bad.write_text(content)
        done = subprocess.run([sys.executable, str(FAKE), "--moto", SRV.moto, "--accounts",
                               str(bad)], capture_output=True, text=True, timeout=30, check=False)
        assert done.returncode != 0 and needle in done.stderr and done.stdout == "", done.stderr
    done = subprocess.run([sys.executable, str(FAKE), "--moto", "http://example.com:5000"],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 2 and "127.0.0.1" in done.stderr


# ---------------------------------------------------------------- main


def main():
    global SRV  # pylint: disable=global-statement
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    for tool in ("curl", "bash"):
        assert shutil.which(tool), f"{tool} is needed and missing"
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="sso-fake-test."))
    SRV = Servers(tmp)
    passed = failed = 0
    started = time.monotonic()
    try:
        SRV.start()
        for func in TESTS:
            control("reset", {})
            began = time.monotonic()
            try:
                func()
                passed += 1
                print(f"ok   {func.__name__} ({time.monotonic() - began:.2f} s)")
            except Exception:  # pylint: disable=broad-except
                failed += 1
                print(f"FAIL {func.__name__}")
                traceback.print_exc()
        SRV.stop()
        SRV.fake_stderr.close()
        stderr = (tmp / "fake.stderr").read_text()
        if stderr:
            failed += 1
            print(f"FAIL the fake wrote to stderr:\n{stderr[-3000:]}")
        else:
            passed += 1
            print("ok   the fake wrote nothing to stderr")
    finally:
        SRV.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{passed} passed, {failed} failed ({time.monotonic() - started:.1f} s)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

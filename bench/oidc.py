#!/usr/bin/env python3
"""Browser-side setup for bench/run.sh: signs a user in and makes refresh tokens.

    oidc.py signin BASE CLIENT_ID USERNAME PASSWORD
        Starts an authorization request, signs in on the login page, checks
        that a code comes back, and checks that the same authorization URL
        then answers with a code at once (single sign-on). Prints the
        session's Cookie header value ("castellan_session=...").

    oidc.py families BASE CLIENT_ID CLIENT_SECRET COOKIE PER_FILE OUT_FILE...
        For each OUT_FILE, starts PER_FILE refresh-token families (one
        authorization code each, exchanged at the token endpoint) and writes
        their refresh tokens to it, one a line.

    oidc.py signins BASE CLIENT_ID USER_PREFIX PASSWORD TOTAL CONCURRENCY PID
        TOTAL sign-ins from CONCURRENCY browsers at once (browser i signs in
        as USER_PREFIX<i>, each time with a fresh session: authorization
        request, login page, password), while sampling the server's (PID)
        resident memory every 20 ms. A sign-in refused with 429 waits its
        Retry-After and posts again. Prints one line:
        signins=N seconds=S rate=R refused=K peak_rss_kb=P

Only the standard library; one keep-alive connection (per browser). Exits
non-zero, with a message on stderr, on any unexpected answer.
"""

import base64
import http.client
import re
import sys
import threading
import time
import urllib.parse

REDIRECT_URI = "http://127.0.0.1:9/cb"
SCOPE = "openid offline_access"
COOKIE_NAME = "castellan_session"
BINDING_COOKIE_NAME = "castellan_login"


def fail(message):
    print(f"oidc.py: {message}", file=sys.stderr)
    sys.exit(1)


def authorize_path(client_id):
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": SCOPE,
            "state": "s",
            # An OpenID request with a nonce: a confidential client needs no PKCE (RFC 9700 §2.1.1).
            "nonce": "n",
        },
        quote_via=urllib.parse.quote,
    )
    return "/oauth2/authorize?" + query


class Browser:
    """One keep-alive connection, the session cookie, and the cookie binding
    a pending sign-in to this browser."""

    def __init__(self, base, cookie=None):
        url = urllib.parse.urlsplit(base)
        self.base = base.rstrip("/")
        self.conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
        self.cookie = cookie
        self.binding = None

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        cookies = [c for c in (self.cookie, self.binding) if c]
        if cookies:
            headers["Cookie"] = "; ".join(cookies)
        if body is not None:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            pair = header.split(";", 1)[0].strip()
            if pair.startswith(COOKIE_NAME + "="):
                self.cookie = pair
            elif pair.startswith(BINDING_COOKIE_NAME + "="):
                self.binding = pair
        return response.status, response.headers, data

    def local(self, location):
        """The path of a Location on this server."""
        if location.startswith(self.base):
            return location[len(self.base):] or "/"
        if location.startswith("/"):
            return location
        fail(f"unexpected redirect to {location}")

    def code_from(self, status, headers, body, what):
        location = headers.get("Location", "")
        if status != 303 or not location.startswith(REDIRECT_URI + "?"):
            fail(f"{what}: expected a 303 to {REDIRECT_URI}, got {status} {location!r} {body[:300]!r}")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        if "code" not in query:
            fail(f"{what}: no code in {location}")
        return query["code"][0]


def hidden_input(html, name):
    for tag in re.findall(r"<input\b[^>]*>", html):
        if re.search(r'\bname="%s"' % re.escape(name), tag):
            value = re.search(r'\bvalue="([^"]*)"', tag)
            if value:
                return value.group(1)
    fail(f"the login page has no {name} input")


def signin(base, client_id, username, password):
    browser = Browser(base)
    status, headers, body = browser.request("GET", authorize_path(client_id))
    location = headers.get("Location", "")
    if status != 303 or "/login?" not in location:
        fail(f"authorize without a session: expected a 303 to the login page, got {status} {location!r} {body[:300]!r}")
    status, headers, page = browser.request("GET", browser.local(location))
    if status != 200:
        fail(f"login page: HTTP {status}: {page[:300]!r}")
    form = urllib.parse.urlencode(
        {
            "csrf_token": hidden_input(page, "csrf_token"),
            "request": hidden_input(page, "request"),
            "username": username,
            "password": password,
        }
    )
    result = browser.request("POST", "/login", body=form)
    browser.code_from(*result, "sign-in")
    # Single sign-on from now on: the same URL answers with a code at once.
    browser.code_from(*browser.request("GET", authorize_path(client_id)), "authorize after sign-in")
    if not browser.cookie:
        fail("no session cookie was set")
    print(browser.cookie)


def vm_rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def signins(base, client_id, user_prefix, password, total, concurrency, pid):
    counter = {"left": total, "done": 0, "refused": 0, "error": None}
    lock = threading.Lock()

    def take():
        with lock:
            if counter["left"] == 0 or counter["error"]:
                return False
            counter["left"] -= 1
            return True

    def browser_loop(index):
        try:
            while take():
                browser = Browser(base)
                status, headers, body = browser.request("GET", authorize_path(client_id))
                location = headers.get("Location", "")
                if status != 303 or "/login?" not in location:
                    fail(f"authorize: expected a 303 to the login page, got {status} {location!r}")
                status, _, page = browser.request("GET", browser.local(location))
                if status != 200:
                    fail(f"login page: HTTP {status}: {page[:300]!r}")
                form = urllib.parse.urlencode(
                    {
                        "csrf_token": hidden_input(page, "csrf_token"),
                        "request": hidden_input(page, "request"),
                        "username": f"{user_prefix}{index}",
                        "password": password,
                    }
                )
                while True:
                    status, headers, body = browser.request("POST", "/login", body=form)
                    if status != 429:
                        break
                    with lock:
                        counter["refused"] += 1
                    time.sleep(int(headers.get("Retry-After", "1")))
                browser.code_from(status, headers, body, "sign-in")
                browser.conn.close()
                with lock:
                    counter["done"] += 1
        except SystemExit:
            with lock:
                counter["error"] = "a sign-in failed (see above)"
        except Exception as error:  # noqa: BLE001 - reported, then the run fails
            with lock:
                counter["error"] = repr(error)

    peak = [vm_rss_kb(pid)]
    running = threading.Event()
    running.set()

    def sample():
        while running.is_set():
            peak[0] = max(peak[0], vm_rss_kb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    browsers = [threading.Thread(target=browser_loop, args=(i,)) for i in range(concurrency)]
    for browser in browsers:
        browser.start()
    for browser in browsers:
        browser.join()
    seconds = time.monotonic() - started
    running.clear()
    sampler.join()
    if counter["error"]:
        fail(counter["error"])
    rate = counter["done"] / seconds if seconds else 0
    print(
        f"signins={counter['done']} seconds={seconds:.1f} rate={rate:.1f} "
        f"refused={counter['refused']} peak_rss_kb={peak[0]}"
    )


def families(base, client_id, client_secret, cookie, per_file, out_files):
    quote = lambda s: urllib.parse.quote(s, safe="")
    basic = "Basic " + base64.b64encode(f"{quote(client_id)}:{quote(client_secret)}".encode()).decode()
    browser = Browser(base, cookie)
    path = authorize_path(client_id)
    for out_file in out_files:
        tokens = []
        for _ in range(per_file):
            code = browser.code_from(*browser.request("GET", path), "authorize")
            form = urllib.parse.urlencode(
                {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
            )
            # The token endpoint needs no cookie; sending it is harmless.
            status, _, body = browser.request("POST", "/oauth2/token", body=form, headers={"Authorization": basic})
            token = re.search(r'"refresh_token"\s*:\s*"([^"]+)"', body)
            if status != 200 or not token:
                fail(f"code exchange: HTTP {status}: {body[:300]!r}")
            tokens.append(token.group(1))
        with open(out_file, "w") as f:
            f.write("\n".join(tokens) + "\n")


def main(argv):
    if len(argv) == 5 and argv[0] == "signin":
        signin(*argv[1:])
    elif len(argv) == 8 and argv[0] == "signins":
        signins(argv[1], argv[2], argv[3], argv[4], int(argv[5]), int(argv[6]), int(argv[7]))
    elif len(argv) >= 7 and argv[0] == "families":
        families(argv[1], argv[2], argv[3], argv[4], int(argv[5]), argv[6:])
    else:
        fail(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])

"""The newsletter end to end against aiosmtpd, a real SMTP server library,
with Python's own email parser reading what arrives:

1. a reader signs up through /subscribe (form POST, as a browser sends it);
2. the confirmation email arrives; its link, opened, makes the subscription;
3. `quire newsletter send --paper … --wait` delivers a campaign;
4. the campaign email is parsed: headers (Date, Message-ID, List-Id,
   List-Unsubscribe, List-Unsubscribe-Post, MIME multipart/alternative),
   both parts, the greeting, absolute links and images with alt text;
5. the List-Unsubscribe URL gets the RFC 8058 one-click POST, and the
   subscriber is unsubscribed;
6. `quire newsletter test` through STARTTLS with a login, and through TLS
   from the first byte (smtps), to servers whose certificate comes from a
   private authority (`smtp_ca_file`); a wrong password and an untrusted
   certificate are refused with a clear message.

Needs QUIRE_E2E_BIN (the quire binary). Exits non-zero on the first
failure, saying what was wrong.
"""

import email
import email.policy
import logging
import warnings
import email.utils
import html.parser
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

BIN = os.environ["QUIRE_E2E_BIN"]
# The refused handshakes below are expected; aiosmtpd would print them.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)
warnings.filterwarnings("ignore", category=DeprecationWarning)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 2.0.0 OK"


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(inbox, count, what):
    deadline = time.time() + 20
    while len(inbox.messages) < count:
        if time.time() > deadline:
            fail(f"{what} did not arrive")
        time.sleep(0.05)
    return email.message_from_bytes(inbox.messages[count - 1][1], policy=email.policy.default)


def request(url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.images = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a":
            self.hrefs.append(a.get("href", ""))
        if tag == "img":
            self.images.append(a)


def certificates(folder):
    """A private CA and a certificate for 127.0.0.1 signed by it."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=Quire test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(folder, "server.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "server.ext")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.path.join(folder, "server.pem"), os.path.join(folder, "server.key"))
    return os.path.join(folder, "ca.pem"), context


def tls_and_login(run_with):
    """STARTTLS with a login, and smtps, each with one test copy."""
    folder = tempfile.mkdtemp()
    ca, context = certificates(folder)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((mechanism, auth_data.login, auth_data.password, session.ssl is not None))
        ok = auth_data.login == b"news@example.org" and auth_data.password == b"p@ss:word"
        # handled=False: aiosmtpd answers a refusal with 535 itself.
        return AuthResult(success=ok, handled=False)

    inbox = Inbox()
    port = free_port()
    starttls = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                          auth_required=True, authenticator=authenticator)
    starttls.start()
    url = f"smtp://news%40example.org:p%40ss%3Aword@127.0.0.1:{port}?tls=starttls"
    try:
        out = run_with({"QUIRE_SMTP_URL": url, "QUIRE_SMTP_CA_FILE": ca}, "newsletter", "test", "--to", "editor@example.org")
        if out.returncode != 0:
            fail(f"STARTTLS with a login: {out.stderr}")
        if len(inbox.messages) != 1 or not logins or logins[-1][0] not in ("PLAIN", "LOGIN") or not logins[-1][3]:
            fail(f"STARTTLS: {len(inbox.messages)} messages, logins {logins}")
        wrong = url.replace("p%40ss%3Aword", "nope")
        out = run_with({"QUIRE_SMTP_URL": wrong, "QUIRE_SMTP_CA_FILE": ca}, "newsletter", "test", "--to", "editor@example.org")
        if out.returncode == 0 or "refused the login" not in out.stderr or "nope" in out.stderr:
            fail(f"a wrong password: {out.returncode} {out.stderr}")
        out = run_with({"QUIRE_SMTP_URL": url}, "newsletter", "test", "--to", "editor@example.org")
        if out.returncode == 0 or "certificate" not in out.stderr.lower():
            fail(f"an untrusted certificate was not refused: {out.returncode} {out.stderr}")
    finally:
        starttls.stop()

    implicit = Inbox()
    port = free_port()
    smtps = Controller(implicit, hostname="127.0.0.1", port=port, ssl_context=context)
    smtps.start()
    try:
        out = run_with({"QUIRE_SMTP_URL": f"smtps://127.0.0.1:{port}", "QUIRE_SMTP_CA_FILE": ca},
                       "newsletter", "test", "--to", "editor@example.org")
        if out.returncode != 0 or len(implicit.messages) != 1:
            fail(f"smtps: {out.returncode} {out.stderr}")
    finally:
        smtps.stop()
    return len(inbox.messages) + len(implicit.messages)


def main():
    inbox = Inbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    data = tempfile.mkdtemp()
    web_port = free_port()
    base = f"http://127.0.0.1:{web_port}"
    # The commands build links from base_url, as on a real site.
    env = dict(
        os.environ,
        QUIRE_LOG="warn",
        QUIRE_BASE_URL=base,
        QUIRE_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
        QUIRE_MAIL_FROM="Policy Lab <news@example.org>",
    )
    run = lambda *args: subprocess.run([BIN, "--data-dir", data, *args], env=env, check=True, capture_output=True, text=True)
    run("init")
    run("paper", "add", "--create-missing", os.path.join(REPO, "tests/fixtures/papers/ports.md"))
    server = subprocess.Popen([BIN, "--data-dir", data, "serve", "--addr", f"127.0.0.1:{web_port}"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        if base not in server.stdout.readline():
            fail("quire serve did not start")

        # 1. Sign up through the form.
        status, page = request(f"{base}/subscribe")
        if status != 200 or 'name="topic" value="trade"' not in page:
            fail(f"/subscribe: {status}")
        form = urllib.parse.urlencode([("email", "ada@example.org"), ("name", "Ada Lovelace"), ("scope", "topics"), ("topic", "trade")])
        status, page = request(f"{base}/subscribe", form.encode(), {"Content-Type": "application/x-www-form-urlencoded", "Origin": base})
        if status != 200 or "Check your inbox" not in page:
            fail(f"sign-up answered {status}")

        # 2. The confirmation, parsed by Python's email package.
        confirm = wait_for(inbox, 1, "the confirmation email")
        if confirm.get_content_type() != "multipart/alternative":
            fail(f"confirmation is {confirm.get_content_type()}")
        text = confirm.get_body(("plain",)).get_content()
        link = re.search(r"http://\S+/subscribe/confirm\?t=\S+", text)
        if not link:
            fail(f"no confirmation link in:\n{text}")
        if "Lovelace" in str(confirm):
            fail("the typed name reached the confirmation email")
        # Opening the link, as a mail scanner does, subscribes no one.
        status, page = request(link.group(0))
        if status != 200 or "Confirm my subscription" not in page:
            fail(f"confirmation link answered {status}")
        if "ada@example.org" in run("subscribers", "export").stdout:
            fail("opening the confirmation link subscribed the address")
        token = re.search(r'name="t" value="([^"]+)"', page)
        if not token:
            fail(f"no token in the confirmation page:\n{page}")
        confirm_form = urllib.parse.urlencode([("t", html.unescape(token.group(1)))]).encode()
        form_headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": base}
        status, page = request(f"{base}/subscribe/confirm", confirm_form, form_headers)
        if status != 200 or "You are subscribed" not in page:
            fail(f"confirming answered {status}")

        # 3. A campaign.
        out = run("newsletter", "send", "--paper", "ports-harbours", "--wait")
        if "1 recipients: 1 sent" not in out.stdout:
            fail(f"send --wait said: {out.stdout}")
        message = wait_for(inbox, 2, "the campaign")

        # 4. What arrived.
        for header in ["Date", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "From", "To", "Subject"]:
            if not message[header]:
                fail(f"the campaign has no {header} header")
        if email.utils.parsedate_to_datetime(message["Date"]) is None:
            fail("the Date header does not parse")
        if message["Subject"] != "Ports and Harbours":
            fail(f"Subject: {message['Subject']!r}")
        if message["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click":
            fail(f"List-Unsubscribe-Post: {message['List-Unsubscribe-Post']!r}")
        targets = re.findall(r"<([^>]+)>", str(message["List-Unsubscribe"]))
        if len(targets) != 2 or not targets[0].startswith(base) or not targets[1].startswith("mailto:"):
            fail(f"List-Unsubscribe: {message['List-Unsubscribe']!r}")
        if message.get_content_type() != "multipart/alternative":
            fail(f"the campaign is {message.get_content_type()}")
        text = message.get_body(("plain",)).get_content()
        body = message.get_body(("html",)).get_content()
        for part, name in [(text, "text"), (body, "HTML")]:
            if "Dear Ada Lovelace," not in part:
                fail(f"the {name} part has no greeting")
        if f"Read on the web: {base}/papers/ports-harbours/" not in text:
            fail("the text part has no web link")
        links = Links()
        links.feed(body)
        if f"{base}/papers/ports-harbours.pdf" not in links.hrefs:
            fail("the HTML part has no PDF link")
        relative = [h for h in links.hrefs if not re.match(r"^(https?|mailto):", h)]
        if relative:
            fail(f"relative links in the HTML part: {relative}")
        for img in links.images:
            if "alt" not in img or not img.get("src", "").startswith("http"):
                fail(f"an image without alt text or an absolute address: {img}")

        # 5. One-click unsubscribe, as a mail provider posts it.
        status, page = request(targets[0], b"List-Unsubscribe=One-Click", {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200 or "You are unsubscribed" not in page:
            fail(f"one-click unsubscribe answered {status}")
        export = run("subscribers", "export").stdout
        if "ada@example.org" not in export or "unsubscribed" not in export:
            fail(f"after unsubscribing, the export says:\n{export}")
        status, page = request(f"{base}/subscribe/confirm", confirm_form, form_headers)
        if status != 410 or "unsubscribed" not in run("subscribers", "export").stdout:
            fail(f"the confirmation link worked twice ({status})")

        # 6. TLS and logins.
        run_with = lambda extra, *args: subprocess.run([BIN, "--data-dir", data, *args], env=dict(env, **extra),
                                                       capture_output=True, text=True)
        secured = tls_and_login(run_with)
        print(f"newsletter: sign-up, confirmation, campaign and one-click unsubscribe through aiosmtpd "
              f"({len(inbox.messages)} messages parsed); STARTTLS with a login and smtps ({secured} messages), "
              f"a wrong password and an untrusted certificate refused")
    finally:
        server.terminate()
        server.wait()
        controller.stop()


if __name__ == "__main__":
    main()

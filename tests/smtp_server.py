#!/usr/bin/python3
"""A real SMTP server on loopback for the e-mail tests: aiosmtpd (Debian's python3-aiosmtpd).

STARTTLS (required) or implicit TLS, AUTH required over TLS; each message received is parsed with
the standard library and saved as JSON (envelope, headers, plain-text body, attachments) in
OUT_DIR/N.json. Prints "ready" when it listens; stops on SIGTERM or when stdin closes.

usage: smtp_server.py PORT starttls|tls CERT KEY USER PASSWORD OUT_DIR
"""

import email
import email.policy
import json
import os
import ssl
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Save:
    def __init__(self, out):
        self.out = out
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        attachments = {
            part.get_filename(): {
                "content_type": part.get_content_type(),
                "text": part.get_payload(decode=True).decode("utf-8"),
            }
            for part in message.iter_attachments()
        }
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            # STARTTLS sets session.ssl; implicit TLS shows in the transport.
            "tls": session.ssl is not None
            or server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": session.authenticated,
            "headers": {k: str(v) for k, v in message.items()},
            "body": body.get_content() if body is not None else None,
            "attachments": attachments,
        }
        path = os.path.join(self.out, f"{self.count}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    # aiosmtpd 1.4 warns about its own deprecated attributes while authenticating.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    port, mode, cert, key, user, password, out = sys.argv[1:8]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data == LoginPassword(
            user.encode(), password.encode()
        )
        return AuthResult(success=ok)

    options = dict(hostname="127.0.0.1", port=int(port), authenticator=authenticator)
    if mode == "starttls":
        options.update(tls_context=context, require_starttls=True, auth_require_tls=True)
    else:
        options.update(ssl_context=context, auth_require_tls=False)
    controller = Controller(Save(out), **options)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

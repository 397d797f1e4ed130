# A real SMTP relay for tests (Debian python3-aiosmtpd): STARTTLS required,
# AUTH PLAIN/LOGIN required after TLS. Each accepted message is written to
# OUTDIR as NNNN.eml. Prints READY once listening; exits when stdin closes.
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, outdir, certfile, keyfile, user, password = sys.argv[1:7]


class Handler:
    async def handle_DATA(self, server, session, envelope):
        n = len([f for f in os.listdir(outdir) if f.endswith(".eml")])
        tmp = os.path.join(outdir, "%04d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(("X-Test-Rcpt: %s\r\n" % ",".join(envelope.rcpt_tos)).encode())
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(outdir, "%04d.eml" % n))
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == user.encode() and auth_data.password == password.encode()
    return AuthResult(success=ok, handled=False)


ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(certfile, keyfile)
c = Controller(Handler(), hostname="127.0.0.1", port=int(port), tls_context=ctx, require_starttls=True,
               authenticator=authenticate, auth_required=True, auth_require_tls=True)
c.start()
print("READY", flush=True)
sys.stdin.read()
c.stop()

#!/usr/bin/env python3
"""A whole screening through the Python client that openapi-python-client generates from the
committed document with its default configuration, against a running service.

    screening.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD MAIL_DIR

Every answer is parsed into the generated models, and a model that kept fields the document
does not name (`additional_properties` on a schema with properties) fails the run: what the
server sends and what the document says must agree. Prints one line per operation called and
a closing line with the count and the time.
"""

import http.server
import json
import pathlib
import re
import sys
import threading
import time
import uuid
from http import HTTPStatus

import attrs
from jwcrypto import jwk, jws
from standardwebhooks.webhooks import Webhook

from safescreen_client import AuthenticatedClient, Client
from safescreen_client.api.accounts import activate, login, me
from safescreen_client.api.certificates import jwks, verify_certificate
from safescreen_client.api.checkers import create_checker
from safescreen_client.api.organisations import create_api_key, create_organisation, create_user
from safescreen_client.api.screening_requests import (
    get_request,
    list_requests,
    request_certificate,
    request_events,
    submit_request,
)
from safescreen_client.api.subject import consent, decision, get_invitation
from safescreen_client.api.tasks import complete_task, get_task, list_tasks
from safescreen_client.api.webhooks import create_endpoint, list_deliveries, list_endpoints, send_test
from safescreen_client.api.workflows import list_profiles
from safescreen_client.models import (
    ActivateRequest,
    ConsentRequest,
    CompleteTask,
    CreateApiKey,
    CreateChecker,
    CreateEndpoint,
    CreateOrganisation,
    CreateUser,
    ListTasksStatus,
    LoginRequest,
    SubmitRequest,
    VerifyRequest,
)

BASE, ADMIN_EMAIL, ADMIN_PASSWORD, MAIL_DIR = sys.argv[1:5]
PASSWORD = "a long password for the client run"
called = []


def strict(value, where):
    """Fails on any field the document does not describe, anywhere in a parsed answer."""
    if attrs.has(type(value)):
        names = [f.name for f in attrs.fields(type(value)) if f.name != "additional_properties"]
        extra = getattr(value, "additional_properties", None)
        # A schema with properties names them all; only a free-form object keeps others.
        if names and extra:
            sys.exit(f"{where}: {type(value).__name__} got fields the document lacks: {sorted(extra)}")
        for name in names:
            strict(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            strict(item, f"{where}[{i}]")


def call(operation, expected, **kwargs):
    """Calls a generated operation, checks the status, and returns the parsed model."""
    response = operation.sync_detailed(**kwargs)
    name = operation.__name__.rsplit(".", 1)[-1]
    called.append(name)
    if response.status_code != expected:
        sys.exit(f"{name}: expected {expected}, got {int(response.status_code)}: "
                 f"{response.content.decode(errors='replace')}")
    parsed = response.parsed
    if parsed is None and response.content:
        sys.exit(f"{name}: the answer did not parse into the document's model")
    strict(parsed, name)
    print(f"{name}: {int(response.status_code)}")
    return parsed


def text(value):
    """An enum member's value, or the string the document leaves open."""
    return getattr(value, "value", value)


def client(token=None):
    if token is None:
        return Client(base_url=BASE, raise_on_unexpected_status=True)
    return AuthenticatedClient(base_url=BASE, token=token, raise_on_unexpected_status=True)


def sign_in(email, password=PASSWORD):
    body = LoginRequest(email=email, password=password)
    return call(login, HTTPStatus.OK, client=client(), body=body).token


def activated(activation_token):
    body = ActivateRequest(token=activation_token, password=PASSWORD)
    call(activate, HTTPStatus.NO_CONTENT, client=client(), body=body)


def invitation_token(email):
    """The token in the invitation e-mail to this address, from the mail drop."""
    for _ in range(400):
        for path in pathlib.Path(MAIL_DIR).glob("*.eml"):
            text = path.read_text(errors="replace").replace("=\r\n", "").replace("=\n", "")
            if f"To: {email}" in text:
                found = re.search(r"/s/(ss_inv_[A-Za-z0-9_-]+)", text)
                if found:
                    return found.group(1)
        time.sleep(0.025)
    sys.exit(f"no invitation e-mail to {email}")


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver as the README shows one: every delivery verified before it is read."""

    verifier = None
    events = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        headers = {k.lower(): v for k, v in self.headers.items()}
        Receiver.events.append(Receiver.verifier.verify(body, headers))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=receiver.serve_forever, daemon=True).start()
started = time.monotonic()
admin = client(sign_in(ADMIN_EMAIL, ADMIN_PASSWORD))
call(me, HTTPStatus.OK, client=admin)

organisation = call(create_organisation, HTTPStatus.CREATED, client=admin, body=CreateOrganisation.from_dict({
    "name": "Kinderhulp Oeganda", "registration_number": "KVK 12345678", "country": "NL",
    "operating_countries": ["UG"], "contact_email": "office@kinderhulp.example",
}))
org_admin = call(create_user, HTTPStatus.CREATED, client=admin, id=organisation.id, body=CreateUser.from_dict({
    "email": "sara@kinderhulp.example", "name": "Sara de Vries", "role": "org_admin"}))
activated(org_admin.activation_token)
org_session = client(sign_in("sara@kinderhulp.example"))
key = call(create_api_key, HTTPStatus.CREATED, client=org_session, id=organisation.id,
           body=CreateApiKey(name="planning system"))
api = client(key.key)

endpoint = call(create_endpoint, HTTPStatus.CREATED, client=org_session, body=CreateEndpoint.from_dict({
    "url": f"http://127.0.0.1:{receiver.server_port}/safescreen", "events": ["*"]}))
assert endpoint.secret.startswith("whsec_")
Receiver.verifier = Webhook(endpoint.secret)
call(list_endpoints, HTTPStatus.OK, client=org_session)

checkers = {}
for n in range(2):
    email = f"checker-{n}@example.org"
    created = call(create_checker, HTTPStatus.CREATED, client=admin, body=CreateChecker.from_dict({
        "email": email, "name": f"Checker {n}", "supervisor": False, "max_open_tasks": 50,
        "authorisations": ["identity", "criminal_record", "reference", "misconduct_disclosure", "assessment"],
    }))
    activated(created.activation_token)
    checkers[str(created.checker.id)] = client(sign_in(email))

profiles = call(list_profiles, HTTPStatus.OK, client=api)
assert any(p.code == "child-contact-abroad" for p in profiles.data)

submission = SubmitRequest.from_dict({
    "profile": "child-contact-abroad", "reference": "VOL-2026-0042",
    "position": {"title": "Teaching assistant", "role": "volunteer"},
    "deployment": {"country": "UG", "start_date": "2027-03-01"},
    "subject": {
        "given_names": "Anna Maria", "family_name": "Jansen", "date_of_birth": "1998-06-14",
        "place_of_birth": "Utrecht", "country_of_birth": "NL", "nationalities": ["NL"],
        "email": "anna.jansen@example.org", "bsn": "123456782",
        "referees": [{"name": "Ellen Visser", "email": "ellen@example.org", "relationship": "Former manager"}],
    },
})
idempotency_key = str(uuid.uuid4())
request = call(submit_request, HTTPStatus.CREATED, client=api, body=submission, idempotency_key=idempotency_key)
again = call(submit_request, HTTPStatus.CREATED, client=api, body=submission, idempotency_key=idempotency_key)
assert again.id == request.id, "the same Idempotency-Key gave another request"

token = invitation_token("anna.jansen@example.org")
subject = client()
invitation = call(get_invitation, HTTPStatus.OK, client=subject, token=token)
assert invitation.position.title == "Teaching assistant"
call(consent, HTTPStatus.OK, client=subject, token=token, body=ConsentRequest(consent=True))

# The checkers work their queues until the request is decided.
deadline = time.monotonic() + 60
while True:
    current = call(get_request, HTTPStatus.OK, client=api, id=request.id)
    if text(current.status) == "cleared":
        break
    if time.monotonic() > deadline:
        sys.exit(f"the request never cleared (it is {current.status})")
    for checker_id, checker in checkers.items():
        page = call(list_tasks, HTTPStatus.OK, client=checker, status=ListTasksStatus.ASSIGNED)
        for task in page.data:
            call(get_task, HTTPStatus.OK, client=checker, id=task.id)
            outcome = {"check": "no_concerns", "four_eyes_review": "concur"}.get(text(task.kind), "clear")
            call(complete_task, HTTPStatus.OK, client=checker, id=task.id,
                 body=CompleteTask.from_dict({"outcome": outcome}))
    time.sleep(0.1)

call(decision, HTTPStatus.OK, client=subject, token=token)
certificate = call(request_certificate, HTTPStatus.OK, client=api, id=request.id)
key_set = call(jwks, HTTPStatus.OK, client=client())
# Offline, with a JOSE library, as the README shows; then the service for the status.
token = jws.JWS()
token.deserialize(certificate.jws)
token.verify(jwk.JWKSet.from_json(json.dumps(key_set.to_dict())).get_key(token.jose_header["kid"]))
assert json.loads(token.payload)["jti"] == str(certificate.certificate_id)
verified = call(verify_certificate, HTTPStatus.OK, client=client(), body=VerifyRequest(jws=certificate.jws))
assert verified.valid and verified.status == "active", verified
events = call(request_events, HTTPStatus.OK, client=api, id=request.id)
assert events.data, "the timeline is empty"
listed = call(list_requests, HTTPStatus.OK, client=api)
assert any(r.id == request.id for r in listed.data)
tested = call(send_test, HTTPStatus.ACCEPTED, client=org_session, id=endpoint.id)
deliveries = call(list_deliveries, HTTPStatus.OK, client=org_session, id=endpoint.id)
assert any(d.id == tested.id for d in deliveries.data)

# The sandbox: the same screening with a sandbox key, moving on by itself; its certificate
# verifies as a sandbox one.
sandbox_key = call(create_api_key, HTTPStatus.CREATED, client=org_session, id=organisation.id,
                   body=CreateApiKey.from_dict({"name": "sandbox", "mode": "sandbox"}))
assert sandbox_key.key.startswith("ss_test_")
sandbox = client(sandbox_key.key)
test_submission = submission.to_dict()
test_submission["subject"]["email"] = "anna.jansen+clear@example.org"
test_request = call(submit_request, HTTPStatus.CREATED, client=sandbox,
                    body=SubmitRequest.from_dict(test_submission), idempotency_key=str(uuid.uuid4()))
assert test_request.livemode is False
deadline = time.monotonic() + 60
while text(call(get_request, HTTPStatus.OK, client=sandbox, id=test_request.id).status) != "cleared":
    if time.monotonic() > deadline:
        sys.exit("the sandbox request never cleared")
    time.sleep(0.5)
test_certificate = call(request_certificate, HTTPStatus.OK, client=sandbox, id=test_request.id)
test_verified = call(verify_certificate, HTTPStatus.OK, client=client(), body=VerifyRequest(jws=test_certificate.jws))
assert not test_verified.valid and test_verified.reason == "sandbox", test_verified

# Every event, signed and verified: the request's life, in order, and the test event.
deadline = time.monotonic() + 30
wanted = ["screening_request.created", "screening_request.consented", "screening_request.decided"]
while time.monotonic() < deadline:
    types = [e["type"] for e in Receiver.events]
    if all(t in types for t in wanted + ["webhook.test"]):
        break
    time.sleep(0.1)
types = [e["type"] for e in Receiver.events]
lifecycle = [t for t in types if t.startswith("screening_request.")]
assert lifecycle == wanted, types
assert "webhook.test" in types, types
elapsed = time.monotonic() - started
print(f"python client: {len(called)} calls of {len(set(called))} operations and "
      f"{len(Receiver.events)} verified webhooks in {elapsed:.1f} s")

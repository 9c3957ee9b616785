#!/usr/bin/env python3
"""Prepares a freshly started service for Schemathesis: its WFC auth document and the real ids
the fuzzer needs to get past 404.

    setup.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD MAIL_DIR AUTH_JSON IDS_ENV

Two organisations (each an org_admin, an API key, a webhook endpoint and requests), checkers
(one for the checks, two assessors of whom one supervises) and requests of organisation A in
every state an operation needs: awaiting consent, with tasks, cleared with a certificate, at the
intention to refuse and refused. The identities sign in through the login operation, so a
fuzzed logout only costs a fresh login. IDS_ENV gets one `export NAME=value` line per id, for
the `${NAME}`s of schemathesis.toml. Objects the fuzzer may spoil (a user it may deactivate, a
key it may revoke, a checker it may change) are spares, never an identity it signs in as.
"""

import json
import pathlib
import re
import sys
import time
import urllib.error
import urllib.request

BASE, ADMIN_EMAIL, ADMIN_PASSWORD, MAIL_DIR, AUTH_JSON, IDS_ENV = sys.argv[1:7]
PASSWORD = "a long enough password for the fuzzer"


def call(method, path, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request) as response:
            text = response.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        sys.exit(f"{method} {path}: {error.code} {error.read().decode()}")


def login(email, password=PASSWORD):
    return call("POST", "/v1/auth/login", body={"email": email, "password": password})["token"]


def activated(created, email):
    call("POST", "/v1/auth/activate", body={"token": created["activation_token"], "password": PASSWORD})
    return email


def submission(org, n):
    return {
        "profile": "general-abroad",
        "reference": f"ST-{org}-{n}",
        "position": {"title": "Teacher", "role": "volunteer"},
        "deployment": {"country": "UG", "start_date": "2027-02-01"},
        "subject": {
            "given_names": "Jan", "family_name": "de Vries", "date_of_birth": "1990-04-12",
            "place_of_birth": "Utrecht", "country_of_birth": "NL", "nationalities": ["NL"],
            "email": f"subject-{org}-{n}@example.org",
        },
    }


def invitation_token(email):
    """The token in the invitation e-mail to this address, from the mail drop."""
    for _ in range(400):
        for path in pathlib.Path(MAIL_DIR).glob("*.eml"):
            # Quoted-printable: undo soft line breaks before reading the link.
            text = path.read_text(errors="replace").replace("=\r\n", "").replace("=\n", "")
            if f"To: {email}" in text:
                found = re.search(r"/s/(ss_inv_[A-Za-z0-9_-]+)", text)
                if found:
                    return found.group(1)
        time.sleep(0.025)
    sys.exit(f"no invitation e-mail to {email}")


def open_task(request_id, kind):
    """The open task of this kind on the request, once routing has assigned it."""
    for _ in range(400):
        tasks = call("GET", f"/v1/tasks?request_id={request_id}&kind={kind}", admin)["data"]
        for task in tasks:
            if task["status"] == "assigned":
                return task
        time.sleep(0.025)
    sys.exit(f"no assigned {kind} task on request {request_id}")


def complete(request_id, kind, body):
    task = open_task(request_id, kind)
    call("POST", f"/v1/tasks/{task['id']}/complete", tokens[task["assignee_id"]], body)


def status_of(request_id):
    return call("GET", f"/v1/screening-requests/{request_id}", admin)["full_status"]


def wait_for(request_id, status):
    for _ in range(400):
        if status_of(request_id) == status:
            return
        time.sleep(0.025)
    sys.exit(f"request {request_id} never reached {status} (it is {status_of(request_id)})")


admin = login(ADMIN_EMAIL, ADMIN_PASSWORD)
users = {}
ids = {}
keys = {}
for org in ("a", "b"):
    organisation = call("POST", "/v1/organisations", admin, {
        "name": f"Organisation {org.upper()}", "registration_number": f"ST-{org}",
        "country": "NL", "operating_countries": ["UG"], "contact_email": f"office-{org}@example.org",
    })
    email = f"admin-{org}@example.org"
    created = call("POST", f"/v1/organisations/{organisation['id']}/users", admin,
                   {"email": email, "name": f"Admin {org.upper()}", "role": "org_admin"})
    users[f"org_{org}"] = activated(created, email)
    keys[org] = call("POST", f"/v1/organisations/{organisation['id']}/api-keys", admin, {"name": "fuzz"})["key"]
    token = login(email)
    endpoint = call("POST", "/v1/webhook-endpoints", token,
                    {"url": f"https://hooks-{org}.example.org/hook", "events": ["*"]})
    for n in range(3):
        call("POST", "/v1/screening-requests", keys[org], submission(org, n))
    if org == "a":
        ids["ORGANISATION_ID"] = organisation["id"]
        ids["WEBHOOK_ID"] = endpoint["id"]
        # Spares, for the operations that revoke, deactivate or delete.
        ids["SPARE_WEBHOOK_ID"] = call("POST", "/v1/webhook-endpoints", token, {
            "url": "https://spare.example.org/hook", "events": ["*"]})["id"]
        ids["SPARE_KEY_ID"] = call("POST", f"/v1/organisations/{organisation['id']}/api-keys",
                                   admin, {"name": "spare"})["id"]
        ids["SPARE_USER_ID"] = call("POST", f"/v1/organisations/{organisation['id']}/users", admin, {
            "email": "spare-a@example.org", "name": "Spare", "role": "org_requester"})["user"]["id"]
        # A second session of A's admin, for the fuzzer to end.
        spare = login(email)
        ids["SPARE_SESSION_ID"] = next(
            s["id"] for s in call("GET", "/v1/me/sessions", spare) if s["current"])

tokens = {}
checker_ids = {}
for name, authorisations, supervisor in [
    ("checker", ["identity", "criminal_record"], False),
    ("assessor", ["assessment"], False),
    ("supervisor", ["assessment"], True),
]:
    email = f"{name}@example.org"
    created = call("POST", "/v1/checkers", admin, {
        "email": email, "name": name.title(), "authorisations": authorisations,
        "supervisor": supervisor, "max_open_tasks": 50,
    })
    activated(created, email)
    if name != "assessor":
        users[name] = email
    checker_ids[name] = created["checker"]["id"]
    tokens[created["checker"]["id"]] = login(email)
ids["CHECKER_ID"] = checker_ids["checker"]
ids["SPARE_CHECKER_ID"] = call("POST", "/v1/checkers", admin, {
    "email": "spare-checker@example.org", "name": "Spare", "authorisations": [],
    "supervisor": False, "max_open_tasks": 0})["checker"]["id"]
users["admin"] = ADMIN_EMAIL


def consented(name):
    """A request of organisation A, consented by its subject: its id and the subject's token."""
    body = submission("a", name)
    request_id = call("POST", "/v1/screening-requests", keys["a"], body)["id"]
    token = invitation_token(body["subject"]["email"])
    call("POST", f"/v1/invitations/{token}/consent", body={"consent": True})
    return request_id, token


def refused_in_principle(name):
    """A request at the intention to refuse: a concern, a proposal, and four eyes on it."""
    request_id, token = consented(name)
    complete(request_id, "check", {"outcome": "concerns", "notes": "A finding."})
    complete(request_id, "check", {"outcome": "no_concerns"})
    complete(request_id, "assessment", {"outcome": "refuse", "grounds": "A relevant finding."})
    complete(request_id, "four_eyes_review", {"outcome": "concur"})
    wait_for(request_id, "intent_to_refuse")
    return request_id, token


# Cleared, with a certificate: for the certificate, its revocation and a rescreen.
cleared, ids["CLEARED_TOKEN"] = consented("cleared")
complete(cleared, "check", {"outcome": "no_concerns"})
complete(cleared, "check", {"outcome": "no_concerns"})
wait_for(cleared, "cleared")
ids["CLEARED_REQUEST_ID"] = cleared
ids["CERTIFICATE_ID"] = call("GET", f"/v1/screening-requests/{cleared}/certificate", keys["a"])["certificate_id"]

# In progress: the subject withdraws consent.
_, ids["WITHDRAW_CONSENT_TOKEN"] = consented("withdraw-consent")

# At the intention to refuse: the subject's response.
_, ids["RESPONSE_TOKEN"] = refused_in_principle("response")

# Refused: the subject's objection.
refused, ids["OBJECTION_TOKEN"] = refused_in_principle("objection")
call("POST", f"/v1/invitations/{ids['OBJECTION_TOKEN']}/response",
     body={"statement": "I would like to explain."})
complete(refused, "final_review", {"outcome": "refuse", "grounds": "The finding stands."})
wait_for(refused, "refused")

# Awaiting consent: to consent, to decline, to withdraw, to resend the invitation of.
for name in ("CONSENT", "DECLINE", "WITHDRAW", "RESEND"):
    body = submission("a", name.lower())
    ids[f"{name}_REQUEST_ID"] = call("POST", "/v1/screening-requests", keys["a"], body)["id"]
    ids[f"{name}_TOKEN"] = invitation_token(body["subject"]["email"])

# Tasks of the checker: one to complete, one to release, one for a supervisor to assign.
for name in ("COMPLETE", "RELEASE", "ASSIGN"):
    request_id, _ = consented(f"task-{name.lower()}")
    ids[f"{name}_TASK_ID"] = open_task(request_id, "check")["id"]

# The order the fuzzer tries identities in on an operation that refuses one (with anonymous
# second): organisation B last, so that an object of A's, which B is told does not exist (404),
# never stops the fuzzer short of the checker, supervisor or admin who may act on it.
users = {name: users[name] for name in ("org_a", "checker", "supervisor", "admin", "org_b")}

login_auth = {
    "endpoint": "/v1/auth/login",
    "verb": "POST",
    "contentType": "application/json",
    "token": {"extractFrom": "body", "extractSelector": "/token", "sendIn": "header",
              "sendName": "Authorization", "sendTemplate": "Bearer {token}"},
}
document = {
    "schemaVersion": "1.0.0",
    "auth": [
        {"name": name, "loginEndpointAuth": {**login_auth, "payloadUserPwd": {
            "username": email, "password": ADMIN_PASSWORD if name == "admin" else PASSWORD,
            "usernameField": "email", "passwordField": "password"}}}
        for name, email in users.items()
    ],
}
with open(AUTH_JSON, "w") as out:
    json.dump(document, out, indent=2)
with open(IDS_ENV, "w") as out:
    for name, value in ids.items():
        out.write(f"export {name}={value}\n")

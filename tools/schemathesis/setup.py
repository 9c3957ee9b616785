#!/usr/bin/env python3
"""Prepares a freshly started service for Schemathesis and writes its WFC auth document.

    setup.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD AUTH_JSON

Two organisations, each with an org_admin, an API key, a webhook endpoint and a few screening
requests, and a checker with a consented request's task: enough objects for the fuzzer to find
and for its object-level authorisation check to compare the two organisations. The identities
sign in through the login operation, so a fuzzed logout only costs a fresh login.
"""

import json
import sys
import urllib.error
import urllib.request

BASE, ADMIN_EMAIL, ADMIN_PASSWORD, AUTH_JSON = sys.argv[1:5]
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


def login(email, password):
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


admin = login(ADMIN_EMAIL, ADMIN_PASSWORD)
users = {}
for org in ("a", "b"):
    organisation = call("POST", "/v1/organisations", admin, {
        "name": f"Organisation {org.upper()}", "registration_number": f"ST-{org}",
        "country": "NL", "operating_countries": ["UG"], "contact_email": f"office-{org}@example.org",
    })
    email = f"admin-{org}@example.org"
    created = call("POST", f"/v1/organisations/{organisation['id']}/users", admin,
                   {"email": email, "name": f"Admin {org.upper()}", "role": "org_admin"})
    users[f"org_{org}"] = activated(created, email)
    key = call("POST", f"/v1/organisations/{organisation['id']}/api-keys", admin, {"name": "fuzz"})["key"]
    token = login(email, PASSWORD)
    call("POST", "/v1/webhook-endpoints", token, {"url": "https://93.184.216.34/hook", "events": ["*"]})
    for n in range(3):
        call("POST", "/v1/screening-requests", key, submission(org, n))

email = "checker@example.org"
created = call("POST", "/v1/checkers", admin, {
    "email": email, "name": "Checker", "authorisations": ["identity", "criminal_record"],
    "supervisor": False, "max_open_tasks": 50,
})
users["checker"] = activated(created, email)

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
            "username": email, "password": PASSWORD,
            "usernameField": "email", "passwordField": "password"}}}
        for name, email in users.items()
    ],
}
with open(AUTH_JSON, "w") as out:
    json.dump(document, out, indent=2)

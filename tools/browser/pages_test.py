#!/usr/bin/env python3
"""The pages in a real browser (headless Chromium through Selenium), driven as people do.

    pages_test.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD MAIL_DIR AXE_JS SCREENSHOT_DIR DATABASE

On every page: axe-core finds no violation (WCAG 2.2 AA tags), the headers of web.md are
there, no inline script or style is written, and a screenshot is kept. The scenarios: the
landing page; a new checker activated from the e-mailed link and enrolling TOTP (QR page, first
code, recovery codes); signing in with a password then a TOTP code; the same code a second time
refused; a recovery code working once; /account ending another session; a passkey registered
and used (Chromium's virtual authenticator), and WebAuthn answers for another challenge,
replayed or from another origin refused; the subject page in Dutch (also at 360 px) and
English, consent with JavaScript disabled, a decline without a reason (the Dutch error summary)
and a consent withdrawn through its confirmation page without JavaScript; the
console (the queue, a task reached by keyboard, a form sent without an outcome, then completed,
the cases; the queue and a task page without JavaScript); casework (a supervisor assigning a
task with the conflicted checker explained; a refusal without grounds, then with grounds after
step-up; the four-eyes review seen by the second assessor and refused to the proposer);
administration (an admin adds a checker whose activation link is e-mailed, changes another's
authorisation after step-up and sees the open task rerouted, publishes a definition with two
errors then a valid one, and visits the other administration pages); the organisation portal (a new
request with a wrong date of birth and an EU country, corrected; a CSV file of five rows with
one bad, submitted, then again creating nothing; the export; a clearance's certificate page,
printed on one A4 page, its QR code read from the image and followed to /verify ("valid"); a
tampered certificate; "revoked" after the admin revokes it in the console; /verify in Dutch; a
requester refused the settings; the list, the new request and /verify without JavaScript); a
cross-site form post refused. DATABASE is the server's SQLite file: step-up is reached by ageing a session's last
second factor there, as fifteen minutes would. Exits 1 on the first failed check.
"""

import base64
import hashlib
import html
import hmac
import json
import pathlib
import re
import sqlite3
import struct
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

from calendar import timegm

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from selenium.webdriver.common.virtual_authenticator import (
    Protocol,
    Transport,
    VirtualAuthenticatorOptions,
)

BASE, ADMIN_EMAIL, ADMIN_PASSWORD, MAIL_DIR, AXE_JS, SHOTS, DATABASE = sys.argv[1:8]
AXE_SOURCE = pathlib.Path(AXE_JS).read_text()
PASSWORD = "a long enough password for the browser"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
checked_pages = []


def fail(message):
    print(f"FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)


# --- the API, for what the scenarios need set up ---------------------------------------

def call(method, path, token=None, body=None, expect_status=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    if expect_status is not None and status != expect_status:
        fail(f"{method} {path}: {status} {text[:300]!r}")
    return json.loads(text) if text else None


def totp(secret, offset=0):
    """RFC 6238, as an authenticator app computes it."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int(time.time() // 30) + offset
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    start = digest[-1] & 15
    code = (struct.unpack(">I", digest[start:start + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def mailed(to, marker):
    """What follows `marker` in the newest e-mail to this address in the mail drop."""
    for _ in range(400):
        found = []
        for path in pathlib.Path(MAIL_DIR).glob("*.eml"):
            text = path.read_text(errors="replace").replace("=\r\n", "").replace("=\n", "")
            if f"To: {to}" in text and marker in text:
                match = re.search(re.escape(marker) + r"([A-Za-z0-9_-]+)", text)
                if match:
                    found.append((path.stat().st_mtime, match.group(1)))
        if found:
            return sorted(found)[-1][1]
        time.sleep(0.05)
    fail(f"no e-mail to {to} with {marker}")


def enrol(email, password):
    """An API session for the user with TOTP set up: (token, secret, recovery codes)."""
    token = call("POST", "/v1/auth/login", body={"email": email, "password": password},
                 expect_status=200)["token"]
    secret = call("POST", "/v1/me/totp", token, expect_status=201)["secret"]
    codes = call("POST", "/v1/me/totp/confirm", token, {"code": totp(secret)},
                 expect_status=200)["recovery_codes"]
    return token, secret, codes


def enrolled_admin():
    """The admin's API session, TOTP secret and recovery codes, set up through the API."""
    return enrol(ADMIN_EMAIL, ADMIN_PASSWORD)


def api_checker(admin, name, authorisations, supervisor=False, cap=10, conflicts=()):
    """A checker made and activated through the API, with TOTP: a dict of what the scenarios
    need (id, email, token, secret, codes)."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.org"
    created = call("POST", "/v1/checkers", admin, {
        "email": email, "name": name, "authorisations": list(authorisations),
        "supervisor": supervisor, "max_open_tasks": cap, "conflicts": list(conflicts)},
        expect_status=201)
    call("POST", "/v1/auth/activate", body={"token": created["activation_token"], "password": PASSWORD},
         expect_status=204)
    token, secret, codes = enrol(email, PASSWORD)
    return {"id": created["checker"]["id"], "email": email, "name": name, "token": token,
            "secret": secret, "codes": codes}


def age_factor(email):
    """Makes the user's sessions' last second factor twenty minutes old, past the step-up
    window (SQLite: the service reads sessions afresh, it caches principals only on
    PostgreSQL)."""
    db = sqlite3.connect(DATABASE, timeout=10)
    rows = db.execute("SELECT id, factor_verified_at FROM sessions WHERE factor_verified_at IS NOT NULL "
                      "AND user_id = (SELECT id FROM users WHERE email = ?)", (email,)).fetchall()
    expect(rows, f"a session of {email} with a factor")
    for row_id, at in rows:
        sep = at[10]
        then = time.strptime(at[:19], f"%Y-%m-%d{sep}%H:%M:%S")
        aged = time.strftime(f"%Y-%m-%d{sep}%H:%M:%S", time.gmtime(timegm(then) - 20 * 60)) + at[19:]
        db.execute("UPDATE sessions SET factor_verified_at = ? WHERE id = ?", (aged, row_id))
    db.commit()
    db.close()


def task_of(admin, request, kind, check=None):
    """The open task of this kind (and check) on the request, as the API lists it."""
    for _ in range(100):
        tasks = call("GET", f"/v1/tasks?request_id={request}", admin, expect_status=200)["data"]
        found = [t for t in tasks if t["kind"] == kind and t.get("check") == check
                 and t["status"] in ("assigned", "unassigned")]
        if found:
            return found[0]
        time.sleep(0.05)
    fail(f"no open {kind} task on {request}")


# --- the browser ---------------------------------------------------------------------------

def browser(javascript=True):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                     f"--user-data-dir={tempfile.mkdtemp()}"]:
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(2)
    return driver


def headers_of(driver, url):
    """The response headers of the page, fetched with the browser's cookies."""
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    request = urllib.request.Request(url)
    request.add_header("Cookie", cookies)
    request.add_header("Accept", "text/html")
    try:
        with urllib.request.urlopen(request) as response:
            return dict(response.headers)
    except urllib.error.HTTPError as error:
        return dict(error.headers)


def check_page(driver, name, axe=True):
    """axe, the headers, no inline script or style, and a screenshot."""
    source = driver.page_source.lower()
    expect("<style" not in source and " style=" not in source.split("<svg")[0],
           f"{name}: inline style")
    for tag in re.findall(r"<script[^>]*>", source):
        expect(" src=" in tag, f"{name}: inline script {tag}")
    expect(not re.search(r" on[a-z]+=", source), f"{name}: an inline event handler")
    headers = {k.lower(): v for k, v in headers_of(driver, driver.current_url).items()}
    expect(headers.get("content-security-policy") == CSP, f"{name}: CSP {headers.get('content-security-policy')}")
    expect(headers.get("x-content-type-options") == "nosniff", f"{name}: nosniff")
    expect(headers.get("referrer-policy") == "no-referrer", f"{name}: referrer policy")
    if axe:
        driver.execute_script(AXE_SOURCE)
        violations = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
            ".then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' ' + "
            "v.nodes.map(n => n.target.join(' ')).join(', '))));")
        expect(not violations, f"{name}: axe: {violations}")
    weight = len(driver.page_source.encode())
    driver.save_screenshot(str(pathlib.Path(SHOTS) / f"{len(checked_pages) + 1:02d}-{name}.png"))
    checked_pages.append((name, weight))


def fill(driver, field, value):
    element = driver.find_element(By.NAME, field)
    element.clear()
    element.send_keys(value)


def click(driver, element):
    """Follows a link or sends a form, and waits for the next page."""
    element.click()

    def left(_):
        # The old page's element is gone; mid-navigation Chromium may also answer that the
        # node no longer belongs to the document, which says the same.
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True

    WebDriverWait(driver, 10).until(left)


def submit(driver):
    click(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))


def sign_in(driver, email, password, code=None):
    driver.get(BASE + "/login")
    fill(driver, "email", email)
    fill(driver, "password", password)
    submit(driver)
    if code is not None:
        expect(driver.current_url.endswith("/login/verify"), f"asked for a code: {driver.current_url}")
        fill(driver, "code", code)
        submit(driver)


# --- the scenarios ------------------------------------------------------------------------

def main():
    admin, admin_secret, admin_codes = enrolled_admin()
    organisation = call("POST", "/v1/organisations", admin, {
        "name": "Kinderhulp Oeganda", "registration_number": "KH-1", "country": "NL",
        "operating_countries": ["UG"], "contact_email": "office@example.org"}, expect_status=201)
    key = call("POST", f"/v1/organisations/{organisation['id']}/api-keys", admin, {"name": "browser"},
               expect_status=201)["key"]

    first = browser()
    second = browser()
    no_script = browser(javascript=False)
    try:
        # The landing page.
        first.get(BASE + "/")
        expect(first.find_element(By.TAG_NAME, "h1").text, "a heading")
        check_page(first, "landing")

        # A new checker: the e-mailed link, a password, then TOTP enrolment.
        email = f"checker-{uuid.uuid4().hex[:8]}@example.org"
        call("POST", "/v1/checkers", admin, {
            "email": email, "name": "Anna Checker", "authorisations": ["identity", "criminal_record"],
            "supervisor": False, "max_open_tasks": 5, "conflicts": []}, expect_status=201)
        first.get(BASE + "/activate/" + mailed(email, "/activate/"))
        check_page(first, "activate")
        fill(first, "password", "short")
        submit(first)
        expect("There is a problem" in first.page_source, "a short password is refused on the page")
        check_page(first, "activate-error")
        fill(first, "password", PASSWORD)
        submit(first)
        expect("Your password is saved" in first.page_source, "password saved")
        check_page(first, "password-saved")
        first.get(BASE + "/login")
        check_page(first, "login")
        sign_in(first, email, PASSWORD)
        expect(first.current_url.endswith("/account/totp"), f"to enrolment: {first.current_url}")
        first.get(BASE + "/account")
        expect("Set up a second factor to continue" in first.page_source, "asked to enrol")
        check_page(first, "account-enrol-first")
        first.get(BASE + "/account/totp")
        check_page(first, "totp-intro")
        submit(first)
        expect(first.find_element(By.CSS_SELECTOR, ".qr img").get_attribute("alt"), "the QR code has a text")
        check_page(first, "totp-qr")
        secret = first.find_element(By.CSS_SELECTOR, "p.secret").text.strip()
        fill(first, "code", "000000")
        submit(first)
        expect("There is a problem" in first.page_source, "a wrong first code is refused")
        check_page(first, "totp-wrong-code")
        fill(first, "code", totp(secret))
        submit(first)
        codes = [li.text for li in first.find_elements(By.CSS_SELECTOR, "ol.codes li")]
        expect(len(codes) == 10, f"ten recovery codes: {codes}")
        check_page(first, "recovery-codes")
        click(first, first.find_element(By.LINK_TEXT, "I have kept them, continue"))
        check_page(first, "account")

        # Signing out, and in with the password then a TOTP code.
        click(first, first.find_element(By.CSS_SELECTOR, "header button"))
        expect("/login" in first.current_url, "signed out")
        code = totp(secret, 1)
        first.get(BASE + "/login")
        fill(first, "email", email)
        fill(first, "password", PASSWORD)
        submit(first)
        check_page(first, "login-verify")
        fill(first, "code", code)
        submit(first)
        expect(first.current_url.endswith("/console/tasks"), f"signed in with TOTP, at the queue: {first.current_url}")

        # The same code a second time: refused.
        sign_in(second, email, PASSWORD, code)
        expect("There is a problem" in second.page_source, f"a reused code is refused: {second.current_url} {second.page_source[:1500]}")
        check_page(second, "login-verify-reused")
        # A recovery code works, once.
        fill(second, "code", codes[0])
        submit(second)
        expect(second.current_url.endswith("/console/tasks"), "a recovery code signs in")
        third = browser()
        try:
            sign_in(third, email, PASSWORD, codes[0])
            expect("There is a problem" in third.page_source, f"a used recovery code is refused: {third.current_url} {third.page_source[:1500]}")
        finally:
            third.quit()

        # /account ends another session: the second browser is signed out.
        first.get(BASE + "/account")
        rows = first.find_elements(By.CSS_SELECTOR, "table tbody tr")
        other = [r for r in rows if "This session" not in r.text and "Browser" in r.text]
        expect(other, "another browser session listed")
        click(first, other[0].find_element(By.CSS_SELECTOR, "button"))
        expect("The session has ended" in first.page_source, "the session ended")
        check_page(first, "account-session-ended")
        second.get(BASE + "/account")
        expect("/login" in second.current_url, "the ended session is signed out")

        # A passkey: registered on /account with a virtual authenticator, then used to sign in.
        first.add_virtual_authenticator(VirtualAuthenticatorOptions(
            protocol=Protocol.CTAP2, transport=Transport.INTERNAL, has_resident_key=True,
            has_user_verification=True, is_user_verified=True))
        first.get(BASE + "/account")
        fill(first, "passkey_name", "Test laptop")
        click(first, first.find_element(By.XPATH, "//button[normalize-space()='Add a passkey']"))
        WebDriverWait(first, 10).until(lambda d: "done=passkey-added" in d.current_url
                                       or "not accepted" in d.page_source
                                       or d.find_element(By.ID, "passkey-error").is_displayed())
        expect("Test laptop" in first.page_source, f"the passkey is listed: {first.current_url} {first.page_source[-1500:]}")
        check_page(first, "account-passkey")
        passkey_ceremony_answers_are_checked(first)
        click(first, first.find_element(By.CSS_SELECTOR, "header button"))
        first.get(BASE + "/login")
        fill(first, "email", email)
        fill(first, "password", PASSWORD)
        submit(first)
        check_page(first, "login-verify-passkey")
        click(first, first.find_element(By.XPATH, "//button[normalize-space()='Sign in with a passkey']"))
        WebDriverWait(first, 10).until(lambda d: d.current_url.endswith("/console/tasks"))
        expect(first.current_url.endswith("/console/tasks"), f"signed in with a passkey: {first.current_url}")

        # The subject page, with JavaScript and without.
        subject = f"subject-{uuid.uuid4().hex[:8]}@example.org"
        submission = {
            "profile": "general-abroad", "reference": "BR-1",
            "position": {"title": "Teacher", "role": "volunteer"},
            "deployment": {"country": "UG", "start_date": "2027-02-01"},
            "subject": {"given_names": "Jan", "family_name": "de Vries", "date_of_birth": "1990-04-12",
                        "place_of_birth": "Utrecht", "country_of_birth": "NL", "nationalities": ["NL"],
                        "email": subject}}
        call("POST", "/v1/screening-requests", key, submission, expect_status=201)
        token = mailed(subject, "/s/")
        subject_page(first, no_script, key, submission, token)

        # The console: the checker's queue, the task, a form sent without an outcome (the
        # error summary, focused), then the task completed.
        first.get(BASE + "/console/tasks")
        check_page(first, "console-queue")
        click(first, first.find_element(By.PARTIAL_LINK_TEXT, "Check: identity"))
        expect("Jan" in first.page_source and "Utrecht" in first.page_source, "the subject's identity")
        check_page(first, "console-task")
        keyboard_reaches(first, "outcome", "Complete task")
        fill(first, "notes", "Passport seen")
        click(first, first.find_element(By.XPATH, "//button[normalize-space()='Complete task']"))
        expect("There is a problem" in first.page_source, "an outcome is needed")
        expect("error-summary" in (first.switch_to.active_element.get_attribute("class") or ""),
               "focus on the error summary")
        expect("Passport seen" in first.page_source, "the notes are kept")
        check_page(first, "console-task-error")
        first.find_element(By.CSS_SELECTOR, "input[name=outcome][value=no_concerns]").click()
        click(first, first.find_element(By.XPATH, "//button[normalize-space()='Complete task']"))
        expect("Task completed" in first.page_source, f"completed: {first.page_source[:600]}")
        check_page(first, "console-task-done")
        first.get(BASE + "/console/tasks?view=completed")
        check_page(first, "console-queue-completed")
        first.get(BASE + "/console/requests")
        check_page(first, "console-cases")
        click(first, first.find_element(By.LINK_TEXT, "BR-1"))
        check_page(first, "console-case")
        first.get(BASE + "/console/tasks?view=bogus")
        expect("There is a problem" in first.page_source, "an unknown view is explained")
        check_page(first, "console-queue-bad-filter")
        # Signing in works without JavaScript too (the org admin signs in with a password).
        org_email = f"orgadmin-{uuid.uuid4().hex[:8]}@example.org"
        created = call("POST", f"/v1/organisations/{organisation['id']}/users", admin,
                       {"email": org_email, "name": "Org Admin", "role": "org_admin"}, expect_status=201)
        call("POST", "/v1/auth/activate", body={"token": created["activation_token"], "password": PASSWORD},
             expect_status=204)
        # The queue and a task page without JavaScript, as the admin (password, then a code
        # of a later time step than the enrolment's).
        sign_in(no_script, ADMIN_EMAIL, ADMIN_PASSWORD, totp(admin_secret, 1))
        expect(no_script.current_url.endswith("/console/tasks"), f"the admin at the queue: {no_script.current_url}")
        no_script.get(BASE + "/console/tasks?view=all")
        check_page(no_script, "console-queue-without-script", axe=False)
        click(no_script, no_script.find_element(By.PARTIAL_LINK_TEXT, "Check: criminal record"))
        expect("Assign to a checker" in no_script.page_source, "the admin may assign")
        check_page(no_script, "console-task-without-script", axe=False)
        click(no_script, no_script.find_element(By.CSS_SELECTOR, "header button"))
        sign_in(no_script, org_email, PASSWORD)
        expect(no_script.current_url.endswith("/org/requests"), "signed in without JavaScript")
        no_script.get(BASE + "/account")
        check_page(no_script, "account-without-script", axe=False)

        casework(admin, key, organisation)
        administration(admin, admin_codes)
        portal(admin, admin_codes, organisation, no_script)

        # A form posted from another site: refused, nothing changed.
        first.get(BASE + "/account")
        csrf = first.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")
        sessions_before = len(first.find_elements(By.CSS_SELECTOR, "table tbody tr"))
        form = (f"<form method=post action='{BASE}/logout'><input name=csrf value='{csrf}'>"
                "<button id=go>go</button></form>")
        first.get("data:text/html;charset=utf-8," + urllib.parse.quote(form))
        click(first, first.find_element(By.ID, "go"))
        expect("This form was not sent from safescreen" in first.page_source
               or "Sign in" in first.page_source, f"a cross-site post is refused: {first.page_source[:300]}")
        first.get(BASE + "/account")
        expect(first.current_url.endswith("/account"), "still signed in after the cross-site post")
        expect(len(first.find_elements(By.CSS_SELECTOR, "table tbody tr")) == sessions_before,
               "no session changed")
    finally:
        for driver in (first, second, no_script):
            driver.quit()

    print(f"browser: {len(checked_pages)} pages checked, axe violations 0")
    for name, weight in checked_pages:
        print(f"browser: {name}: {weight} bytes")


CASEWORK = {
    "key": "browser-casework", "title": "Casework in the browser", "consent_window": "P14D",
    "decision_deadline": "P28D",
    "checks": [
        {"id": "misconduct", "authorisation": "misconduct_disclosure", "sla": "P5D"},
        {"id": "reference", "authorisation": "reference", "sla": "P5D"},
    ],
    "assessment": {"authorisation": "assessment", "sla": "P5D", "four_eyes": True},
}


def casework(admin, key, organisation):
    """A supervisor assigns a task, the conflicted checker explained; the assessor refuses
    without grounds, then with grounds after step-up; the four-eyes review is the second
    assessor's, and the proposer is told why it is not theirs."""
    call("POST", "/v1/workflow-definitions", admin, CASEWORK, expect_status=201)
    call("POST", "/v1/screening-profiles", admin, {
        "code": "browser-casework", "title": "Casework", "description": "The browser's casework",
        "workflow": {"key": "browser-casework", "version": 1}, "validity_months": 12,
        "roles": ["volunteer"], "expiry_warning_days": 30}, expect_status=201)
    ann = api_checker(admin, "Ann", ["misconduct_disclosure", "assessment"], supervisor=True)
    dirk = api_checker(admin, "Dirk", ["reference"], conflicts=[organisation["id"]])
    subject = f"casework-{uuid.uuid4().hex[:8]}@example.org"
    created = call("POST", "/v1/screening-requests", key, {
        "profile": "browser-casework", "reference": "CW-1",
        "position": {"title": "Teacher", "role": "volunteer"},
        "deployment": {"country": "UG", "start_date": "2027-02-01"},
        "subject": {"given_names": "Mirjam", "family_name": "Bakker", "date_of_birth": "1988-07-01",
                    "place_of_birth": "Zwolle", "country_of_birth": "NL", "nationalities": ["NL"],
                    "email": subject}}, expect_status=201)
    request = created["id"]
    call("POST", f"/v1/invitations/{mailed(subject, '/s/')}/consent", body={"consent": True},
         expect_status=200)
    misconduct = task_of(admin, request, "check", "misconduct")
    supervisor = browser()
    try:
        sign_in(supervisor, ann["email"], PASSWORD, totp(ann["secret"], 1))
        expect(supervisor.current_url.endswith("/console/tasks"), f"Ann at the queue: {supervisor.current_url}")
        # The reference check waits: Dirk may not take it, and supervision says why.
        supervisor.get(BASE + "/console/supervision")
        expect("Declared a conflict of interest" in supervisor.page_source, "the conflict explained")
        check_page(supervisor, "console-supervision")
        # Two checkers who may: routing gives it to one, the supervisor moves it to the other.
        eva = api_checker(admin, "Eva", ["reference"])
        finn = api_checker(admin, "Finn", ["reference"])
        reference = task_of(admin, request, "check", "reference")
        holder = eva if reference["assignee_id"] == eva["id"] else finn
        other = finn if holder is eva else eva
        supervisor.get(BASE + f"/console/tasks/{reference['id']}")
        expect("Assign to a checker" in supervisor.page_source, "the supervisor may assign")
        expect("Declared a conflict of interest" in supervisor.page_source, "Dirk's conflict said")
        options = [o.get_attribute("value") for o in
                   supervisor.find_elements(By.CSS_SELECTOR, "input[name=checker_id]")]
        expect(other["id"] in options and dirk["id"] not in options, f"only eligible checkers offered: {options}")
        check_page(supervisor, "console-task-assign")
        supervisor.find_element(By.CSS_SELECTOR, f"input[name=checker_id][value='{other['id']}']").click()
        click(supervisor, supervisor.find_element(By.XPATH, "//button[normalize-space()='Assign task']"))
        expect("Task assigned" in supervisor.page_source, "assigned")
        check_page(supervisor, "console-task-assigned")
        call("POST", f"/v1/tasks/{reference['id']}/complete", other["token"], {"outcome": "no_concerns"},
             expect_status=200)
        call("POST", f"/v1/tasks/{misconduct['id']}/complete", ann["token"],
             {"outcome": "concerns", "notes": "A disclosure from a former employer"}, expect_status=200)
        # The assessment is Ann's: a refusal without grounds is the form again.
        assessment = task_of(admin, request, "assessment")
        supervisor.get(BASE + "/console/tasks")
        click(supervisor, supervisor.find_element(By.PARTIAL_LINK_TEXT, "Assessment"))
        expect("A disclosure from a former employer" in supervisor.page_source, "the earlier notes shown")
        supervisor.find_element(By.CSS_SELECTOR, "input[name=outcome][value=refuse]").click()
        fill(supervisor, "notes", "Disclosure confirmed")
        click(supervisor, supervisor.find_element(By.XPATH, "//button[normalize-space()='Complete task']"))
        expect("There is a problem" in supervisor.page_source, "grounds are needed")
        expect("error-summary" in (supervisor.switch_to.active_element.get_attribute("class") or ""),
               "focus on the error summary")
        expect("Disclosure confirmed" in supervisor.page_source, "the notes are kept")
        expect(supervisor.find_element(By.CSS_SELECTOR, "input[name=outcome][value=refuse]").is_selected(),
               "the outcome is kept")
        check_page(supervisor, "console-refusal-without-grounds")
        # With grounds, but the last factor is old: a code first.
        age_factor(ann["email"])
        fill(supervisor, "grounds", "Dismissed for conduct towards children")
        click(supervisor, supervisor.find_element(By.XPATH, "//button[normalize-space()='Complete task']"))
        expect("Confirm it is you" in supervisor.page_source, f"step-up: {supervisor.page_source[:800]}")
        check_page(supervisor, "console-step-up")
        fill(supervisor, "code", ann["codes"][0])
        submit(supervisor)
        expect("Task completed" in supervisor.page_source, f"refusal proposed: {supervisor.page_source[:800]}")
        # The four-eyes review goes to a second assessor.
        bert = api_checker(admin, "Bert", ["assessment"])
        review = task_of(admin, request, "four_eyes_review")
        expect(review["assignee_id"] == bert["id"], f"the review is Bert's: {review}")
        second = browser()
        try:
            sign_in(second, bert["email"], PASSWORD, totp(bert["secret"], 1))
            click(second, second.find_element(By.PARTIAL_LINK_TEXT, "Four-eyes review"))
            expect(second.find_elements(By.CSS_SELECTOR, "input[name=outcome][value=concur]"),
                   "Bert may concur")
            expect("Dismissed for conduct towards children" in second.page_source, "the grounds shown to the reviewer")
            check_page(second, "console-four-eyes")
        finally:
            second.quit()
        supervisor.get(BASE + f"/console/tasks/{review['id']}")
        expect("You proposed this decision" in supervisor.page_source, "the proposer is told why")
        expect(not supervisor.find_elements(By.CSS_SELECTOR, "input[name=outcome][value=concur]"),
               "no concur for the proposer")
        check_page(supervisor, "console-four-eyes-own-proposal")
    finally:
        supervisor.quit()
    casework.request = request
    casework.review = review
    casework.bert = bert


def administration(admin, admin_codes):
    """An admin adds a checker (the activation link e-mailed), takes an authorisation away
    after step-up and sees the open task rerouted, publishes a definition with two errors
    then a valid one, and visits the other administration pages."""
    cas = api_checker(admin, "Cas", ["assessment"])
    driver = browser()
    try:
        sign_in(driver, ADMIN_EMAIL, ADMIN_PASSWORD, admin_codes[0])
        expect(driver.current_url.endswith("/console/tasks"), f"the admin at the queue: {driver.current_url}")
        driver.get(BASE + "/console/checkers")
        check_page(driver, "console-checkers")
        email = f"gert-{uuid.uuid4().hex[:8]}@example.org"
        fill(driver, "name", "Gert Jansen")
        fill(driver, "email", email)
        driver.find_element(By.CSS_SELECTOR, "input[name=authorisations][value=identity]").click()
        fill(driver, "max_open_tasks", "5")
        click(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Add checker']"))
        expect(f"The activation link went to {email}" in driver.page_source, "the checker added")
        expect(mailed(email, "/activate/").startswith("ss_act_"), "the activation link is e-mailed")
        check_page(driver, "console-checker-added")
        # Bert loses the assessment authorisation: a code first, then the review goes to Cas.
        bert = casework.bert
        driver.get(BASE + f"/console/checkers/{bert['id']}")
        box = driver.find_element(By.CSS_SELECTOR, "input[name=authorisations][value=assessment]")
        expect(box.is_selected(), "Bert holds assessment")
        box.click()
        driver.find_element(By.CSS_SELECTOR, "input[name=authorisations][value=reference]").click()
        age_factor(ADMIN_EMAIL)
        click(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Save changes']"))
        expect("Confirm it is you" in driver.page_source, f"step-up: {driver.page_source[:800]}")
        check_page(driver, "console-checker-step-up")
        fill(driver, "code", admin_codes[1])
        submit(driver)
        expect("Checker changed" in driver.page_source, f"changed: {driver.page_source[:800]}")
        check_page(driver, "console-checker-changed")
        review = call("GET", f"/v1/tasks/{casework.review['id']}", admin, expect_status=200)
        expect(review["assignee_id"] == cas["id"], f"the review rerouted to Cas: {review}")
        driver.get(BASE + f"/console/requests/{casework.request}")
        rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "table tbody tr")]
        expect(any("Four-eyes review" in r and "Cas" in r for r in rows), f"the case shows Cas: {rows}")
        check_page(driver, "console-case-rerouted")
        # A definition with two errors: both listed, the text kept; then a valid one.
        driver.get(BASE + "/console/workflows")
        check_page(driver, "console-workflows")
        broken = dict(CASEWORK, key="browser-published", checks=[
            {"id": "identity", "authorisation": "telepathy", "sla": "P2D"},
            {"id": "reference", "authorisation": "reference", "sla": "P1M", "after": ["identity"]}])
        fill(driver, "definition", json.dumps(broken, indent=2))
        click(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Publish definition']"))
        summary = driver.find_element(By.CSS_SELECTOR, ".error-summary").text
        expect("checks[0].authorisation" in summary and "checks[1].sla" in summary,
               f"both errors listed: {summary}")
        expect("telepathy" in driver.find_element(By.NAME, "definition").get_attribute("value"), "the text kept")
        check_page(driver, "console-workflow-errors")
        valid = dict(CASEWORK, key="browser-published", checks=[
            {"id": "identity", "authorisation": "identity", "sla": "P2D"},
            {"id": "reference", "authorisation": "reference", "sla": "P5D", "after": ["identity"],
             "when": {"role": ["staff"]}}])
        fill(driver, "definition", json.dumps(valid, indent=2))
        click(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Publish definition']"))
        expect("Version 1 published" in driver.page_source and "Checks, step 2" in driver.page_source,
               f"published and drawn: {driver.page_source[:800]}")
        check_page(driver, "console-workflow")
        for path, name in [("/console/organisations", "console-organisations"),
                           ("/console/profiles", "console-profiles"),
                           ("/console/audit", "console-audit"),
                           ("/console/keys", "console-keys")]:
            driver.get(BASE + path)
            check_page(driver, name)
        driver.get(BASE + "/console/organisations")
        click(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Kinderhulp Oeganda"))
        check_page(driver, "console-organisation")
        expect("The chain holds" in call_page(driver, "/console/audit"), "the audit chain holds")
    finally:
        driver.quit()


PORTAL_PROFILE = {
    "code": "browser-quick", "title": "Identity only", "description": "One check, for the browser",
    "workflow": {"key": "browser-quick", "version": 1}, "validity_months": 12,
    "roles": ["volunteer", "staff"], "expiry_warning_days": 30}


def choose(driver, field, text):
    """Picks the option of a drop-down (or of a multiple list) by what it says."""
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element(By.NAME, field)).select_by_visible_text(text)


def csv_file(rows):
    """A CSV file of these rows (dicts of the form's field names) in a temporary file."""
    import csv
    columns = sorted({c for r in rows for c in r})
    path = pathlib.Path(tempfile.mkdtemp()) / "requests.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def csv_row(n, country="UG"):
    return {"profile": "child-contact-abroad", "reference": f"UP-{n}",
            "position.title": "Sports coach", "position.role": "volunteer",
            "deployment.country": country, "deployment.start_date": "2027-03-01",
            "subject.given_names": f"Sanne {n}", "subject.family_name": "Visser",
            "subject.date_of_birth": "1995-05-17", "subject.place_of_birth": "Leiden",
            "subject.country_of_birth": "NL", "subject.nationalities": "NL",
            "subject.email": f"sanne{n}-{uuid.uuid4().hex[:6]}@example.org"}


def decode_qr(driver, element):
    """The text of the QR code the image shows, read as a phone would read it: the image
    shown large on its own in a second browser, photographed, decoded."""
    import io
    import zxingcpp
    from PIL import Image
    viewer = browser()
    try:
        shown = (f'<img src="{element.get_attribute("src")}" width="720" height="720" '
                 'style="image-rendering: pixelated">')
        viewer.get("data:text/html;charset=utf-8," + urllib.parse.quote(shown))
        image = Image.open(io.BytesIO(viewer.get_screenshot_as_png()))
    finally:
        viewer.quit()
    found = zxingcpp.read_barcodes(image)
    expect(found, "a QR code is readable on the certificate page")
    return found[0].text


def portal(admin, admin_codes, organisation, no_script):
    """An organisation admin submits a request with two errors and corrects it, uploads a CSV
    file of five rows with one bad, submits the four, uploads it again (nothing new), exports
    the list; opens a clearance's certificate, follows its QR code to /verify ("valid"), pastes
    a tampered certificate ("not a certificate of this service"), and after a revocation sees
    "revoked". A requester cannot reach the settings. The list, the new request and /verify
    also without JavaScript."""
    org_email = f"portal-{uuid.uuid4().hex[:8]}@example.org"
    created = call("POST", f"/v1/organisations/{organisation['id']}/users", admin,
                   {"email": org_email, "name": "Petra Portal", "role": "org_admin"}, expect_status=201)
    call("POST", "/v1/auth/activate", body={"token": created["activation_token"], "password": PASSWORD},
         expect_status=204)
    driver = browser()
    try:
        sign_in(driver, org_email, PASSWORD)
        expect(driver.current_url.endswith("/org/requests"), f"the portal first: {driver.current_url}")
        check_page(driver, "portal-requests")
        # A new request with a wrong date of birth and an EU country: both errors, values kept.
        driver.get(BASE + "/org/requests/new")
        check_page(driver, "portal-new")
        driver.find_element(By.CSS_SELECTOR, "input[name=profile][value='child-contact-abroad']").click()
        fill(driver, "reference", "PORTAL-1")
        fill(driver, "position.title", "Teacher")
        driver.find_element(By.CSS_SELECTOR, "input[name='position.role'][value=volunteer]").click()
        choose(driver, "deployment.country", "France")
        fill(driver, "deployment.start_date", "2027-02-01")
        fill(driver, "subject.given_names", "Noor")
        fill(driver, "subject.family_name", "de Boer")
        fill(driver, "subject.date_of_birth", "2999-01-01")
        fill(driver, "subject.place_of_birth", "Groningen")
        choose(driver, "subject.country_of_birth", "Netherlands")
        choose(driver, "subject.nationalities", "Netherlands")
        subject = f"noor-{uuid.uuid4().hex[:8]}@example.org"
        fill(driver, "subject.email", subject)
        fill(driver, "subject.previous_employers[0].organisation", "War Child")
        choose(driver, "subject.previous_employers[0].country", "Uganda")
        fill(driver, "subject.previous_employers[0].from", "2020-01")
        fill(driver, "subject.previous_employers[0].contact_email", "hr@warchild.example.org")
        click(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Submit the request']"))
        summary = driver.find_element(By.CSS_SELECTOR, ".error-summary").text
        expect("Country of deployment" in summary and "Date of birth" in summary,
               f"both errors in the summary: {summary}")
        expect(driver.find_element(By.NAME, "reference").get_attribute("value") == "PORTAL-1", "values kept")
        expect(driver.find_element(By.NAME, "subject.previous_employers[0].organisation")
               .get_attribute("value") == "War Child", "the employer kept")
        check_page(driver, "portal-new-errors")
        choose(driver, "deployment.country", "Uganda")
        fill(driver, "subject.date_of_birth", "1994-07-23")
        click(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Submit the request']"))
        expect("Request submitted." in driver.page_source, f"submitted: {driver.page_source[:600]}")
        check_page(driver, "portal-request")
        driver.get(BASE + "/org/requests")
        expect("Noor de Boer" in driver.page_source, "the request in the list")
        # Five rows, one with an EU country: the check page names it; four submitted; the
        # same file again makes nothing new.
        rows = [csv_row(n) for n in range(1, 6)]
        rows[2] = csv_row(3, country="DE")
        path = csv_file(rows)
        for attempt in (1, 2):
            driver.get(BASE + "/org/requests/upload")
            if attempt == 1:
                check_page(driver, "portal-upload")
            driver.find_element(By.NAME, "file").send_keys(path)
            click(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Check the file']"))
            page = driver.page_source
            expect("4 of 5 rows are ready" in page, f"the check page: {page[:800]}")
            row4 = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "table tbody tr") if r.text.startswith("4")]
            expect(row4 and "deployment.country" in row4[0], f"row 4 named with its column: {row4}")
            if attempt == 1:
                check_page(driver, "portal-upload-check")
            click(driver, driver.find_element(By.XPATH, "//button[starts-with(normalize-space(), 'Submit the 4')]"))
            if attempt == 1:
                expect("4 requests submitted." in driver.page_source, "four submitted")
                check_page(driver, "portal-upload-done")
            else:
                expect("Nothing new" in driver.page_source, f"nothing new: {driver.page_source[:600]}")
        listed = call("GET", "/v1/screening-requests?limit=100", admin, expect_status=200)["data"]
        mine = [r for r in listed if r["reference"].startswith("UP-")]
        expect(len(mine) == 4, f"four uploaded requests, once each: {len(mine)}")
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
        request = urllib.request.Request(BASE + "/org/requests.csv")
        request.add_header("Cookie", cookies)
        with urllib.request.urlopen(request) as response:
            export = response.read().decode()
            expect(response.headers["Content-Type"].startswith("text/csv"), "a CSV file")
        expect(export.splitlines()[0].startswith("id,reference,") and len(export.splitlines()) >= 6,
               f"the export: {export[:300]}")
        # A clearance: its certificate, the QR code followed, tampering and revocation.
        checker = api_checker(admin, "Quinn", ["identity"])
        call("POST", "/v1/workflow-definitions", admin, {
            "key": "browser-quick", "title": "Identity only", "consent_window": "P14D",
            "decision_deadline": "P28D",
            "checks": [{"id": "identity", "authorisation": "identity", "sla": "P2D"}]},
            expect_status=201)
        call("POST", "/v1/screening-profiles", admin, PORTAL_PROFILE, expect_status=201)
        cleared_subject = f"lotte-{uuid.uuid4().hex[:8]}@example.org"
        made = call("POST", "/v1/screening-requests", admin_org_key(admin, organisation), {
            "profile": "browser-quick", "reference": "CLEAR-1",
            "position": {"title": "Nurse", "role": "staff"},
            "deployment": {"country": "PH", "start_date": "2027-04-01"},
            "subject": {"given_names": "Lotte", "family_name": "Smit", "date_of_birth": "1991-11-05",
                        "place_of_birth": "Delft", "country_of_birth": "NL", "nationalities": ["NL"],
                        "email": cleared_subject}}, expect_status=201)
        call("POST", f"/v1/invitations/{mailed(cleared_subject, '/s/')}/consent", body={"consent": True},
             expect_status=200)
        task = task_of(admin, made["id"], "check", "identity")
        if task["assignee_id"] != checker["id"]:
            call("POST", f"/v1/tasks/{task['id']}/assign", admin, {"checker_id": checker["id"]})
        call("POST", f"/v1/tasks/{task['id']}/complete", checker["token"], {"outcome": "no_concerns"},
             expect_status=200)
        driver.get(BASE + f"/org/requests/{made['id']}")
        click(driver, driver.find_element(By.LINK_TEXT, "The certificate"))
        expect("Certificate of clearance" in driver.page_source, "the certificate page")
        check_page(driver, "portal-certificate")
        # Printed (A4, the print stylesheet): one page.
        from selenium.webdriver.common.print_page_options import PrintOptions
        options = PrintOptions()
        options.page_width, options.page_height = 21.0, 29.7
        pdf = base64.b64decode(driver.print_page(options))
        pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
        expect(pages == 1, f"the certificate prints on one A4 page, not {pages}")
        (pathlib.Path(SHOTS) / "portal-certificate-printed.pdf").write_bytes(pdf)
        link = decode_qr(driver, driver.find_element(By.CSS_SELECTOR, ".qr img"))
        expect(link.startswith(BASE + "/verify?jws="), f"the QR code links to /verify: {link[:80]}")
        anyone = browser()
        try:
            anyone.get(link)
            expect("Valid: this person has been cleared" in anyone.page_source, "valid")
            expect("Lotte Smit" in anyone.page_source and "5 November 1991" in anyone.page_source, "the facts")
            expect(not anyone.get_cookies(), "no cookie on /verify")
            check_page(anyone, "verify-valid")
            jws = link.split("jws=", 1)[1]
            head, claims, signature = jws.split(".")
            changed = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
            changed["clearance"]["subject"]["family_name"] = "Jansen"
            forged = ".".join([head, base64.urlsafe_b64encode(json.dumps(changed).encode()).decode().rstrip("="),
                               signature])
            anyone.get(BASE + "/verify")
            check_page(anyone, "verify")
            fill(anyone, "jws", forged)
            submit(anyone)
            expect("Not a certificate of this service" in anyone.page_source, "the tampered one refused")
            check_page(anyone, "verify-invalid")
            # The admin revokes it from the case in the console (signed in just now: no
            # step-up needed).
            staff = browser()
            try:
                sign_in(staff, ADMIN_EMAIL, ADMIN_PASSWORD, admin_codes[2])
                staff.get(BASE + f"/console/requests/{made['id']}")
                fill(staff, "reason", "Identity fraud established")
                click(staff, staff.find_element(By.XPATH, "//button[normalize-space()='Revoke certificate']"))
                expect("Certificate revoked" in staff.page_source, f"revoked: {staff.page_source[:600]}")
            finally:
                staff.quit()
            anyone.get(link)
            expect("Revoked: this certificate is no longer valid" in anyone.page_source, "revoked")
            expect("Identity fraud" not in anyone.page_source, "never the ground")
            check_page(anyone, "verify-revoked")
            anyone.get(BASE + "/verify?lang=nl")
            expect("Een certificaat controleren" in anyone.page_source, "in Dutch")
            check_page(anyone, "verify-dutch")
        finally:
            anyone.quit()
        for path, name in [("/org/users", "portal-users"), ("/org/api-keys", "portal-api-keys"),
                           ("/org/webhooks", "portal-webhooks")]:
            driver.get(BASE + path)
            check_page(driver, name)
        # A requester sees the requests, not the settings.
        requester_email = f"req-{uuid.uuid4().hex[:8]}@example.org"
        made_user = call("POST", f"/v1/organisations/{organisation['id']}/users", admin,
                         {"email": requester_email, "name": "Rik Requester", "role": "org_requester"},
                         expect_status=201)
        call("POST", "/v1/auth/activate", body={"token": made_user["activation_token"], "password": PASSWORD},
             expect_status=204)
        requester = browser()
        try:
            sign_in(requester, requester_email, PASSWORD)
            expect("/org/users" not in requester.page_source, "no settings in a requester's navigation")
            requester.get(BASE + "/org/users")
            expect("You cannot do this" in requester.page_source, f"refused: {requester.page_source[:400]}")
            check_page(requester, "portal-requester-refused")
        finally:
            requester.quit()
        # Without JavaScript: the list, a new request with an error, /verify.
        click(no_script, no_script.find_element(By.CSS_SELECTOR, "header button"))
        sign_in(no_script, org_email, PASSWORD)
        check_page(no_script, "portal-requests-without-script", axe=False)
        no_script.get(BASE + "/org/requests/new")
        click(no_script, no_script.find_element(By.XPATH, "//button[normalize-space()='Add another referee']"))
        expect(no_script.find_elements(By.NAME, "subject.referees[3].name"), "a fourth referee row without script")
        click(no_script, no_script.find_element(By.XPATH, "//button[normalize-space()='Submit the request']"))
        expect("There is a problem" in no_script.page_source, "the errors without script")
        check_page(no_script, "portal-new-without-script", axe=False)
        no_script.get(BASE + "/verify")
        fill(no_script, "jws", jws)
        submit(no_script)
        expect("Revoked" in no_script.page_source, "/verify without script")
        check_page(no_script, "verify-without-script", axe=False)
    finally:
        driver.quit()


def admin_org_key(admin, organisation):
    """A fresh API key of the organisation."""
    return call("POST", f"/v1/organisations/{organisation['id']}/api-keys", admin, {"name": "portal"},
                expect_status=201)["key"]


def call_page(driver, path):
    driver.get(BASE + path)
    return driver.page_source


def full_page_at(driver, width, name):
    """A screenshot of the whole page as a phone of this width shows it."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": True})
    try:
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth > document.documentElement.clientWidth")
        expect(not overflow, f"{name}: the page scrolls sideways at {width} px")
        shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                      {"format": "png", "captureBeyondViewport": True})
        path = pathlib.Path(SHOTS) / f"{len(checked_pages) + 1:02d}-{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        checked_pages.append((name, len(driver.page_source.encode())))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def subject_page(first, no_script, key, submission, token):
    """The subject: the page in Dutch (desktop and 360 px) and English, consent without
    JavaScript; another subject's decline without a reason (the error summary, in Dutch), then
    consent and its withdrawal through the confirmation page, without JavaScript."""
    first.get(BASE + "/s/" + token + "?lang=nl")
    expect("Hoe wij met uw gegevens omgaan" in first.page_source, "the privacy notice")
    expect("Autoriteit Persoonsgegevens" in first.page_source, "the supervisory authority")
    expect("Oeganda" in first.page_source and "1 februari 2027" in first.page_source,
           "the country and the date in Dutch")
    check_page(first, "subject-nl")
    full_page_at(first, 360, "subject-nl-360px")
    click(first, first.find_element(By.LINK_TEXT, "English"))
    expect("How we handle your data" in first.page_source, "the page in English")
    check_page(first, "subject-en")
    no_script.get(BASE + "/s/" + token + "?lang=nl")
    check_page(no_script, "subject-without-script", axe=False)
    click(no_script, no_script.find_element(
        By.XPATH, "//button[starts-with(normalize-space(), 'Ik geef toestemming')]"))
    expect("U hebt toestemming gegeven" in no_script.page_source, "consent without JavaScript")

    leaving = f"leaving-{uuid.uuid4().hex[:8]}@example.org"
    body = json.loads(json.dumps(submission))
    body["reference"] = "BR-2"
    body["subject"]["email"] = leaving
    call("POST", "/v1/screening-requests", key, body, expect_status=201)
    leaving_token = mailed(leaving, "/s/")
    first.get(BASE + "/s/" + leaving_token + "?lang=nl")
    click(first, first.find_element(By.XPATH, "//button[normalize-space()='De screening weigeren']"))
    expect("Er is een probleem" in first.page_source and "Kies een van de redenen" in first.page_source,
           "a decline without a reason is explained in Dutch")
    expect("error-summary" in (first.switch_to.active_element.get_attribute("class") or ""),
           "focus on the error summary")
    check_page(first, "subject-decline-error")
    call("POST", f"/v1/invitations/{leaving_token}/consent", body={"consent": True}, expect_status=200)
    no_script.get(BASE + "/s/" + leaving_token + "?lang=nl")
    click(no_script, no_script.find_element(By.LINK_TEXT, "Mijn toestemming intrekken"))
    expect("Wilt u uw toestemming intrekken?" in no_script.page_source, "the confirmation page")
    first.get(no_script.current_url)
    check_page(first, "subject-withdraw-consent")
    click(no_script, no_script.find_element(By.XPATH, "//button[normalize-space()='Ja, trek mijn toestemming in']"))
    expect("U hebt uw toestemming ingetrokken" in no_script.page_source, "consent withdrawn without JavaScript")
    first.get(no_script.current_url)
    check_page(first, "subject-consent-withdrawn")
    view = call("GET", f"/v1/invitations/{leaving_token}", expect_status=200)
    expect(view["status"] == "declined" and view["actions"] == [], f"withdrawn: {view}")


def keyboard_reaches(driver, field, button):
    """Keyboard only: the skip link is the first Tab stop and moves focus to the content; Tab
    then reaches the field and the button."""
    body = driver.find_element(By.TAG_NAME, "body")
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    body.send_keys(Keys.TAB)
    expect("skip-link" in (driver.switch_to.active_element.get_attribute("class") or ""),
           "the skip link comes first")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    expect(driver.switch_to.active_element.get_attribute("id") == "content", "the skip link leads to the content")
    reached = set()
    for _ in range(80):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        active = driver.switch_to.active_element
        reached.add(active.get_attribute("name") or "")
        reached.add((active.text or "").strip())
        if field in reached and button in reached:
            return
    fail(f"Tab did not reach {field} and {button}: {sorted(reached)}")


def post_page(driver, path, fields):
    """A form post as the browser's own page would send it; answers (status, HTML)."""
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    data = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(BASE + path, data=data, method="POST")
    request.add_header("Cookie", cookies)
    request.add_header("Sec-Fetch-Site", "same-origin")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def passkey_ceremony_answers_are_checked(driver):
    """Answers for another ceremony's challenge, replayed, or claiming another origin: refused."""
    driver.get(BASE + "/account")
    csrf = driver.find_element(By.CSS_SELECTOR, "input[name=csrf]").get_attribute("value")

    def start():
        status, html_text = post_page(driver, "/account/passkeys/start", {"csrf": csrf, "passkey_name": "x"})
        expect(status == 200, f"a ceremony starts: {status}")
        options = re.search(r'data-options="([^"]*)"', html_text).group(1)
        ceremony = re.search(r'name="ceremony" value="([^"]*)"', html_text).group(1)
        return ceremony, html.unescape(options)

    one, options = start()
    two, _ = start()
    three, _ = start()
    credential = driver.execute_async_script("""
const done = arguments[arguments.length - 1];
const options = JSON.parse(arguments[0]).publicKey;
const b64 = t => Uint8Array.from(atob(t.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - t.length % 4) % 4)), c => c.charCodeAt(0)).buffer;
const enc = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
options.challenge = b64(options.challenge);
options.user.id = b64(options.user.id);
options.excludeCredentials = [];
navigator.credentials.create({publicKey: options}).then(c => done(JSON.stringify({
  id: c.id, rawId: enc(c.rawId), type: c.type, extensions: {},
  response: {clientDataJSON: enc(c.response.clientDataJSON), attestationObject: enc(c.response.attestationObject)}})))
  .catch(e => done('error: ' + e));
""", options)
    expect(not credential.startswith("error"), credential)
    answer = json.loads(credential)
    client = json.loads(base64.urlsafe_b64decode(answer["response"]["clientDataJSON"] + "=="))
    client["origin"] = "https://evil.example"
    forged = json.loads(credential)
    forged["response"]["clientDataJSON"] = base64.urlsafe_b64encode(
        json.dumps(client).encode()).decode().rstrip("=")
    finish = lambda ceremony, body: post_page(driver, "/account/passkeys/finish", {
        "csrf": csrf, "ceremony": ceremony, "name": "Second", "credential": body})[0]
    expect(finish(two, credential) == 422, "an answer for another ceremony is refused")
    expect(finish(three, json.dumps(forged)) == 422, "an answer from another origin is refused")
    expect(finish(one, credential) == 303, "the right answer is taken")
    expect(finish(one, credential) == 422, "a replayed answer is refused")


if __name__ == "__main__":
    main()

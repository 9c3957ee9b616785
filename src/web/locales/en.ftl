# safescreen's pages in English. One message per id; `{ $name }` is filled in by the page.

## The shell
skip-to-content = Skip to main content
nav-label = Account
nav-console = Console
nav-account = Your account
nav-sign-in = Sign in
nav-sign-out = Sign out
signed-in-as = Signed in as { $name }
footer-about = safescreen screens Dutch volunteers and staff whom child-aid organisations send to work outside the EU.
footer-api = API documentation
footer-keys = Certificate signing keys

## Shared pieces
error-summary-title = There is a problem
error-prefix = Error:
pagination-label = Pages
pagination-next = Next page

## Form fields, as the error summary names them
field-email = E-mail address
field-password = Password
field-new-password = New password
field-code = Code
field-name = Name

## The landing page
home-title = Screening for work with children abroad
home-lede = safescreen checks Dutch volunteers and staff before child-aid organisations send them to work with children outside the EU.
home-how = An organisation asks for a screening; the person screened reads what is held about them and consents; authorised checkers do the checks; the organisation learns only the outcome, and a cleared person gets a signed certificate.
home-staff-heading = Checkers, administrators and organisations
home-staff-text = Sign in with your e-mail address, your password and your second factor.
home-sign-in = Sign in
home-verify-heading = Check a certificate
home-verify-text = A certificate is a signed document anyone can check, without an account, against our public keys.
home-verify-link = How to verify a certificate
home-developers-heading = Developers
home-developers-text = Organisations can connect their own systems through the documented HTTP API.
home-docs-link = API documentation
home-openapi-link = OpenAPI document

## Signing in
login-title = Sign in
login-submit = Continue
login-forgot = Forgot your password?
login-email-missing = Enter your e-mail address
login-password-missing = Enter your password
login-wrong = Enter a correct e-mail address and password
login-throttled = Too many attempts. Wait { $seconds } seconds and try again.
verify-title = Confirm it is you
verify-code-hint = The 6 digits your authenticator app shows now, or one of your recovery codes.
verify-submit = Sign in
verify-start-again = Start again
verify-throttled = Too many wrong codes. Wait { $seconds } seconds and try again.
verify-passkey-text = Use the passkey on this device or your security key.
verify-passkey-button = Sign in with a passkey
verify-or-code = Or enter a code:
passkey-register-title = Add a passkey
passkey-sign-in-title = Sign in with a passkey
passkey-follow-browser = Follow what your browser asks: touch your security key, or confirm with your fingerprint, face or device PIN.
passkey-back = Go back
passkey-refused-title = The passkey was not accepted
passkey-no-ceremony = Start again: this answer belongs to no passkey request under way
passkey-no-answer = Your browser sent no passkey answer; try again
passkey-default-name = Passkey

## Password reset and new accounts
reset-title = Reset your password
reset-text = We will e-mail you a link to choose a new password. The link works once, for an hour. Your second factor stays as it is.
reset-submit = Send the link
reset-sent-title = Check your e-mail
reset-sent-text = If there is an account with that address, we have sent it a link to choose a new password. It works for an hour.
reset-back = Back to sign in
reset-new-title = Choose a new password
activate-title = Choose your password
new-password-hint = At least 12 characters. A few unrelated words make a strong password.
new-password-submit = Save the password
link-spent-title = This link no longer works
link-spent-text = Links to set a password work once and for a limited time. Ask for a new one.
link-spent-again = Ask for a new link
password-set-title = Your password is saved
password-set-sign-in = Sign in

## The account page
account-title = Your account
account-role = Role
account-enrol-first-title = Set up a second factor to continue
account-enrol-first-text = Your role needs one: set up an authenticator app or a passkey before you can do anything else.
account-factors-heading = Second factors
account-factors-required = Your role signs in with a second factor.
account-totp = Authenticator app
account-totp-on = Set up.
account-totp-off = Not set up.
account-totp-set-up = Set up an authenticator app
account-totp-remove = Remove
account-recovery-codes = Recovery codes
account-recovery-left = { $count } unused
account-recovery-regenerate = Make new codes
account-passkeys = Passkeys
account-passkeys-none = No passkeys yet.
account-passkey-added = added { $date }
account-passkey-remove = Remove
account-passkey-name = Name of the passkey (for example: work laptop)
account-passkey-add = Add a passkey
account-passkeys-need-script = Passkeys need JavaScript in your browser; without it, use your authenticator app.
account-sessions-heading = Where you are signed in
account-sessions-caption = Your sessions
account-session-kind = Kind
account-session-browser-heading = Browser or program
account-session-started = Started
account-session-last-seen = Last used
account-session-action = Action
account-session-browser = Browser
account-session-api = API token
account-session-current = This session
account-session-end = End
account-done-session-ended = The session has ended
account-done-totp-removed = The authenticator app is removed
account-done-passkey-added = The passkey is added
account-done-passkey-removed = The passkey is removed

## Setting up an authenticator app
totp-title = Set up an authenticator app
totp-intro = An authenticator app on your phone shows a new 6-digit code every 30 seconds. You enter it after your password when you sign in.
totp-start = Start
totp-step-app = Open an authenticator app on your phone (for example one your organisation recommends).
totp-step-scan = Scan this QR code with it.
totp-qr-alt = QR code to add safescreen to your authenticator app
totp-step-type = Or type this key into the app:
totp-step-code = Enter the 6-digit code the app now shows.
totp-code-hint = The 6 digits from your authenticator app.
totp-submit = Confirm
totp-done = Your authenticator app is set up
recovery-title = Your recovery codes
recovery-text = Keep these codes somewhere safe, away from your phone. Each one works once, in place of a code from your app. This is the only time they are shown.
recovery-continue = I have kept them, continue

## Confirming it is you before an action
step-up-title = Confirm it is you
step-up-text = To { $action }, enter a code from your authenticator app or a recovery code.
step-up-submit = Confirm and continue
step-up-cancel = Cancel
step-up-wrong = The code is not right: enter the code your app shows now, or an unused recovery code
step-up-what-remove-totp = remove your authenticator app
step-up-what-recovery-codes = make new recovery codes
step-up-what-remove-passkey = remove a passkey

## Error pages
error-home = Go to the start page
error-400-title = The form could not be read
error-400-text = Go back and try again.
error-403-title = You cannot do this
error-403-text = Your account does not give you access to this page.
error-404-title = Page not found
error-404-text = Check the address, or go back to the start page.
error-405-title = Not possible here
error-405-text = This page does not take that kind of request.
error-409-title = That did not happen
error-413-title = Too much was sent
error-413-text = The form was larger than we accept.
error-429-title = Too many attempts
error-429-text = Wait a few minutes and try again.
error-500-title = Sorry, something went wrong
error-500-text = It was logged and we will look at it. Try again later.
error-csrf-title = This form was not sent from safescreen
error-csrf-text = Nothing was changed. Go back to the page, reload it, and send the form again.
step-up-what-refuse = record this decision
step-up-what-revoke = revoke this certificate

## The console
console-nav-label = Console
console-nav-tasks = Tasks
console-nav-requests = Cases
console-nav-supervision = Supervision
console-unknown-filter = is not a filter of this list
filter-any = Any
filter-apply = Apply filters
filter-kind = Kind of task
filter-status = Status
filter-overdue = Overdue
filter-overdue-yes = Overdue only
filter-overdue-no = Not overdue
filter-organisation = Organisation
field-outcome = Outcome
field-notes = Notes
field-grounds = Grounds
field-checker = Checker
field-reason = Reason
field-reference = Reference
field-given-names = Given names
field-family-name = Family name
field-date-of-birth = Date of birth
field-place-of-birth = Place of birth
field-country-of-birth = Country of birth
field-nationalities = Nationalities
field-bsn = BSN
field-organisation = Organisation
field-relationship = Relationship
field-country = Country
field-from = From
field-to = To
field-contact-email = Contact e-mail
field-kind = Task
field-check = Check
field-completed-at = Completed
due-in-days = due in { $days ->
    [one] 1 day
   *[other] { $days } days
}
due-in-hours = due in { $hours ->
    [one] 1 hour
   *[other] { $hours } hours
}
due-days-overdue = { $days ->
    [one] 1 day
   *[other] { $days } days
} overdue
due-hours-overdue = { $hours ->
    [one] 1 hour
   *[other] { $hours } hours
} overdue

## The queue
queue-title = Tasks
queue-views-label = Views
queue-view-mine = My tasks
queue-view-completed = Completed by me
queue-view-unassigned = Unassigned
queue-view-overdue = Overdue
queue-view-all = All tasks
queue-caption = { $view }, soonest due first
queue-empty = No tasks match.
queue-col-due = Due
queue-col-task = Task
queue-col-reference = Reference
queue-col-organisation = Organisation
queue-col-country = Deployment country
queue-col-status = Status

## Tasks
task-kind-check = Check
task-kind-assessment = Assessment
task-kind-four-eyes-review = Four-eyes review
task-kind-supervisor-review = Supervisor review
task-kind-final-review = Final review
task-kind-objection-review = Objection review
task-status-unassigned = Unassigned
task-status-assigned = Assigned
task-status-completed = Completed
task-status-cancelled = Cancelled
outcome-no-concerns = No concerns
outcome-concerns = Concerns
outcome-unable-to-verify = Unable to verify
outcome-clear = Clear
outcome-refuse = Refuse
outcome-concur = Concur with the proposal
outcome-dissent = Dissent from the proposal
outcome-uphold = Uphold the refusal
outcome-overturn = Overturn the refusal
task-done-completed = Task completed
task-done-released = Task released: it goes to another checker
task-done-assigned = Task assigned
task-field-status = Status
task-field-assignee = Assigned to
task-field-due = Due
task-field-organisation = Organisation
task-field-profile = Profile
task-field-position = Position
task-field-deployment = Deployment
task-field-case = Case
task-from-date = from { $date }
task-open-case = Open the case
task-nobody = Nobody yet
task-none = None.
task-subject-heading = The subject, as this task needs them
task-subject-erased = The subject's data has been erased under the retention rules.
task-employers-caption = Previous employers
task-referees-caption = Referees
task-earlier-caption = Earlier outcomes and notes
task-complete-heading = Complete this task
task-notes-hint = For the other checkers on this case; never shown to the organisation.
task-grounds-hint = Needed to refuse. The subject is shown the grounds and may answer them.
task-complete-submit = Complete task
task-release-text = Cannot do it? Release the task and it goes to another checker, never back to you.
task-release-submit = Release task
task-blocked-closed = This task is closed
task-blocked-closed-text = It was completed or cancelled; nothing more can be done on it.
task-blocked-proposed = You proposed this decision
task-blocked-proposed-text = Four eyes: a second checker reviews your proposal, so you cannot concur or dissent yourself.
task-blocked-excluded = You cannot take this task
task-blocked-excluded-text = Separation of duties: you took part earlier in this case, or released this task.
task-blocked-not-yours = This task is not assigned to you
task-blocked-not-yours-text = Only its assignee can complete or release it.
task-blocked-ineligible = You may no longer do this task
task-blocked-ineligible-text = Your authorisations or declared conflicts changed since it was given to you; release it so that it goes to someone else.
task-conflict-title = That did not happen
task-conflict-gone = Someone else acted on this task first; it is no longer yours to change.
task-assign-heading = Assign to a checker
task-assign-option = { $name } ({ $open } of { $cap } open tasks)
task-assign-nobody = No checker may take this task now; the table below says why.
task-assign-submit = Assign task
task-assign-choose = Choose the checker to assign the task to
task-ineligible-caption = Checkers who may not take this task, and why
task-col-checker = Checker
task-col-why = Why not
verdict-eligible = May take it
verdict-at-cap = At their cap of open tasks
verdict-inactive = Account deactivated
verdict-unauthorised = Does not hold the authorisation this task needs
verdict-not-supervisor = Not a supervisor
verdict-conflict = Declared a conflict of interest with the organisation
verdict-excluded = Separation of duties: took part earlier in this case, or released this task
timeline-caption = Timeline
timeline-col-at = When
timeline-col-event = What happened
timeline-col-status = Status after

## Cases
cases-title = Cases
cases-caption = Screening requests, newest first
cases-empty = No cases match.
cases-unknown-organisation = is not an organisation
cases-col-reference = Reference
cases-col-subject = Subject
cases-col-organisation = Organisation
cases-col-status = Status
cases-col-created = Submitted
case-title = Case { $reference }
case-subject-erased = Erased
case-field-subject = Subject
case-field-organisation = Organisation
case-field-status = Status
case-field-deadline = Decision deadline
case-field-decision = Decision
case-field-certificate = Certificate
case-no-deadline = None yet
case-undecided = Not decided yet
case-revised = revised after an objection
case-certificate-revoked = Revoked
case-certificate-valid = Valid until { $date }
case-no-certificate = No certificate
case-tasks-caption = Tasks on this case
case-revoke-heading = Revoke the certificate
case-revoke-hint = Why it no longer stands; kept with the revocation. From then on the certificate verifies as revoked and the organisation is told.
case-revoke-submit = Revoke certificate
case-done-revoked = Certificate revoked

## Supervision
supervision-title = Supervision
supervision-checkers-caption = Checkers: open tasks against their cap
supervision-col-open = Open tasks
supervision-col-overdue = Overdue
supervision-col-notes = Notes
supervision-open-of-cap = { $open } of { $cap }
supervision-inactive = Deactivated.
supervision-supervisor = Supervisor.
supervision-at-cap = At their cap.
supervision-waiting-heading = Tasks waiting for a checker
supervision-waiting-none = Every task has a checker.
supervision-waiting-caption = Unassigned tasks, oldest first
supervision-col-waiting = Waiting
supervision-col-why = Why no one has it
supervision-waiting-for = { $hours ->
    [one] 1 hour
   *[other] { $hours } hours
}
supervision-someone-eligible = Someone may take it: it goes to the next checker with room.
supervision-no-checkers = There are no checkers.
supervision-missed-heading = Missed decision deadlines
supervision-missed-none = No case is past its decision deadline.
supervision-missed-caption = Undecided cases past their decision deadline

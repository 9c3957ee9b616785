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

## Administration: shared
console-nav-checkers = Checkers
console-nav-workflows = Workflows
console-nav-organisations = Organisations
console-nav-profiles = Profiles
console-nav-audit = Audit log
console-nav-keys = Keys
choose-one = Choose one
yes = Yes
no = No
field-status = Status
field-created-at = Created
field-registration-number = Registration number
field-operating-countries = Countries of operation
field-role = Role
field-roles = Roles
field-authorisations = Authorisations
field-max-open-tasks = Open-task cap
field-conflicts = Conflicts of interest
field-definition = Definition (JSON)
field-profile-code = Code
field-description = Description
field-validity-months = Valid for (months)
field-expiry-warning-days = Expiry warning (days before)
field-whole-number = must be a whole number
field-target = Target
field-actor = Actor
field-action = Action
user-active = Active
user-deactivated = Deactivated
user-not-activated = Not yet activated (the activation link was e-mailed)
authorisation-identity = Identity
authorisation-criminal-record = Criminal record (VOG)
authorisation-misconduct-disclosure = Misconduct disclosure
authorisation-reference = References
authorisation-assessment = Assessment
role-volunteer = Volunteer
role-staff = Staff
duration-days = { $n ->
    [one] 1 day
   *[other] { $n } days
}
duration-hours = { $n ->
    [one] 1 hour
   *[other] { $n } hours
}
duration-minutes = { $n ->
    [one] 1 minute
   *[other] { $n } minutes
}
duration-seconds = { $n ->
    [one] 1 second
   *[other] { $n } seconds
}

## Organisations
organisations-title = Organisations
organisations-caption = Organisations, oldest first
organisations-empty = There are no organisations yet.
organisations-back = All organisations
organisation-status-active = Active
organisation-status-suspended = Suspended
organisation-new-heading = Add an organisation
organisation-field-country = Country of registration
organisation-operating-hint = Where it sends people; at least one country outside the EU. Hold Ctrl (⌘ on a Mac) to choose several.
organisation-create-submit = Add organisation
organisation-done-created = Organisation added
organisation-done-suspended = Organisation suspended
organisation-done-reactivated = Organisation reactivated
organisation-suspend-heading = Suspend this organisation
organisation-suspend-hint = A suspended organisation cannot submit screening requests; its requests in progress carry on.
organisation-suspend-submit = Suspend organisation
organisation-reactivate-heading = Reactivate this organisation
organisation-reactivate-hint = It can submit screening requests again.
organisation-reactivate-submit = Reactivate organisation
organisation-users-heading = Users
organisation-users-caption = The organisation's users
organisation-users-none = No users yet: the organisation's first administrator is added through the API.
organisation-users-more = Only the first { $shown } users are shown.

## Checkers
checkers-title = Checkers
checkers-caption = Checkers
checkers-empty = There are no checkers yet.
checkers-back = All checkers
checker-new-heading = Add a checker
checker-new-hint = They get an e-mail with a link to choose their password; the link works once.
checker-create-submit = Add checker
checker-supervisor = Supervisor
checker-field-supervisor = Supervisor (sees and assigns every task, reviews a refusal)
checker-field-active = Active
checker-active-hint = Deactivating ends their sessions at once; their open tasks go to others.
checker-cap-hint = The most open tasks they are given at once; 0: never assigned automatically.
checker-conflicts-hint = Organisations this checker must never work for. Hold Ctrl (⌘ on a Mac) to choose several.
checker-no-authorisations = None
checker-no-conflicts = None
checker-change-heading = Change this checker
checker-change-hint = A change of authorisations or of the supervisor flag asks for your second factor. Open tasks they may no longer do go to others at once.
checker-change-submit = Save changes
checker-done-created = Checker added
checker-done-created-text = The activation link went to { $email }.
checker-done-updated = Checker changed
step-up-what-checker = change this checker's rights

## Workflows and profiles
workflows-title = Workflows
workflows-caption = Workflow definitions, newest first
workflows-back = All workflows
workflow-col-key = Key
workflow-col-version = Version
workflow-col-title = Title
workflow-col-published = Published
workflow-title = { $title }, version { $version }
workflow-option = { $title }, version { $version }
workflow-done-published = Version { $version } published
workflow-publish-heading = Publish a definition
workflow-publish-hint = A definition with the key of an existing one becomes its next version; requests already running keep the version they started with.
workflow-definition-hint = The definition as JSON, in the format of the API's POST /v1/workflow-definitions. Every error is listed.
workflow-definition-missing = paste the definition's JSON
workflow-definition-not-json = is not JSON: { $error }
workflow-publish-submit = Publish definition
workflow-field-deadline = Decision deadline
workflow-field-routing = Routing
workflow-routing-least-loaded = To the checker with the fewest open tasks
workflow-routing-round-robin = To each checker in turn
workflow-field-overdue = When a task is overdue
workflow-overdue-notify = Supervisors are told
workflow-overdue-reassign = It goes to another checker
workflow-flow-heading = How a request goes through it
workflow-flow-consent = Consent
workflow-flow-consent-text = The person screened has { $window } to consent.
workflow-flow-step = Checks, step { $n }
workflow-flow-together = These run at the same time.
workflow-within = within { $sla }
workflow-after = after { $checks }
workflow-when-role = only for { $roles }
workflow-when-country = only when deployed to { $countries }
workflow-when-country-not = not when deployed to { $countries }
workflow-when-profile = only for profile { $profiles }
workflow-stage = by someone authorised for { $authorisation }, within { $sla }
workflow-auto-clear = When every check finds no concerns the request is cleared without an assessment.
workflow-four-eyes-text = A proposal to refuse is reviewed by a second assessor, never the one who proposed it.
workflow-flow-response = The person's response
workflow-flow-response-text = Before a refusal, the person screened has { $window } to respond.
workflow-flow-objection-text = After a refusal, the person screened has { $window } to object.
workflow-document = The definition as stored (JSON)
profiles-title = Screening profiles
profiles-caption = Every version of every profile
profile-col-workflow = Workflow
profile-publish-heading = Publish a profile
profile-publish-hint = A profile with the code of an existing one becomes its next version.
profile-code-hint = 1–64 lower-case letters, digits, _ or -.
profile-workflow-missing = choose a workflow version
profile-publish-submit = Publish profile
profile-done-published = Profile published

## Audit log
audit-title = Audit log
audit-caption = Audit events, oldest first
audit-empty = No events match.
audit-chain-whole = The chain holds:
audit-chain-verified = { $count } linked events verified just now.
audit-chain-pending = { $count } newer events are about to be linked.
audit-chain-broken = The audit chain is broken
audit-chain-broken-at = At event { $seq }: { $reason }. Keep this database as it is and tell whoever runs safescreen.
audit-target-hint = For example organisation:… or screening_request:…
audit-actor-hint = user:…, api_key:…, system or anonymous
audit-action-hint = For example task.completed
audit-col-seq = No.
audit-col-at = When
audit-col-details = Details
audit-not-linked = not yet

## Keys
keys-title = Signing keys
keys-caption = Certificate signing keys, newest first
keys-col-kid = Key id
keys-col-created = Created
keys-col-needed = Still needed
keys-signs = Signs new certificates
keys-retired = Retired { $date }
keys-needed-by = { $count ->
    [one] by 1 unexpired certificate
   *[other] by { $count } unexpired certificates
}
keys-not-needed = No longer needed
keys-rotate-heading = Rotate the signing key
keys-rotate-hint = A new key signs from now on; certificates signed with older keys still verify until they expire. Asks for your second factor.
keys-rotate-submit = Rotate signing key
keys-done-rotated = A new signing key signs from now on
step-up-what-rotate = rotate the signing key

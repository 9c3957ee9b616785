# Dutch: the pages for anyone (/verify) and the page shell around them. A message not here is
# shown in English.

skip-to-content = Naar de inhoud
nav-label = Account
nav-sign-in = Inloggen
footer-about = safescreen screent Nederlandse vrijwilligers en medewerkers die kinderhulporganisaties uitzenden naar werk buiten de EU.
footer-api = API-documentatie
footer-keys = Sleutels waarmee certificaten zijn ondertekend
error-summary-title = Er is een probleem
error-prefix = Fout:

verify-certificate-title = Een certificaat controleren
verify-lead = Plak de tekst van het certificaat, of upload het bestand. Met de QR-code op een geprint certificaat controleert u het meteen.
field-jws = De tekst van het certificaat
verify-jws-hint = Die begint met "eyJ".
verify-field-file = Of het certificaatbestand (.jws)
verify-certificate-submit = Certificaat controleren
verify-about = Wat u hier controleert, wordt niet bewaard, en er wordt geen cookie gezet.
verify-empty = Plak de tekst van het certificaat of kies het bestand.
verify-too-long = Deze tekst is veel langer dan een certificaat: plak alleen het certificaat.
verify-valid-title = Geldig: deze persoon is goedgekeurd
verify-valid-text = Het certificaat is uitgegeven door safescreen, is niet ingetrokken en is niet verlopen.
verify-compare-identity = Vergelijk de naam en geboortedatum met het paspoort of de identiteitskaart van de persoon.
verify-revoked-title = Ingetrokken: dit certificaat is niet meer geldig
verify-revoked-text = safescreen heeft dit certificaat ingetrokken. Vertrouw er niet op; vraag het de organisatie die de persoon heeft uitgezonden.
verify-expired-title = Verlopen: dit certificaat is niet meer geldig
verify-expired-text = Het certificaat was geldig tot { $date }. Vraag de organisatie om een nieuwe screening.
verify-invalid-title = Geen certificaat van deze dienst
verify-invalid-text = Deze tekst is niet door safescreen uitgegeven, of hij is veranderd. Vertrouw er niet op.
verify-field-name = Naam
verify-field-date-of-birth = Geboortedatum
verify-field-organisation = Organisatie
verify-field-position = Functie
verify-field-country = Land van uitzending
verify-field-valid-until = Geldig tot
month-1 = januari
month-2 = februari
month-3 = maart
month-4 = april
month-5 = mei
month-6 = juni
month-7 = juli
month-8 = augustus
month-9 = september
month-10 = oktober
month-11 = november
month-12 = december

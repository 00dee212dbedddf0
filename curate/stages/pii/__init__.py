"""pii: find and replace personal identifiers with Polyglot-style tokens (<|tel|>, ...).

Every detector is a candidate regex followed by validation: checksums (Luhn, the
resident registration, My Number and IBAN check digits, by python-stdnum), real
calendar dates, known number plans (Korean / Japanese phone prefixes; every other
country's, North America's included, from libphonenumber's metadata by phonenumbers;
card IIN ranges) and, where the digits alone say too little (bank accounts, passports,
bare digit runs), a context word nearby.
Dates, prices, case numbers, ISBNs, versions and postal codes fail these checks, so
they stay in the text.

Korean business numbers without an area code (1588-1234, 1644-...) have the shape of
year ranges ("1592-1598"): they count only with a phone word nearby. Korean toll-free
080-XXX-XXXX counts in Korean text only (elsewhere it is a Japanese 0A0 number one
digit short).

Speed: a text without a digit, "@", ":" or the lead of a spoken number (공일, 영일, ...)
returns at once; each detector only runs
when its cheap trigger (a digit, "@", "::", a context word) is in the text.
"""

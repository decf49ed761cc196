"""Prints the messages of a Maildir (as aiosmtpd's Mailbox handler keeps them) as JSON:
decoded subject, Message-ID, recipients, and the text and HTML parts."""
import email
import email.policy
import json
import mailbox
import sys

out = []
for msg in mailbox.Maildir(sys.argv[1], factory=None, create=False):
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    out.append({
        "message_id": parsed["Message-ID"],
        "subject": str(parsed["Subject"]),
        "to": str(parsed["To"]),
        "from": str(parsed["From"]),
        "text": text.get_content() if text else None,
        "html": html.get_content() if html else None,
        "raw": msg.as_bytes().decode("utf-8", "replace"),
    })
json.dump(out, sys.stdout, ensure_ascii=False)

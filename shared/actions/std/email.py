"""std.email: sends an email through an SMTP server (blocking smtplib, so it runs in the pool)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from typing import Any

from levante.actions.base import Action, secret
from levante.actions.context import ActionContext
from levante.actions.results import ActionError

#: Seconds to wait for the SMTP server at each step.
SMTP_TIMEOUT_SECONDS = 60.0


def _addresses(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


@secret("smtp_password")
class SendEmailAction(Action):
    """Sends an email; with `smtp_password` it uses STARTTLS and logs in as `from_addr`.

    `smtp_server` is `host` or `host:port`. The addresses may be one string
    or a list. The result is null.
    """

    def run(
        self,
        context: ActionContext,
        from_addr: str,
        to_addrs: Any,
        smtp_server: str,
        reply_to: Any = None,
        cc_addrs: Any = None,
        bcc_addrs: Any = None,
        smtp_password: str | None = None,
        subject: str | None = None,
        body: str | None = None,
        html_body: str | None = None,
    ) -> None:
        to, cc, bcc = _addresses(to_addrs), _addresses(cc_addrs), _addresses(bcc_addrs)
        if not to:
            raise ActionError("std.email: to_addrs must name at least one address")
        message = EmailMessage()
        message["Subject"] = subject or "<No subject>"
        message["From"] = from_addr
        message["To"] = ", ".join(to)
        if cc:
            message["Cc"] = ", ".join(cc)
        replies = _addresses(reply_to)
        if replies:
            message["Reply-To"] = ", ".join(replies)
        message.set_content(body or "<No body>")
        if html_body:
            message.add_alternative(html_body, subtype="html")
        try:
            with smtplib.SMTP(smtp_server, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
                if smtp_password is not None:
                    # RFC 3207: upgrade to TLS before sending credentials.
                    smtp.ehlo()
                    smtp.starttls()
                    smtp.ehlo()
                    smtp.login(from_addr, smtp_password)
                # Bcc recipients are in the envelope only, never in a header.
                smtp.send_message(message, from_addr, to + cc + bcc)
        except (smtplib.SMTPException, OSError, ValueError) as error:
            raise ActionError(f"Failed to send an email message: {error}") from error

    def test(self, context: ActionContext, **action_input: Any) -> Any:
        return None
